package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/credtrail/credtrail/ingest"
	"github.com/credtrail/credtrail/queries"
	"github.com/credtrail/credtrail/report"
)

type analyzeOptions struct {
	casePath string
	flags    analyzeFlags
	engine   ingest.Options
}

// analyzeFlags are the window and thresholds of an analysis, shared by every
// command that analyzes (addAnalyzeFlags, then params).
type analyzeFlags struct {
	since, until, asOf      string
	keyMaxAge, unusedAfter  string
	allowedRegions, trusted []string
	trustedCIDRs            []string
	rules                   []string
}

func newAnalyzeCmd(s *streams) *cobra.Command {
	opts := &analyzeOptions{}
	cmd := &cobra.Command{
		Use:   "analyze CASE.duckdb",
		Short: "Run the finding rules over a case into its findings table",
		Long: `Run every rule of the catalogue (credtrail rules) over the case. The findings replace those
of the previous analysis in the table findings; the parameters used are recorded in
analysis_parameters. Times are RFC 3339 or YYYY-MM-DD (UTC). Credential ages are measured at
--as-of, by default the credential report's generation time, else the latest event: never the
wall clock, so the same evidence always gives the same answer.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.casePath = args[0]
			return runAnalyze(cmd, s, opts)
		},
	}
	addAnalyzeFlags(cmd, &opts.flags)
	addEngineFlags(cmd, &opts.engine)
	return cmd
}

func addAnalyzeFlags(cmd *cobra.Command, opts *analyzeFlags) {
	f := cmd.Flags()
	f.StringVar(&opts.since, "since", "", "start of the window (default: the first event)")
	f.StringVar(&opts.until, "until", "", "end of the window (default: the last event)")
	f.StringVar(&opts.asOf, "as-of", "", "time credential ages are measured at (default: the credential report's, else the last event's)")
	f.StringVar(&opts.keyMaxAge, "key-max-age", "90d", "age after which an active access key should have been rotated")
	f.StringVar(&opts.unusedAfter, "unused-after", "90d", "idle time after which a credential or role counts as unused (CIS 1.12 uses 45d)")
	f.StringSliceVar(&opts.allowedRegions, "allowed-regions", nil, "regions where activity is expected (default: regions with at least 1% of an account's events)")
	f.StringSliceVar(&opts.trusted, "trusted-accounts", nil, "accounts whose principals may assume roles here")
	f.StringSliceVar(&opts.trustedCIDRs, "trusted-cidrs", nil, "IPv4 networks console sign-ins and IAM changes are expected from")
	f.StringSliceVar(&opts.rules, "rules", nil, "run only these rules (ids from credtrail rules; default: all)")
}

func (o *analyzeFlags) params() (queries.Params, error) {
	var p queries.Params
	var err error
	for _, t := range []struct {
		flag, value string
		to          *time.Time
	}{{"--since", o.since, &p.Since}, {"--until", o.until, &p.Until}, {"--as-of", o.asOf, &p.AsOf}} {
		if t.value == "" {
			continue
		}
		if *t.to, err = parseTime(t.value); err != nil {
			return p, usageError{fmt.Errorf("%s: %w", t.flag, err)}
		}
	}
	if !p.Since.IsZero() && !p.Until.IsZero() && p.Until.Before(p.Since) {
		return p, usageError{fmt.Errorf("--since %s is after --until %s", o.since, o.until)}
	}
	if p.KeyMaxAgeDays, err = parseDays(o.keyMaxAge); err != nil {
		return p, usageError{fmt.Errorf("--key-max-age: %w", err)}
	}
	if p.UnusedAfterDays, err = parseDays(o.unusedAfter); err != nil {
		return p, usageError{fmt.Errorf("--unused-after: %w", err)}
	}
	for _, a := range o.trusted {
		if len(a) != 12 || strings.Trim(a, "0123456789") != "" {
			return p, usageError{fmt.Errorf("--trusted-accounts: %q is not a 12-digit account id", a)}
		}
	}
	for _, c := range o.trustedCIDRs {
		if !validCIDR(c) {
			return p, usageError{fmt.Errorf("--trusted-cidrs: %q is not an IPv4 address or network (a.b.c.d/n)", c)}
		}
	}
	for _, r := range o.allowedRegions {
		if !queries.KnownRegion(r) {
			return p, usageError{fmt.Errorf("--allowed-regions: %q is not an AWS region (such as us-east-1 or eu-west-2)", r)}
		}
	}
	if len(o.rules) > 0 {
		rules, err := queries.Rules()
		if err != nil {
			return p, err
		}
		for _, id := range o.rules {
			if !slices.ContainsFunc(rules, func(r queries.Rule) bool { return r.ID == id }) {
				return p, usageError{fmt.Errorf("--rules: no rule %q (credtrail rules lists them)", id)}
			}
		}
	}
	p.AllowedRegions, p.TrustedAccounts, p.TrustedCIDRs, p.Rules = o.allowedRegions, o.trusted, o.trustedCIDRs, o.rules
	return p, nil
}

func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid time %q (want RFC 3339 or YYYY-MM-DD)", s)
}

// parseDays reads a whole number of days: "90d" or "90".
func parseDays(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("invalid duration %q (want days, e.g. 90d)", s)
	}
	return n, nil
}

func validCIDR(c string) bool {
	addr, bits, hasBits := strings.Cut(c, "/")
	if hasBits {
		n, err := strconv.Atoi(bits)
		if err != nil || n < 0 || n > 32 {
			return false
		}
	}
	parts := strings.Split(addr, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 255 {
			return false
		}
	}
	return true
}

func runAnalyze(cmd *cobra.Command, s *streams, opts *analyzeOptions) error {
	p, err := opts.flags.params()
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	// Open would create a missing case; analyzing nothing is a mistake.
	if _, err := os.Stat(opts.casePath); err != nil {
		return fmt.Errorf("open case: %w", err)
	}
	c, err := ingest.Open(ctx, opts.casePath, opts.engine)
	if err != nil {
		return err
	}
	defer c.Close()
	sum, err := runAnalysis(ctx, s, c, p)
	if err != nil {
		return err
	}
	writeAnalyzeSummary(s.out, sum)
	rules, err := ruleCatalog()
	if err != nil {
		return err
	}
	r, err := report.Load(ctx, c.DB, report.Options{Rules: rules})
	if err != nil {
		return err
	}
	writeControlSummary(s.out, r)
	return nil
}

// runAnalysis runs the rules, showing on a terminal which one runs.
func runAnalysis(ctx context.Context, s *streams, c *ingest.Case, p queries.Params) (queries.Summary, error) {
	status := newStatusLine(s.err)
	defer status.done()
	p.Progress = stepProgress(status, "analyze")
	p.Log = s.log
	return queries.Run(ctx, c.DB, p)
}

func writeAnalyzeSummary(w io.Writer, sum queries.Summary) {
	p := sum.Params
	ts := func(t time.Time) string {
		if t.IsZero() {
			return "none"
		}
		return t.UTC().Format("2006-01-02 15:04:05")
	}
	fmt.Fprintf(w, "window: %s .. %s (UTC); as of %s\n", ts(p.Since), ts(p.Until), ts(p.AsOf))
	fmt.Fprintf(w, "thresholds: access keys rotated within %d days; credentials and roles unused after %d days", p.KeyMaxAgeDays, p.UnusedAfterDays)
	if p.UnusedAfterDays != 45 {
		fmt.Fprint(w, " (CIS 1.12 uses 45)")
	}
	fmt.Fprintln(w)
	for _, warning := range sum.Warnings {
		fmt.Fprintf(w, "note: %s\n", report.TerminalText(warning, 0))
	}
	fmt.Fprintf(w, "%d rules, %d findings:", sum.Rules, sum.Total)
	for _, sev := range queries.Severities {
		fmt.Fprintf(w, " %s %d", sev, sum.Counts[sev])
		if sev != queries.Severities[len(queries.Severities)-1] {
			fmt.Fprint(w, ",")
		}
	}
	fmt.Fprintln(w)
	if len(sum.Top) == 0 {
		return
	}
	fmt.Fprintln(w, "top findings:")
	for _, f := range sum.Top {
		subject := f.PrincipalARN
		if f.Resource != "" {
			if subject != "" {
				subject += " "
			}
			subject += f.Resource
		}
		fmt.Fprintf(w, "  %-8s %-38s %s\n", f.Severity, f.RuleID, report.TerminalText(subject, 120))
		fmt.Fprintf(w, "           %s\n", report.TerminalText(f.Detail, 200))
	}
	fmt.Fprintln(w, "all findings: credtrail query CASE \"select * from findings\"")
}
