package queries

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"slices"
	"strings"
)

// escalationTSV is the table of privilege-escalation methods: the one place
// they are listed (see its header for the columns).
//
//go:embed escalation_methods.tsv
var escalationTSV string

// escalationSQL finds, with the policy evaluator, which principal can do
// which method on which target (esc_edges), and escalationPathsSQL the path
// each principal that is no administrator has to one (esc_paths), which
// the privilege-escalation rules read.
//
//go:embed analysis/escalation.sql
var escalationSQL string

//go:embed analysis/escalation_paths.sql
var escalationPathsSQL string

// EscalationMethod is one row of the method table.
type EscalationMethod struct {
	Method   string
	Sources  []string // rhino, cloudsplaining, pmapper
	Caller   string   // any, user, role
	Target   string   // user, role, group, or "" (none)
	Gains    string   // admin, target
	Service  string   // the service principal a target role must trust, or ""
	Profile  bool     // the target role needs an instance profile
	Requires []Requirement
}

// Requirement is one action a method needs and the resource it needs it on:
// self, own_group, own_policy, target, target_policy or any.
type Requirement struct {
	Action, Resource string
}

var (
	escalationCallers   = []string{"any", "user", "role"}
	escalationTargets   = []string{"-", "user", "role", "group"}
	escalationGains     = []string{"admin", "target"}
	escalationResources = []string{"self", "own_group", "own_policy", "target", "target_policy", "any"}
	escalationSources   = []string{"rhino", "cloudsplaining", "pmapper"}
)

// EscalationMethods parses the method table.
func EscalationMethods() ([]EscalationMethod, error) {
	var out []EscalationMethod
	seen := map[string]bool{}
	header := false
	for i, line := range strings.Split(escalationTSV, "\n") {
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		pos := fmt.Sprintf("escalation_methods.tsv: line %d", i+1)
		f := strings.Split(line, "\t")
		if len(f) != 7 {
			return nil, fmt.Errorf("%s: %d fields, want 7", pos, len(f))
		}
		if !header {
			header = true
			continue
		}
		m := EscalationMethod{Method: f[0], Sources: strings.Split(f[1], ","), Caller: f[2], Target: f[3], Gains: f[4]}
		if seen[m.Method] {
			return nil, fmt.Errorf("%s: method %s listed twice", pos, m.Method)
		}
		seen[m.Method] = true
		for _, s := range m.Sources {
			if !slices.Contains(escalationSources, s) {
				return nil, fmt.Errorf("%s: unknown source %q", pos, s)
			}
		}
		if !slices.Contains(escalationCallers, m.Caller) || !slices.Contains(escalationTargets, m.Target) || !slices.Contains(escalationGains, m.Gains) {
			return nil, fmt.Errorf("%s: caller %q, target %q or gains %q is not one of %v, %v, %v", pos, m.Caller, m.Target, m.Gains,
				escalationCallers, escalationTargets, escalationGains)
		}
		if m.Target == "-" {
			m.Target = ""
		}
		if m.Gains == "target" && m.Target == "" {
			return nil, fmt.Errorf("%s: gains target without a target", pos)
		}
		if f[5] != "-" {
			m.Service, m.Profile = strings.TrimSuffix(f[5], "+"), strings.HasSuffix(f[5], "+")
			if m.Target != "role" {
				return nil, fmt.Errorf("%s: a service for a target that is no role", pos)
			}
		}
		for _, r := range strings.Fields(f[6]) {
			action, res, ok := strings.Cut(r, "@")
			if !ok || !strings.Contains(action, ":") || !slices.Contains(escalationResources, res) {
				return nil, fmt.Errorf("%s: requirement %q is not service:Action@resource with resource one of %v", pos, r, escalationResources)
			}
			if strings.HasPrefix(res, "target") && m.Target == "" {
				return nil, fmt.Errorf("%s: requirement %q on a target, but the method has none", pos, r)
			}
			m.Requires = append(m.Requires, Requirement{Action: action, Resource: res})
		}
		if len(m.Requires) == 0 {
			return nil, fmt.Errorf("%s: no requirements", pos)
		}
		out = append(out, m)
	}
	return out, nil
}

// escalationTemps are the temporary tables runEscalation leaves behind.
var escalationTemps = []string{"esc_methods", "esc_requirements", "esc_callers", "esc_roles", "esc_any_requests", "esc_any",
	"esc_candidates", "esc_choices", "esc_decisions", "esc_trust", "esc_satisfied", "esc_edges", "esc_group_admin",
	"esc_reach", "esc_group_escalates", "esc_paths"}

// maxEscalationHops bounds the role chains followed.
const maxEscalationHops = 6

// runEscalation loads the method table and builds esc_edges and esc_paths,
// after the evaluator.
func runEscalation(ctx context.Context, tx *sql.Tx) error {
	methods, err := EscalationMethods()
	if err != nil {
		return err
	}
	for _, q := range []string{
		`create or replace temp table esc_methods (method varchar, sources varchar[], caller varchar, target varchar,
			gains varchar, service varchar, profile boolean)`,
		`create or replace temp table esc_requirements (method varchar, action varchar, resource_kind varchar)`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("escalation methods: %w", err)
		}
	}
	for _, m := range methods {
		if _, err := tx.ExecContext(ctx, "insert into esc_methods values (?, ?::varchar[], ?, nullif(?, ''), ?, nullif(?, ''), ?)",
			m.Method, "["+strings.Join(m.Sources, ",")+"]", m.Caller, m.Target, m.Gains, m.Service, m.Profile); err != nil {
			return fmt.Errorf("escalation method %s: %w", m.Method, err)
		}
		for _, r := range m.Requires {
			if _, err := tx.ExecContext(ctx, "insert into esc_requirements values (?, ?, ?)", m.Method, r.Action, r.Resource); err != nil {
				return fmt.Errorf("escalation method %s: %w", m.Method, err)
			}
		}
	}
	if err := runStatements(ctx, tx, "escalation paths", escalationSQL); err != nil {
		return err
	}
	// Breadth first, one hop per round, keeping per start and node the best
	// path: unconditional before conditional, shorter before longer, then
	// by its text, so the same case always gives the same path.
	for hop := 2; hop <= maxEscalationHops; hop++ {
		res, err := tx.ExecContext(ctx, `insert into esc_reach
			with step as (
			    select r.start, e.target as node, e.admin, r.conditional or e.conditional as conditional, r.hops + 1 as hops,
			           list_append(r.path, {'from': e.caller, 'method': e.method, 'to': e.target, 'conditional': e.conditional,
			                                'policy_statements': e.statements}) as path
			    from esc_reach r
			    join esc_edges e on e.caller = r.node
			    where r.hops = ? and not r.admin
			      and e.target is distinct from r.start
			      and not exists (select 1 from esc_reach x where x.start = r.start and x.node is not distinct from e.target and x.admin = e.admin)
			)
			select start, node, admin, conditional, hops, path from step
			qualify row_number() over (partition by start, node, admin order by conditional, path::varchar) = 1`, hop-1)
		if err != nil {
			return fmt.Errorf("escalation paths, hop %d: %w", hop, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			break
		}
	}
	return runStatements(ctx, tx, "escalation paths", escalationPathsSQL)
}

// dropEscalation drops the temporary tables of runEscalation.
func dropEscalation(ctx context.Context, tx *sql.Tx) error {
	for _, t := range escalationTemps {
		if _, err := tx.ExecContext(ctx, "drop table if exists temp."+t); err != nil {
			return fmt.Errorf("escalation paths: drop %s: %w", t, err)
		}
	}
	return nil
}
