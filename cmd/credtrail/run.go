package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/credtrail/credtrail/ingest"
)

type runOptions struct {
	casePath string
	paths    []string
	strict   bool
	analyze  analyzeFlags
	flags    reportFlags
	engine   ingest.Options
	unpack   ingest.UnpackLimits
}

func newRunCmd(s *streams) *cobra.Command {
	opts := &runOptions{}
	cmd := &cobra.Command{
		Use:   "run -o case.xlsx PATH...",
		Short: "Ingest, analyze and report in one go",
		Long: `Load PATH... into a case, analyze it and write the report: the common path.
The case database is kept beside the output (case.xlsx → case.duckdb) unless --case names one;
running again on the same inputs loads nothing twice. Analysis flags are those of credtrail
analyze, report flags those of credtrail report; the report speaks as of the analysis --as-of.`,
		Args: minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.paths = args
			if err := opts.flags.check(cmd.Flags().Changed("format")); err != nil {
				return err
			}
			if _, err := opts.analyze.params(); err != nil { // usage errors before any work
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
	cmd.Flags().BoolVar(&opts.strict, "strict", false, "exit 1 when any file is rejected, before analyzing")
	cmd.Flags().StringVar(&opts.casePath, "case", "", "the case database (default: beside the output, named after it)")
	addAnalyzeFlags(cmd, &opts.analyze)
	addReportFlags(cmd, &opts.flags, false)
	addEngineFlags(cmd, &opts.engine)
	addUnpackFlags(cmd, &opts.unpack)
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
	params, err := opts.analyze.params()
	if err != nil {
		return err
	}
	if err := ingest.CheckPaths(opts.paths); err != nil {
		return err
	}
	// run makes the folders of its outputs, as a user naming a new one expects.
	for _, p := range []string{opts.casePath, opts.flags.out} {
		if dir := filepath.Dir(p); p != "" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("create folder %s: %w", dir, err)
			}
		}
	}
	c, err := ingest.Open(ctx, opts.casePath, opts.engine)
	if err != nil {
		return err
	}
	defer c.Close()
	status := newStatusLine(s.err)
	outcomes, err := c.Ingest(ctx, opts.paths, ingest.IngestOptions{Log: s.log, Progress: ingestProgress(status), Unpack: opts.unpack, Run: s.runInfo()})
	status.done()
	if err != nil {
		return err
	}
	sum, err := c.Summarize(ctx)
	if err != nil {
		return err
	}
	// stdout may carry the findings: the summaries go to stderr.
	writeIngestSummary(s.err, outcomes, sum)
	if err := listRejected(s.err, outcomes, opts.strict); err != nil {
		var ec *exitCodeError
		if errors.As(err, &ec) {
			ec.msg += "; nothing analyzed, the case keeps what loaded"
		}
		return err
	}
	// Digests in the evidence are checked before the analysis, whose
	// log_file_integrity rule (CIS 3.2) reads the result.
	if sum.Digests > 0 {
		results, err := c.Verify(ctx, opts.paths)
		if err != nil {
			return err
		}
		fmt.Fprintln(s.err, "log file validation (credtrail verify):")
		writeVerifySummary(s.err, results, false)
	}
	analysis, err := runAnalysis(ctx, s, c, params)
	if err != nil {
		return err
	}
	writeAnalyzeSummary(s.err, analysis)
	written, err := writeReport(ctx, s, c.DB, &opts.flags)
	if len(written) > 0 {
		recordOutputs(ctx, s, c, written)
	}
	return err
}
