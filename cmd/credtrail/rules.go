package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/credtrail/credtrail/queries"
)

type rulesOptions struct {
	verbose bool
}

func newRulesCmd(s *streams) *cobra.Command {
	opts := &rulesOptions{}
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "List the finding rules: id, severity, controls, title",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRules(s, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.verbose, "long", false, "also print each rule's rationale and remediation")
	return cmd
}

func runRules(s *streams, opts *rulesOptions) error {
	rules, err := queries.Rules()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(s.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSEVERITY\tCONTROLS\tTITLE")
	for _, r := range rules {
		controls := strings.Join(r.Controls, ", ")
		if controls == "" {
			controls = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.ID, r.Severity, controls, r.Title)
		if opts.verbose {
			fmt.Fprintf(tw, "\t\t\trationale: %s\n\t\t\tremediation: %s\n", r.Rationale, r.Remediation)
		}
	}
	return tw.Flush()
}
