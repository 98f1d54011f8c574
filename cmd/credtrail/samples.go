package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/credtrail/credtrail/samples"
)

func newSamplesCmd(s *streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "samples",
		Short: "Synthetic evidence cases with known findings",
	}
	cmd.AddCommand(newSamplesGenerateCmd(s))
	return cmd
}

func newSamplesGenerateCmd(s *streams) *cobra.Command {
	opts := samples.DefaultOptions()
	asOf := opts.AsOf.Format(time.RFC3339)
	cmd := &cobra.Command{
		Use:   "generate DIR",
		Short: "Write a realistic synthetic case with planted findings into DIR",
		Long: `Write a synthetic case into DIR: for each account a credential report (CSV and
get-credential-report JSON) and authorization details, an organization trail's
CloudTrail archive in the S3 key layout (AWSLogs/o-…/ACCOUNT/CloudTrail/…) with
digest files for one region, and DIR/expected.json, the findings a correct
analysis must report. The same flags give the same bytes.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := parseAsOf(asOf)
			if err != nil {
				return usageError{err}
			}
			opts.AsOf = t
			if err := opts.Validate(); err != nil {
				return usageError{err}
			}
			sum, err := samples.Generate(cmd.Context(), args[0], opts)
			if err != nil {
				return err
			}
			fmt.Fprintf(s.out, "wrote %s: %d CloudTrail events in %d log files, %d digest files, %d IAM exports of %d account(s), %.1f MB\nexpected findings: %s (%d facts)\n",
				args[0], sum.Events, sum.LogFiles, sum.DigestFiles, sum.IAMFiles, sum.Accounts, float64(sum.Bytes)/1e6, sum.ExpectedPath, sum.Facts)
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&opts.Accounts, "accounts", opts.Accounts, "accounts of the organization in the case")
	f.IntVar(&opts.Users, "users", opts.Users, "IAM users per account besides those of the planted stories")
	f.IntVar(&opts.Roles, "roles", opts.Roles, "roles per account besides those of the planted stories")
	f.IntVar(&opts.Days, "days", opts.Days, "days of CloudTrail, ending at --as-of")
	f.IntVar(&opts.EventsPerDay, "events-per-day", opts.EventsPerDay, "background CloudTrail events per account per day")
	f.Uint64Var(&opts.Seed, "seed", opts.Seed, "seed of everything random")
	f.StringVar(&asOf, "as-of", asOf, "end of the window and time of the IAM exports (RFC 3339, or YYYY-MM-DD for midnight UTC)")
	return cmd
}

func parseAsOf(v string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("--as-of %q is not an RFC 3339 time or a YYYY-MM-DD date", v)
}
