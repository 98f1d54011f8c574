package main

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/credtrail/credtrail/queries"
	"github.com/credtrail/credtrail/report"
)

type rulesOptions struct {
	verbose bool
}

// rulesWidth is the terminal width the rules list fits.
const rulesWidth = 100

func newRulesCmd(s *streams) *cobra.Command {
	opts := &rulesOptions{}
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "List the finding rules: id, severity, title (--long: controls, inputs, rationale, remediation)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRules(s, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.verbose, "long", false, "also print each rule's controls, the inputs it needs, ATT&CK techniques, rationale and remediation")
	return cmd
}

// runRules lists the rules in lines of at most rulesWidth columns: a title
// that does not fit is cut with "…"; --long gives it whole with the rest.
func runRules(s *streams, opts *rulesOptions) error {
	rules, err := queries.Rules()
	if err != nil {
		return err
	}
	idWidth := len("ID")
	for _, r := range rules {
		idWidth = max(idWidth, utf8.RuneCountInString(r.ID))
	}
	sevWidth := len("SEVERITY")
	titleWidth := max(rulesWidth-idWidth-sevWidth-4, 10)
	line := func(id, sev, title string) {
		fmt.Fprintf(s.out, "%-*s  %-*s  %s\n", idWidth, id, sevWidth, sev, title)
	}
	if !opts.verbose {
		line("ID", "SEVERITY", "TITLE")
		for _, r := range rules {
			line(r.ID, r.Severity, report.TerminalText(r.Title, titleWidth))
		}
		return nil
	}
	for i, r := range rules {
		if i > 0 {
			fmt.Fprintln(s.out)
		}
		fmt.Fprintf(s.out, "%s (%s)\n", r.ID, r.Severity)
		field := func(name, value string) {
			if value == "" {
				return
			}
			if name != "" {
				value = name + ": " + value
			}
			for _, l := range wrapText(value, rulesWidth-4) {
				fmt.Fprintf(s.out, "    %s\n", l)
			}
		}
		field("", r.Title)
		field("controls", strings.Join(r.Controls, ", "))
		field("needs", strings.Join(r.Needs, ", "))
		field("att&ck", r.AttackText())
		field("rationale", r.Rationale)
		field("remediation", r.Remediation)
	}
	return nil
}

// wrapText breaks text into lines of at most width runes at spaces; a word
// longer than width stays whole on its own line.
func wrapText(text string, width int) []string {
	var lines []string
	var cur strings.Builder
	n := 0
	for _, w := range strings.Fields(text) {
		wl := utf8.RuneCountInString(w)
		if n > 0 && n+1+wl > width {
			lines = append(lines, cur.String())
			cur.Reset()
			n = 0
		}
		if n > 0 {
			cur.WriteByte(' ')
			n++
		}
		cur.WriteString(w)
		n += wl
	}
	if n > 0 {
		lines = append(lines, cur.String())
	}
	return lines
}
