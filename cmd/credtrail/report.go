package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/credtrail/credtrail/ingest"
	"github.com/credtrail/credtrail/queries"
	"github.com/credtrail/credtrail/report"
)

// Output formats of report and run.
const formatXLSX = "xlsx"

// reportFlags are the output flags report and run share.
type reportFlags struct {
	out          string
	format       string
	tables       bool
	failOn       string
	failOnNew    bool
	baseline     string
	suppressions string
	asOf         string
	maxRows      int
	timeline     string
}

// addReportFlags adds the report's flags; withAsOf false leaves --as-of to
// the analysis (credtrail run), whose as-of time the report then takes.
func addReportFlags(cmd *cobra.Command, o *reportFlags, withAsOf bool) {
	f := cmd.Flags()
	f.StringVarP(&o.out, "output", "o", "", "output file, its format named by its extension: the workbook (.xlsx), or the findings (.jsonl, .csv); with --tables, a directory")
	f.StringVar(&o.format, "format", formatXLSX, "xlsx (the workbook), jsonl (one finding per line) or csv; without -o, the findings go to stdout")
	f.BoolVar(&o.tables, "tables", false, "with --format jsonl|csv: also write the main tables, one file each, into the -o directory")
	f.StringVar(&o.failOn, "fail-on", "", "exit 3 when a finding at or above this severity (critical, high, medium, low, info) is not suppressed")
	f.BoolVar(&o.failOnNew, "fail-on-new", false, "with --baseline: count only findings new since the baseline for --fail-on")
	f.StringVar(&o.baseline, "baseline", "", "findings JSON lines of an earlier run: mark each finding new or unchanged, list the resolved ones")
	f.StringVar(&o.suppressions, "suppressions", "", `JSON file of accepted risks: {"suppressions":[{"finding_id"|"rule_id"+"subject", "reason", "expires": "YYYY-MM-DD"}]}`)
	if withAsOf {
		f.StringVar(&o.asOf, "as-of", "", "the time the report speaks for (RFC 3339; default: the analysis as-of time, else the newest evidence)")
	}
	f.StringVar(&o.timeline, "timeline", "", "add the Actor Timeline sheet: every event of this access key or principal ARN, following the credentials it minted (credtrail timeline)")
	f.IntVar(&o.maxRows, "max-rows", 0, "rows per sheet at most (default: as many as Excel holds); longer sheets are cut with a note")
	_ = f.MarkHidden("max-rows")
}

// check validates the flags before any work is done. The format of an
// output file is the one its extension names; formatSet says --format was
// given, which must then agree with it.
func (o *reportFlags) check(formatSet bool) error {
	switch o.format {
	case formatXLSX, report.FormatJSONL, report.FormatCSV:
	default:
		return usageError{errorf("unknown --format %q (xlsx, jsonl or csv)", o.format)}
	}
	if o.out != "" && !o.tables {
		ext := strings.ToLower(filepath.Ext(o.out))
		byExt := strings.TrimPrefix(ext, ".")
		switch {
		case ext == ".json":
			return usageError{errorf("-o %s: findings are written as JSON lines, one per line: name the file .jsonl", o.out)}
		case byExt != formatXLSX && byExt != report.FormatJSONL && byExt != report.FormatCSV:
			return usageError{errorf("-o %s: the extension names the format: use .xlsx (workbook), .jsonl or .csv", o.out)}
		case formatSet && byExt != o.format:
			return usageError{errorf("--format %s does not match -o %s: give one of them, or make them agree", o.format, o.out)}
		}
		o.format = byExt
	}
	if o.timeline != "" && o.format != formatXLSX {
		return usageError{errorf("--timeline adds a sheet to the workbook: write an .xlsx (credtrail timeline prints it as csv or jsonl)")}
	}
	switch o.format {
	case formatXLSX:
		if o.out == "" {
			return usageError{errorf("the workbook needs -o FILE.xlsx")}
		}
		if o.tables {
			return usageError{errorf("--tables needs --format jsonl or csv")}
		}
	case report.FormatJSONL, report.FormatCSV:
		if o.tables && o.out == "" {
			return usageError{errorf("--tables needs -o DIRECTORY")}
		}
	}
	if o.failOn != "" {
		sev, err := report.ParseSeverity(o.failOn)
		if err != nil {
			return usageError{fmt.Errorf("--fail-on: %w", err)}
		}
		o.failOn = sev
	}
	if o.failOnNew && o.baseline == "" {
		return usageError{errorf("--fail-on-new needs --baseline")}
	}
	if o.asOf != "" {
		if _, err := time.Parse(time.RFC3339, o.asOf); err != nil {
			return usageError{fmt.Errorf("--as-of: %w", err)}
		}
	}
	return nil
}

