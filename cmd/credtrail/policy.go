package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/credtrail/credtrail/ingest"
	"github.com/credtrail/credtrail/queries"
	"github.com/credtrail/credtrail/report"
)

type policyOptions struct {
	casePath, principal, outDir string
	all, includeIncident        bool
	engine                      ingest.Options
}

func newPolicyCmd(s *streams) *cobra.Command {
	opts := &policyOptions{}
	cmd := &cobra.Command{
		Use:   "policy CASE.duckdb (--principal ARN | --all -o DIR)",
		Short: "Print the least-privilege policy generated from what a principal used",
		Long: `Print the IAM policy that credtrail analyze generated for a user or role: the actions its
successful CloudTrail calls in the analysis window used that its current policies allow,
one statement per service, actions sorted; resources are those the calls named where every
call of an action named them, else "*". It is a starting point for review, not a drop-in
replacement: actions CloudTrail does not log (most data events unless enabled) are missing.
The calls that back a high or critical finding (the events its evidence names: an
attacker's StopLogging, a bulk download) are left out unless --include-incident-activity;
stderr lists them. A user or role the authorization details lack gets a policy of every
action it used, not checked against a grant; stderr says so.
--principal prints one policy; --all -o DIR writes one file per principal into DIR, and
beside each policy that has notes a NAME.notes.txt with them.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.casePath = args[0]
			return runPolicy(cmd, s, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.principal, "principal", "", "ARN of the user or role whose policy to print")
	f.BoolVar(&opts.all, "all", false, "write the policy of every principal with one (needs -o)")
	f.StringVarP(&opts.outDir, "output", "o", "", "folder to write the policies into, with --all")
	f.BoolVar(&opts.includeIncident, "include-incident-activity", false, "keep the calls that back high or critical findings in the policy")
	addEngineFlags(cmd, &opts.engine)
	return cmd
}

func runPolicy(cmd *cobra.Command, s *streams, opts *policyOptions) error {
	switch {
	case opts.principal == "" && !opts.all:
		return usageError{errorf("give --principal ARN or --all -o DIR")}
	case opts.principal != "" && opts.all:
		return usageError{errorf("--principal and --all exclude each other")}
	case opts.all && opts.outDir == "":
		return usageError{errorf("--all needs -o DIR")}
	case !opts.all && opts.outDir != "":
		return usageError{errorf("-o goes with --all")}
	}
	ctx := cmd.Context()
	c, err := ingest.OpenReadOnly(ctx, opts.casePath, opts.engine)
	if err != nil {
		return err
	}
	defer c.Close()
	pols, err := queries.GeneratedPolicies(ctx, c.DB, opts.principal, opts.includeIncident)
	if err != nil {
		return err
	}
	for _, p := range pols {
		if p.Size > queries.ManagedPolicyMaxSize {
			fmt.Fprintf(s.err, "warning: the policy of %s has %d characters, over the %d of an IAM managed policy: split it (one policy per service)\n",
				p.PrincipalARN, p.Size, queries.ManagedPolicyMaxSize)
		}
	}
	if !opts.all {
		if notes := policyNotes(pols[0]); notes != "" {
			fmt.Fprint(s.err, notes)
		}
		_, err := s.out.Write(pols[0].Document)
		return err
	}
	if err := os.MkdirAll(opts.outDir, 0o755); err != nil {
		return fmt.Errorf("create policy folder: %w", err)
	}
	taken := map[string]bool{}
	noted := 0
	for _, p := range pols {
		name := queries.PolicyFileName(p.PrincipalARN, taken)
		path := filepath.Join(opts.outDir, name)
		if err := os.WriteFile(path, p.Document, 0o644); err != nil {
			return fmt.Errorf("write policy of %s: %w", p.PrincipalARN, err)
		}
		if notes := policyNotes(p); notes != "" {
			notesPath := strings.TrimSuffix(path, ".json") + ".notes.txt"
			if err := os.WriteFile(notesPath, []byte(notes), 0o644); err != nil {
				return fmt.Errorf("write notes of %s: %w", p.PrincipalARN, err)
			}
			noted++
		}
	}
	fmt.Fprintf(s.err, "%d policies written to %s", len(pols), opts.outDir)
	if noted > 0 {
		fmt.Fprintf(s.err, "; %d with notes (incident activity left out or included, or built from use alone): see the .notes.txt files", noted)
	}
	fmt.Fprintln(s.err)
	return nil
}

// policyNotes says what a reader of a generated policy must know besides
// it: the calls behind high or critical findings it leaves out (or holds),
// and whether it comes from use alone. Empty when there is nothing to say.
func policyNotes(p queries.GeneratedPolicy) string {
	var b strings.Builder
	arn := report.TerminalText(p.PrincipalARN, 300)
	if p.UseOnly {
		fmt.Fprintf(&b, "note: %s: the authorization details in the case do not hold this principal: its policy is built from its use alone "+
			"(every action it called successfully) and is not checked against what its policies grant\n", arn)
	}
	if len(p.Incident) > 0 {
		var calls int64
		for _, c := range p.Incident {
			calls += c.Events
		}
		if p.IncidentActivity {
			fmt.Fprintf(&b, "note: %s: this policy includes %d call(s) that back high or critical findings (--include-incident-activity):\n", arn, calls)
		} else {
			fmt.Fprintf(&b, "note: %s: %d call(s) that back high or critical findings are left out of this policy "+
				"(--include-incident-activity keeps them):\n", arn, calls)
		}
		for _, c := range p.Incident {
			state := ": not in the policy"
			switch {
			case p.IncidentActivity:
				state = ""
			case c.InPolicy:
				state = ": in the policy anyway (also used outside the incident)"
			}
			fmt.Fprintf(&b, "  %-8s %s (finding %s): %s, %d call(s)%s\n", c.Severity, report.TerminalText(c.RuleID, 80),
				report.TerminalText(c.FindingID, 40), report.TerminalText(c.Action, 120), c.Events, state)
		}
	}
	return b.String()
}
