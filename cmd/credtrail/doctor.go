package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/credtrail/credtrail/ingest"
	"github.com/credtrail/credtrail/report"
)

func newDoctorCmd(s *streams) *cobra.Command {
	return &cobra.Command{
		Use:   "doctor CASE.duckdb",
		Short: "Check a case and say what to do about each problem",
		Long: `Check a case without changing it: its schema version against this credtrail's, rows that
name evidence files the case does not hold, files recorded as loaded whose rows are missing,
evidence files whose SHA-256 on disk no longer matches the case (where the recorded path still
leads to a plain file; bundle entries are checked through their bundle), scratch folders left by
stopped runs, and a write-ahead log left by a run that did not close the case.
Exit 0 when the case is healthy, 1 when a problem was found (or the case could not be examined).`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			up, err := ingest.Doctor(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			problems := writeCheckup(s.out, up)
			if problems > 0 {
				return &exitCodeError{code: exitError, msg: fmt.Sprintf("%d problem(s) found", problems)}
			}
			return nil
		},
	}
}

// writeCheckup prints each check, its problems with what to do, and its
// notes; it returns the number of problems.
func writeCheckup(w io.Writer, up *ingest.Checkup) int {
	problems := 0
	for _, ch := range up.Checks {
		state := "ok"
		if len(ch.Problems) > 0 {
			state = "PROBLEM"
		}
		fmt.Fprintf(w, "%-17s %s\n", ch.Name, state)
		for _, p := range ch.Problems {
			problems++
			fmt.Fprintf(w, "  problem: %s\n", report.TerminalText(p.What, 0))
			fmt.Fprintf(w, "  do:      %s\n", report.TerminalText(p.Do, 0))
		}
		for _, n := range ch.Notes {
			fmt.Fprintf(w, "  note:    %s\n", report.TerminalText(n, 0))
		}
	}
	if problems == 0 {
		fmt.Fprintln(w, "healthy")
	}
	return problems
}
