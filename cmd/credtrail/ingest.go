package main

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/credtrail/credtrail/ingest"
	"github.com/credtrail/credtrail/report"
)

type ingestOptions struct {
	casePath string
	paths    []string
	strict   bool
	engine   ingest.Options
	unpack   ingest.UnpackLimits
}

func newIngestCmd(s *streams) *cobra.Command {
	opts := &ingestOptions{}
	cmd := &cobra.Command{
		Use:   "ingest CASE.duckdb PATH...",
		Short: "Load credential reports, authorization details and CloudTrail archives into a case",
		Long: `Load evidence into a case database (created if needed). PATH may be files, folders
(walked) or .tar, .tar.gz, .tgz and .zip bundles. The kind of each file is read from its
content. Files already in the case (same SHA-256) and events already loaded are not loaded again.
A file that cannot be loaded is recorded as rejected with the reason; the rest still loads.`,
		Args: minArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.casePath, opts.paths = args[0], args[1:]
			return runIngest(cmd, s, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.strict, "strict", false, "exit 1 when any file is rejected")
	addEngineFlags(cmd, &opts.engine)
	addUnpackFlags(cmd, &opts.unpack)
	return cmd
}

// addUnpackFlags adds the limits on what bundles unpack, against archive bombs.
func addUnpackFlags(cmd *cobra.Command, u *ingest.UnpackLimits) {
	d := ingest.DefaultUnpackLimits
	var gib int64
	cmd.Flags().Int64Var(&gib, "max-unpack-gib", d.MaxBytes>>30, "GiB the bundles of one run may unpack to, together")
	cmd.Flags().Int64Var(&u.MaxRatio, "max-unpack-ratio", d.MaxRatio, "times its own size one bundle may unpack to")
	cmd.Flags().IntVar(&u.MaxDepth, "max-bundle-depth", d.MaxDepth, "bundles inside bundles that are unpacked")
	prev := cmd.PreRunE
	cmd.PreRunE = func(cmd *cobra.Command, args []string) error {
		if gib <= 0 || u.MaxRatio <= 0 || u.MaxDepth <= 0 {
			return usageError{errorf("--max-unpack-gib, --max-unpack-ratio and --max-bundle-depth take a number above 0")}
		}
		u.MaxBytes = gib << 30
		if prev != nil {
			return prev(cmd, args)
		}
		return nil
	}
}

// defaultMemoryLimit is DuckDB's limit unless --memory-limit says
// otherwise. DuckDB holds some memory outside its limit (0.3-0.45 GiB at
// 10M events, in ingest's JSON reading and in analyze's window functions),
// so this limit keeps every command within 1 GiB on a 10M-event case
// (docs/performance.md): at 600MB analyze peaked at 979 to 1,105 MiB.
const defaultMemoryLimit = "500MB"

func addEngineFlags(cmd *cobra.Command, o *ingest.Options) {
	o.MemoryLimit = defaultMemoryLimit
	cmd.Flags().Var(threadsFlag{&o.Threads}, "threads", "DuckDB threads (0: one per core)")
	cmd.Flags().Var(memoryLimitFlag{&o.MemoryLimit}, "memory-limit", "DuckDB memory limit, e.g. 512MB or 4GB (beyond it DuckDB spills to disk; the process takes up to about 0.35 GB more)")
}

// threadsFlag and memoryLimitFlag are checked as they are parsed, so that a
// bad value is a usage error of every command that takes them.
type threadsFlag struct{ n *int }

func (f threadsFlag) String() string { return strconv.Itoa(*f.n) }
func (f threadsFlag) Type() string   { return "int" }
func (f threadsFlag) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return fmt.Errorf("want a number of threads, 0 or more (0: one per core)")
	}
	*f.n = n
	return nil
}

type memoryLimitFlag struct{ s *string }

func (f memoryLimitFlag) String() string { return *f.s }
func (f memoryLimitFlag) Type() string   { return "size" }
func (f memoryLimitFlag) Set(s string) error {
	if err := ingest.CheckMemoryLimit(s); err != nil {
		return err
	}
	*f.s = s
	return nil
}