type reportOptions struct {
	casePath string
	flags    reportFlags
	engine   ingest.Options
}

func newReportCmd(s *streams) *cobra.Command {
	opts := &reportOptions{}
	cmd := &cobra.Command{
		Use:   "report CASE.duckdb -o case.xlsx",
		Short: "Write the workbook, or the findings as JSON lines or CSV",
		Long: `Write the case as an Excel workbook (Summary, Findings, Root Activity, Credentials, Unused
Permissions, Principals, Policies, Timeline, Evidence, Method), or the findings as JSON lines or CSV
for machines (--format; --tables adds the main tables). The same case and flags give the same bytes.
--fail-on SEVERITY exits 3 when a finding at or above it is neither suppressed nor, with
--fail-on-new, already in the --baseline.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.casePath = args[0]
			if err := opts.flags.check(cmd.Flags().Changed("format")); err != nil {
				return err
			}
			return runReport(cmd.Context(), s, opts)
		},
	}
	addReportFlags(cmd, &opts.flags, true)
	addEngineFlags(cmd, &opts.engine)
	return cmd
}

func runReport(ctx context.Context, s *streams, opts *reportOptions) error {
	c, err := ingest.OpenReadOnly(ctx, opts.casePath, opts.engine)
	if err != nil {
		return err
	}
	written, err := writeReport(ctx, s, c.DB, &opts.flags)
	c.Close()
	if len(written) > 0 {
		// The case is read only while the report is written; its hashes are
		// recorded after, in a short write.
		rc, oerr := ingest.Open(ctx, opts.casePath, opts.engine)
		if oerr != nil {
			fmt.Fprintf(s.err, "warning: output hashes not recorded in the case: %v\n", oerr)
			return err
		}
		defer rc.Close()
		recordOutputs(ctx, s, rc, written)
	}
	return err
}

// recordOutputs records the files a report wrote in the case and prints
// their SHA-256, for whoever receives them to check.
func recordOutputs(ctx context.Context, s *streams, c *ingest.Case, written []string) {
	outs, err := c.RecordOutputs(ctx, written, version)
	if err != nil {
		fmt.Fprintf(s.err, "warning: output hashes not recorded in the case: %v\n", err)
	}
	printOutputHashes(s, outs)
}

func printOutputHashes(s *streams, outs []ingest.ReportOutput) {
	for _, o := range outs {
		fmt.Fprintf(s.err, "sha256 %s  %s\n", o.SHA256, report.TerminalText(o.Path, 300))
	}
}

// writeReport writes the outputs the flags ask for and applies --fail-on;
// it returns the files it wrote, also when --fail-on makes it an error.
func writeReport(ctx context.Context, s *streams, db *sql.DB, o *reportFlags) ([]string, error) {
	ropts := report.Options{Version: version, MaxRows: o.maxRows, BaselinePath: o.baseline, SuppressionsPath: o.suppressions}
	if o.asOf != "" {
		ropts.AsOf, _ = time.Parse(time.RFC3339, o.asOf)
	}
	var err error
	if o.baseline != "" {
		if ropts.Baseline, err = report.ReadBaseline(o.baseline); err != nil {
			return nil, err
		}
	}
	if o.suppressions != "" {
		if ropts.Suppressions, err = report.ReadSuppressions(o.suppressions); err != nil {
			return nil, err
		}
	}
	if ropts.Rules, err = ruleCatalog(); err != nil {
		return nil, err
	}
	if o.timeline != "" {
		actor := queries.Actor{AccessKeys: []string{o.timeline}}
		if strings.HasPrefix(o.timeline, "arn:") {
			actor = queries.Actor{Principals: []string{o.timeline}}
		}
		tl, err := queries.NewTimeline(ctx, db, actor)
		if err != nil {
			return nil, err
		}
		ropts.ActorTimeline = &report.ActorTimeline{Actor: describeActor(actor), Notes: timelineNotes(tl),
			Rows: func(ctx context.Context) (report.RowSource, error) { return tl.Rows(ctx, db, false) }}
	}
	status := newStatusLine(s.err)
	defer status.done()
	status.show("report: reading the case", true)
	ropts.Progress = stepProgress(status, "report")
	r, err := report.Load(ctx, db, ropts)
	status.done()
	if err != nil {
		return nil, err
	}
	writeControlSummary(s.err, r)
	var written []string
	switch {
	case o.format == formatXLSX:
		err := r.WriteFile(ctx, o.out)
		status.done()
		if err != nil {
			return nil, err
		}
		written = append(written, o.out)
		fmt.Fprintf(s.err, "workbook written to %s (%d findings)\n", o.out, len(r.Findings))
		for _, c := range r.Cut() {
			fmt.Fprintf(s.err, "warning: sheet cut at the row limit: %s (every row: --format jsonl --tables)\n", c)
		}
	case o.tables:
		paths, err := r.WriteTables(ctx, o.out, o.format)
		if err != nil {
			return nil, err
		}
		written = append(written, paths...)
		fmt.Fprintf(s.err, "%d files written to %s\n", len(paths), o.out)
	case o.out == "":
		if err := r.WriteFindings(s.out, o.format); err != nil {
			return nil, err
		}
	default:
		if err := report.WriteFileAtomic(o.out, func(w io.Writer) error { return r.WriteFindings(w, o.format) }); err != nil {
			return nil, err
		}
		written = append(written, o.out)
	}
	if o.failOn == "" {
		return written, nil
	}
	if n := r.FailCount(o.failOn, o.failOnNew); n > 0 {
		what := "finding(s)"
		if o.failOnNew {
			what = "new finding(s)"
		}
		return written, &exitCodeError{code: exitFindings, msg: fmt.Sprintf("%d %s at or above %s (--fail-on)", n, what, o.failOn)}
	}
	return written, nil
}

// ruleCatalog hands the findings pack's rule metadata to the report, which
// does not import queries.
func ruleCatalog() ([]report.Rule, error) {
	rules, err := queries.Rules()
	if err != nil {
		return nil, err
	}
	out := make([]report.Rule, len(rules))
	for i, r := range rules {
		out[i] = report.Rule{ID: r.ID, Title: r.Title, Severity: r.Severity, Controls: r.Controls, Remediation: r.Remediation, Attack: r.AttackText()}
	}
	return out, nil
}

// writeControlSummary tells, per account, how many controls pass, fail or
// are not assessed, and what the not-assessed ones lack.
func writeControlSummary(w io.Writer, r *report.Report) {
	switch {
	case !r.ControlCatalog():
		return
	case !r.Analysed():
		fmt.Fprintln(w, "controls: not assessed (the case has not been analysed)")
		return
	case len(r.Accounts()) == 0:
		fmt.Fprintln(w, "controls: not assessed (the case holds no evidence)")
		return
	}
	byAccount := map[string][]report.ControlStatus{}
	for _, cs := range r.Controls() {
		byAccount[cs.AccountID] = append(byAccount[cs.AccountID], cs)
	}
	for _, account := range r.Accounts() {
		counts := map[string]int{}
		var why []string
		missing := map[string][]string{}
		for _, cs := range byAccount[account] {
			counts[cs.Status]++
			if cs.Status == report.ControlNotAssessed {
				text := cs.MissingText()
				if _, ok := missing[text]; !ok {
					why = append(why, text)
				}
				missing[text] = append(missing[text], cs.Control)
			}
		}
		fmt.Fprintf(w, "controls of account %s: %d pass, %d fail, %d not assessed\n", account,
			counts[report.ControlPass], counts[report.ControlFail], counts[report.ControlNotAssessed])
		for _, text := range why {
			fmt.Fprintf(w, "  not assessed (%s): %s\n", text, strings.Join(missing[text], ", "))
		}
	}
}
