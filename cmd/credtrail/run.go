package main

import (
	"context"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/credtrail/credtrail/ingest"
)

type runOptions struct {
	casePath string
	paths    []string
	flags    reportFlags
	engine   ingest.Options
}

func newRunCmd(s *streams) *cobra.Command {
	opts := &runOptions{}
	cmd := &cobra.Command{
		Use:   "run -o case.xlsx PATH...",
		Short: "Ingest, analyze and report in one go",
		Long: `Load PATH... into a case, analyze it and write the report: the common path.
The case database is kept beside the output (case.xlsx → case.duckdb) unless --case names one;
running again on the same inputs loads nothing twice. Report flags are those of credtrail report.`,
		Args: minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.paths = args
			if err := opts.flags.check(); err != nil {
				return err
			}
			if opts.casePath == "" {
				if opts.flags.out == "" {
					return usageError{errorf("--case is needed when the findings go to stdout")}
				}
				opts.casePath = caseBeside(opts.flags.out, opts.flags.tables)
			}
			return runRun(cmd.Context(), s, opts)
		},
	}
	cmd.Flags().StringVar(&opts.casePath, "case", "", "the case database (default: beside the output, named after it)")
	addReportFlags(cmd, &opts.flags)
	addEngineFlags(cmd, &opts.engine)
	return cmd
}

// caseBeside names the case database after the output: out/case.xlsx →
// out/case.duckdb; a --tables directory DIR → DIR/case.duckdb.
func caseBeside(out string, dir bool) string {
	if dir {
		return filepath.Join(out, "case.duckdb")
	}
	return strings.TrimSuffix(out, filepath.Ext(out)) + ".duckdb"
}

func runRun(ctx context.Context, s *streams, opts *runOptions) error {
	c, err := ingest.Open(ctx, opts.casePath, opts.engine)
	if err != nil {
		return err
	}
	defer c.Close()
	bar := newProgress(s.err, "ingest")
	outcomes, err := c.Ingest(ctx, opts.paths, ingest.IngestOptions{Log: s.log, Progress: bar.update})
	bar.done()
	if err != nil {
		return err
	}
	sum, err := c.Summarize(ctx)
	if err != nil {
		return err
	}
	// stdout may carry the findings: the ingest summary goes to stderr.
	writeIngestSummary(s.err, outcomes, sum)

	// ANALYZE (issue #4): when package queries lands, run the query pack here,
	// the one call site between ingest and report:
	//	if err := queries.Run(ctx, c.DB, opts.analyze); err != nil { return err }
	// Until then the report shows the findings already in the case.

	return writeReport(ctx, s, c.DB, &opts.flags)
}
