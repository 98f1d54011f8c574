package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/credtrail/credtrail/ingest"
	"github.com/credtrail/credtrail/report"
)

type caseInitOptions struct {
	casePath, name, examiner string
	engine                   ingest.Options
}

func newCaseCmd(s *streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "case",
		Short: "Case metadata for the chain of custody",
	}
	opts := &caseInitOptions{}
	initCmd := &cobra.Command{
		Use:   "init CASE.duckdb --name NAME --examiner NAME",
		Short: "Create a case (or update an existing one) with its name and examiner",
		Long: `Store the case's name and the examiner's name in the case, for the chain of custody: the
manifest and the workbook show them. The case is created when it does not exist yet.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.casePath = args[0]
			if opts.name == "" && opts.examiner == "" {
				return usageError{errorf("give --name or --examiner")}
			}
			c, err := ingest.Open(cmd.Context(), opts.casePath, opts.engine)
			if err != nil {
				return err
			}
			defer c.Close()
			meta := map[string]string{}
			if opts.name != "" {
				meta["case_name"] = opts.name
			}
			if opts.examiner != "" {
				meta["examiner"] = opts.examiner
			}
			return c.SetCaseMeta(cmd.Context(), meta)
		},
	}
	initCmd.Flags().StringVar(&opts.name, "name", "", "the case's name or reference")
	initCmd.Flags().StringVar(&opts.examiner, "examiner", "", "the examiner's name")
	addEngineFlags(initCmd, &opts.engine)
	cmd.AddCommand(initCmd)
	return cmd
}

type manifestOptions struct {
	casePath string
	check    []string
	engine   ingest.Options
}

func newManifestCmd(s *streams) *cobra.Command {
	opts := &manifestOptions{}
	cmd := &cobra.Command{
		Use:   "manifest CASE.duckdb [--check PATH...]",
		Short: "List the evidence of a case with its SHA-256, or check it where it lies now",
		Long: `Print every evidence file of the case (file id, SHA-256, bytes, kind, status, when it was
ingested, path) after the case's metadata, and last the SHA-256 of the lines above it: a second
examiner who runs manifest on the same case gets the same lines and the same hash.
With --check PATH..., hash the files under those paths and report, for each evidence file,
whether it is there with the same bytes, changed, or not found, and which files there the
case does not hold. Exit status 3 when any evidence file is changed or not found.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.casePath = args[0]
			return runManifest(cmd, s, opts)
		},
	}
	cmd.Flags().StringArrayVar(&opts.check, "check", nil, "a file or folder where the evidence lies now (repeatable)")
	addEngineFlags(cmd, &opts.engine)
	return cmd
}

func runManifest(cmd *cobra.Command, s *streams, opts *manifestOptions) error {
	ctx := cmd.Context()
	if err := ingest.CheckPaths(opts.check); err != nil {
		return err
	}
	c, err := ingest.OpenReadOnly(ctx, opts.casePath, opts.engine)
	if err != nil {
		return err
	}
	defer c.Close()
	entries, err := c.Manifest(ctx)
	if err != nil {
		return err
	}
	if len(opts.check) == 0 {
		meta, err := c.CaseMeta(ctx)
		if err != nil {
			return err
		}
		runs, err := c.IngestRuns(ctx)
		if err != nil {
			return err
		}
		sum, err := ingest.WriteManifest(s.out, meta, runs, entries)
		if err != nil {
			return err
		}
		fmt.Fprintf(s.out, "# sha256 of the manifest above: %s\n", sum)
		return nil
	}
	checks, err := ingest.CheckManifest(ctx, entries, opts.check)
	if err != nil {
		return err
	}
	counts := map[string]int{}
	for _, ch := range checks {
		counts[ch.Status]++
		switch ch.Status {
		case ingest.CheckChanged:
			fmt.Fprintf(s.out, "changed      %s: evidence %d (%s) was %s, %s is %s\n", report.TerminalText(ch.Found, 200), ch.Entry.FileID,
				report.TerminalText(ch.Entry.Path, 200), ch.Entry.SHA256, report.TerminalText(ch.Found, 200), ch.SHA256)
		case ingest.CheckNotFound:
			fmt.Fprintf(s.out, "not found    evidence %d %s (%s)\n", ch.Entry.FileID, report.TerminalText(ch.Entry.Path, 200), ch.Entry.SHA256)
		case ingest.CheckExtra:
			fmt.Fprintf(s.out, "not in case  %s (%s)\n", report.TerminalText(ch.Found, 200), ch.SHA256)
		}
	}
	fmt.Fprintf(s.out, "%d evidence file(s) the same, %d changed, %d not found; %d file(s) there the case does not hold\n",
		counts[ingest.CheckSame], counts[ingest.CheckChanged], counts[ingest.CheckNotFound], counts[ingest.CheckExtra])
	if bad := counts[ingest.CheckChanged] + counts[ingest.CheckNotFound]; bad > 0 {
		return &exitCodeError{code: exitFindings, msg: fmt.Sprintf("%d evidence file(s) changed or not found", bad)}
	}
	return nil
}
