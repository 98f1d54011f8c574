package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/credtrail/credtrail/ingest"
	"github.com/credtrail/credtrail/queries"
)

type policyOptions struct {
	casePath, principal, outDir string
	all                         bool
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
--principal prints one policy; --all -o DIR writes one file per principal into DIR.`,
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
	pols, err := queries.GeneratedPolicies(ctx, c.DB, opts.principal)
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
		_, err := s.out.Write(pols[0].Document)
		return err
	}
	if err := os.MkdirAll(opts.outDir, 0o755); err != nil {
		return fmt.Errorf("create policy folder: %w", err)
	}
	taken := map[string]bool{}
	for _, p := range pols {
		path := filepath.Join(opts.outDir, queries.PolicyFileName(p.PrincipalARN, taken))
		if err := os.WriteFile(path, p.Document, 0o644); err != nil {
			return fmt.Errorf("write policy of %s: %w", p.PrincipalARN, err)
		}
	}
	fmt.Fprintf(s.err, "%d policies written to %s\n", len(pols), opts.outDir)
	return nil
}
