package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/credtrail/credtrail/ingest"
	"github.com/credtrail/credtrail/report"
)

type verifyOptions struct {
	casePath string
	paths    []string
	verbose  bool
	engine   ingest.Options
}

func newVerifyCmd(s *streams) *cobra.Command {
	opts := &verifyOptions{}
	cmd := &cobra.Command{
		Use:   "verify (CASE.duckdb [PATH...] | PATH...)",
		Short: "Validate CloudTrail log integrity offline: digest chain, signatures, log file hashes",
		Long: `Validate downloaded CloudTrail logs the way aws cloudtrail validate-logs does online, without
the network: each digest file's SHA-256 against the next digest's previousDigestHashValue and its
signature against the public keys of an aws cloudtrail list-public-keys export; every log file a
digest lists against the SHA-256 of its uncompressed bytes; breaks in the digest chains; log files
that no digest covers; digests and log files a digest names that the evidence lacks.
Given a case, the digests, keys and log files are those ingested; the log files are read again
where they were ingested from, or found by name in the PATHs given after the case. Given only
PATHs (files, folders, bundles), they are ingested into a temporary case first. The results go
into the case's log_validation table (a case only).
Exit status: 0 when everything checked is valid, 3 when any file is modified or missing, 1 on
error, 2 on usage.`,
		Args: minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if ingest.IsDuckDBFile(args[0]) {
				opts.casePath, opts.paths = args[0], args[1:]
			} else {
				opts.paths = args
			}
			return runVerify(cmd, s, opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.verbose, "verbose", "v", false, "list every digest and log file, not only those that are not valid")
	addEngineFlags(cmd, &opts.engine)
	return cmd
}

func runVerify(cmd *cobra.Command, s *streams, opts *verifyOptions) error {
	ctx := cmd.Context()
	if err := ingest.CheckPaths(opts.paths); err != nil {
		return err
	}
	casePath := opts.casePath
	if casePath == "" {
		dir, err := os.MkdirTemp("", "credtrail-verify-*")
		if err != nil {
			return fmt.Errorf("temporary case: %w", err)
		}
		defer os.RemoveAll(dir)
		casePath = filepath.Join(dir, "verify.duckdb")
		c, err := ingest.Open(ctx, casePath, opts.engine)
		if err != nil {
			return err
		}
		outcomes, err := c.Ingest(ctx, opts.paths, ingest.IngestOptions{Log: s.log})
		c.Close()
		if err != nil {
			return err
		}
		if err := listRejected(s.err, outcomes, false); err != nil {
			return err
		}
	}
	c, err := ingest.Open(ctx, casePath, opts.engine)
	if err != nil {
		return err
	}
	defer c.Close()
	results, err := c.Verify(ctx, opts.paths)
	if err != nil {
		return err
	}
	if bad := writeVerifySummary(s.out, results, opts.verbose); bad > 0 {
		return &exitCodeError{code: exitFindings, msg: fmt.Sprintf("%d file(s) modified or missing", bad)}
	}
	return nil
}

// writeVerifySummary prints counts by kind and status, then the rows that
// are not valid (all rows with verbose); it returns how many are modified
// or missing.
func writeVerifySummary(w io.Writer, results []ingest.LogValidation, verbose bool) int {
	counts := map[string]map[string]int{}
	bad := 0
	for _, r := range results {
		if counts[r.Kind] == nil {
			counts[r.Kind] = map[string]int{}
		}
		counts[r.Kind][r.Status]++
		if r.Status == ingest.ValidationModified || r.Status == ingest.ValidationMissing {
			bad++
		}
	}
	statuses := []string{ingest.ValidationValid, ingest.ValidationModified, ingest.ValidationMissing, ingest.ValidationNotVerified, ingest.ValidationNotCovered, ingest.ValidationGap}
	for _, k := range []struct{ kind, title string }{{"digest", "digest files"}, {"log_file", "log files"}, {"chain", "chain breaks"}} {
		if len(counts[k.kind]) == 0 {
			continue
		}
		fmt.Fprintf(w, "%-13s", k.title+":")
		for _, st := range statuses {
			if n := counts[k.kind][st]; n > 0 {
				fmt.Fprintf(w, " %s %d", st, n)
			}
		}
		fmt.Fprintln(w)
	}
	if len(results) == 0 {
		fmt.Fprintln(w, "no CloudTrail digest or log file in the evidence: nothing to validate")
		return 0
	}
	quiet := map[string]int{}
	for _, r := range results {
		if !verbose && (r.Status == ingest.ValidationValid || r.Status == ingest.ValidationNotCovered || r.Status == ingest.ValidationNotVerified) {
			if r.Status != ingest.ValidationValid {
				quiet[r.Status]++
			}
			continue
		}
		where := r.Path
		if where == "" {
			where = r.Object
		}
		fmt.Fprintf(w, "%-12s %-9s %s\n", r.Status, r.Kind, report.TerminalText(where, 200))
		if r.Detail != "" {
			fmt.Fprintf(w, "             %s\n", report.TerminalText(r.Detail, 300))
		}
	}
	if n := quiet[ingest.ValidationNotVerified]; n > 0 {
		fmt.Fprintf(w, "%d file(s) could not be checked (the newest digest of a chain, a missing public key, or a file not reachable): -v lists them\n", n)
	}
	if n := quiet[ingest.ValidationNotCovered]; n > 0 {
		fmt.Fprintf(w, "%d log file(s) are listed by no digest of the case: -v lists them\n", n)
	}
	if bad == 0 {
		fmt.Fprintln(w, "no file modified or missing")
	}
	return bad
}