func runIngest(cmd *cobra.Command, s *streams, opts *ingestOptions) error {
	ctx := cmd.Context()
	if err := ingest.CheckPaths(opts.paths); err != nil {
		return err
	}
	c, err := ingest.Open(ctx, opts.casePath, opts.engine)
	if err != nil {
		return err
	}
	defer func() {
		start := time.Now()
		c.Close()
		s.log.Debug("case closed", "seconds", time.Since(start).Seconds())
	}()
	status := newStatusLine(s.err)
	outcomes, err := c.Ingest(ctx, opts.paths, ingest.IngestOptions{Log: s.log, Progress: ingestProgress(status), Unpack: opts.unpack, Run: s.runInfo()})
	status.done()
	if err != nil {
		return err
	}
	start := time.Now()
	sum, err := c.Summarize(ctx)
	if err != nil {
		return err
	}
	s.log.Debug("case summarized", "seconds", time.Since(start).Seconds())
	writeIngestSummary(s.out, outcomes, sum)
	return listRejected(s.err, outcomes, opts.strict)
}

// recognised counts the files of a known kind among outcomes. A bundle
// counts only when it was loaded whole before (it is then not unpacked
// again): a bundle of nothing known is nothing known.
func recognised(outcomes []ingest.FileOutcome) int {
	n := 0
	for _, o := range outcomes {
		if o.Kind != ingest.KindUnknown && (o.Kind != ingest.KindBundle || o.Status == ingest.StatusResubmitted) {
			n++
		}
	}
	return n
}

// listRejected warns on w when no file of a known kind was given, and lists
// the rejected files and the bundles read only in part with their reasons;
// with strict, any of them is an error (exit 1).
func listRejected(w io.Writer, outcomes []ingest.FileOutcome, strict bool) error {
	if recognised(outcomes) == 0 {
		fmt.Fprintf(w, "warning: no evidence recognised: none of the %d file(s) given is a credential report, authorization details, CloudTrail or another known kind; nothing was loaded\n", len(outcomes))
	}
	rejected, partial := 0, 0
	for _, o := range outcomes {
		switch o.Status {
		case ingest.StatusRejected:
			rejected++
		case ingest.StatusPartial:
			partial++
		}
	}
	if rejected+partial == 0 {
		return nil
	}
	what := fmt.Sprintf("%d file(s) rejected", rejected)
	if partial > 0 {
		what += fmt.Sprintf(", %d bundle(s) read only in part", partial)
	}
	fmt.Fprintf(w, "warning: %s:\n", what)
	for _, o := range outcomes {
		if o.Status == ingest.StatusRejected || o.Status == ingest.StatusPartial {
			fmt.Fprintf(w, "  %s: %s\n", report.TerminalText(o.Path, 0), report.TerminalText(o.Error, 0))
		}
	}
	if strict {
		return &exitCodeError{code: exitError, msg: what + " (--strict)"}
	}
	return nil
}

func writeIngestSummary(w io.Writer, outcomes []ingest.FileOutcome, sum *ingest.CaseSummary) {
	type key struct{ kind, status string }
	counts := map[key]int{}
	var records, dups int64
	for _, o := range outcomes {
		counts[key{o.Kind, o.Status}]++
		if o.Kind == ingest.KindBundle {
			continue // a bundle's records are those of its entries, counted with them
		}
		records += o.Records
		dups += o.Duplicates
	}
	keys := make([]key, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].kind != keys[j].kind {
			return keys[i].kind < keys[j].kind
		}
		return keys[i].status < keys[j].status
	})
	fmt.Fprintf(w, "files this run: %d\n", len(outcomes))
	if recognised(outcomes) == 0 {
		fmt.Fprintln(w, "  no file of a known kind: nothing was loaded")
	}
	for _, k := range keys {
		fmt.Fprintf(w, "  %-22s %-11s %d\n", k.kind, k.status, counts[k])
	}
	fmt.Fprintf(w, "records read this run: %d (%d already in the case)\n", records, dups)
	fmt.Fprintf(w, "case: %d files, %d events, %d insights events\n", sum.Files, sum.Events, sum.Insights)
	if sum.Conflicts > 0 {
		fmt.Fprintf(w, "  %d events have conflicting copies (table conflicting_events; finding evidence_conflict)\n", sum.Conflicts)
	}
	if sum.Events > 0 {
		fmt.Fprintf(w, "  accounts: %s\n", report.TerminalText(strings.Join(sum.Accounts, ", "), 0))
		fmt.Fprintf(w, "  regions:  %s\n", report.TerminalText(strings.Join(sum.Regions, ", "), 0))
		fmt.Fprintf(w, "  span:     %s .. %s (UTC)\n", sum.First.UTC().Format("2006-01-02 15:04:05"), sum.Last.UTC().Format("2006-01-02 15:04:05"))
	}
}
