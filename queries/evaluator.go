package queries

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"strings"
)

// evaluatorSQL builds the policy evaluator every rule that asks "may P do
// A on R" uses: iam_principals, iam_statements, the table macro iam_decide
// and iam_administrators (see the file's header for the interface).
//
//go:embed analysis/evaluator.sql
var evaluatorSQL string

// evaluatorTemps are the temporary tables evaluatorSQL leaves behind.
var evaluatorTemps = []string{"iam_eval_time", "iam_condition_states", "iam_principals", "iam_statements",
	"iam_bounded", "iam_admin_requests", "iam_administrators"}

// runEvaluator builds the evaluator inside the analysis transaction, after
// the parameters and macros exist and before the rules run.
func runEvaluator(ctx context.Context, tx *sql.Tx) error {
	return runStatements(ctx, tx, "policy evaluator", evaluatorSQL)
}

// dropEvaluator drops the evaluator's temporary tables after the rules.
func dropEvaluator(ctx context.Context, tx *sql.Tx) error {
	for _, t := range evaluatorTemps {
		if _, err := tx.ExecContext(ctx, "drop table if exists temp."+t); err != nil {
			return fmt.Errorf("policy evaluator: drop %s: %w", t, err)
		}
	}
	return nil
}

// Request asks whether a principal may do an action on a resource: Action a
// name (iam:PassRole) or "*" for every action; Resource an ARN, an ARN
// pattern for every resource it matches ("*": every resource), or "" for
// "at least one resource".
type Request struct {
	PrincipalARN, Action, Resource string
}

// Decision is the evaluator's answer to one Request.
type Decision struct {
	Request
	Decision string // allowed, conditional (allowed only under a Condition), denied
	Reason   string // for denied: explicit_deny, not_allowed, outside_boundary
	// The statements that decided it, as policy_ref#statement_index.
	AllowedBy, BoundaryBy, DeniedBy, ConditionalBy []string
}

// Decide evaluates requests against the policies of the case with the
// evaluator the rules use, with conditions judged at p.AsOf (zero: as the
// analysis would). It changes nothing in the case.
func Decide(ctx context.Context, db *sql.DB, p Params, reqs []Request) ([]Decision, error) {
	p.fill()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	// Everything below is temporary or rolled back: the case is left as it was.
	defer tx.Rollback()
	var sum Summary
	if err := resolveDefaults(ctx, tx, &p, &sum); err != nil {
		return nil, err
	}
	if err := writeParams(ctx, tx, p, nil); err != nil {
		return nil, err
	}
	if err := runEvaluator(ctx, tx); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, "create or replace temp table iam_requests (principal_arn varchar, action varchar, resource varchar)"); err != nil {
		return nil, fmt.Errorf("policy evaluator: %w", err)
	}
	for _, r := range reqs {
		var res any
		if r.Resource != "" {
			res = r.Resource
		}
		if _, err := tx.ExecContext(ctx, "insert into iam_requests values (?, ?, ?)", r.PrincipalARN, r.Action, res); err != nil {
			return nil, fmt.Errorf("policy evaluator: %w", err)
		}
	}
	rows, err := tx.QueryContext(ctx, `select principal_arn, action, coalesce(resource, ''), decision, coalesce(reason, ''),
		array_to_string(allowed_by, chr(10)), array_to_string(boundary_by, chr(10)),
		array_to_string(denied_by, chr(10)), array_to_string(conditional_by, chr(10))
		from iam_decide('iam_requests') order by principal_arn, action, resource`)
	if err != nil {
		return nil, fmt.Errorf("policy evaluator: %w", err)
	}
	defer rows.Close()
	var out []Decision
	for rows.Next() {
		var d Decision
		var a, b, dn, c string
		if err := rows.Scan(&d.PrincipalARN, &d.Action, &d.Resource, &d.Decision, &d.Reason, &a, &b, &dn, &c); err != nil {
			return nil, fmt.Errorf("policy evaluator: %w", err)
		}
		d.AllowedBy, d.BoundaryBy, d.DeniedBy, d.ConditionalBy = refList(a), refList(b), refList(dn), refList(c)
		out = append(out, d)
	}
	return out, rows.Err()
}

// refList splits a list of statement refs joined by newlines.
func refList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
