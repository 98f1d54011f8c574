package queries

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// usageSQL builds permission_usage: granted versus used per user and role
// (issue #5). The rules unused_services, unused_actions,
// permission_used_not_granted and no_cloudtrail_coverage read what it
// writes. policiesSQL then builds generated_policies from its temporary
// tables and the findings of the rules.
//
//go:embed analysis/permission_usage.sql
var usageSQL string

//go:embed analysis/generated_policies.sql
var policiesSQL string

// usageTemps are the temporary tables usageSQL and policiesSQL leave behind;
// usageViews their views.
var (
	usageTemps = []string{"pu_principals", "pu_statements", "pu_bounded", "pu_patterns",
		"pu_used", "pu_used_grants", "pu_catalog", "pu_catalog_candidates", "pu_catalog_grants", "pu_activity",
		"gp_incident", "gp_used", "gp_pairs", "gp_granted"}
	usageViews = []string{"pu_calls"}
)

// runUsage runs usageSQL statement by statement inside the analysis
// transaction, after the parameters and macros exist.
func runUsage(ctx context.Context, tx *sql.Tx) error {
	return runStatements(ctx, tx, "permission usage", usageSQL)
}

// runPolicies runs policiesSQL after the rules, then drops the temporary
// tables of both.
func runPolicies(ctx context.Context, tx *sql.Tx) error {
	if err := runStatements(ctx, tx, "generated policies", policiesSQL); err != nil {
		return err
	}
	for _, t := range usageViews {
		if _, err := tx.ExecContext(ctx, "drop view if exists temp."+t); err != nil {
			return fmt.Errorf("permission usage: drop %s: %w", t, err)
		}
	}
	for _, t := range append(usageTemps, riskTemps...) {
		if _, err := tx.ExecContext(ctx, "drop table if exists temp."+t); err != nil {
			return fmt.Errorf("permission usage: drop %s: %w", t, err)
		}
	}
	return nil
}

// runStatements runs a file of statements separated by lines holding only ';'.
func runStatements(ctx context.Context, tx *sql.Tx, what, file string) error {
	for i, stmt := range strings.Split(file, "\n;\n") {
		if strings.TrimSpace(stripComments(stmt)) == "" {
			continue
		}
		start := time.Now()
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("%s, statement %d (%s): %w", what, i+1, firstCodeLine(stmt), err)
		}
		stepLog(ctx).Debug("analysis statement", "of", what, "statement", firstCodeLine(stmt), "seconds", time.Since(start).Seconds(), "peak_mib", peakMiB())
	}
	return nil
}

// stripComments drops the -- comment lines of a statement.
func stripComments(stmt string) string {
	var b strings.Builder
	for _, l := range strings.Split(stmt, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "--") {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// firstCodeLine names a statement in an error: its first line that is not a comment.
func firstCodeLine(stmt string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(stripComments(stmt)), "\n")
	return l
}

// GeneratedPolicy is the least-privilege policy the analysis built for one
// user or role from the actions it used that its policies grant (or, when
// the authorization details lack it, from its use alone).
type GeneratedPolicy struct {
	PrincipalARN, AccountID string
	// IncidentActivity: built with the events that back high or critical
	// findings; without them otherwise (the default).
	IncidentActivity bool
	// UseOnly: the authorization details do not hold the principal, so the
	// policy is every action it used, not checked against a grant.
	UseOnly  bool
	Actions  int    // actions the policy allows
	Document []byte // the policy JSON, indented
	Size     int    // characters without white space, as IAM counts them
	// Incident lists the principal's successful calls that back high or
	// critical findings, per finding and action: left out of the policy
	// unless IncidentActivity.
	Incident []IncidentCalls
}

// IncidentCalls are the successful calls of one action by a principal that
// one high or critical finding names in its evidence.
type IncidentCalls struct {
	FindingID string `json:"finding_id"`
	RuleID    string `json:"rule_id"`
	Severity  string `json:"severity"`
	Action    string `json:"action"`
	Events    int64  `json:"events"`
	// InPolicy: the action is in the policy built without incident activity
	// anyway, because the principal also used it outside the incident.
	InPolicy bool `json:"in_policy"`
}

// ManagedPolicyMaxSize is IAM's limit on a managed policy document, in
// characters without white space (IAM and AWS STS quotas).
const ManagedPolicyMaxSize = 6144

// GeneratedPolicies returns the generated policy of principal, or of every
// principal when principal is empty, in ARN order: built without the events
// that back high or critical findings, or with them when includeIncident. A
// principal without one is an error that says why: not in the case, no
// activity in the window, only incident activity, or no analysis run yet.
func GeneratedPolicies(ctx context.Context, db *sql.DB, principal string, includeIncident bool) ([]GeneratedPolicy, error) {
	var analysed bool
	if err := db.QueryRowContext(ctx, "select exists (select 1 from analysis_parameters)").Scan(&analysed); err != nil {
		return nil, fmt.Errorf("read analysis parameters: %w", err)
	}
	if !analysed {
		return nil, fmt.Errorf("the case has not been analysed: run credtrail analyze on it first")
	}
	rows, err := db.QueryContext(ctx, `select principal_arn, coalesce(account_id, ''), basis = 'use', actions, policy::varchar, excluded::varchar
		from generated_policies where incident_activity = ? and (? = '' or principal_arn = ?) order by principal_arn`,
		includeIncident, principal, principal)
	if err != nil {
		return nil, fmt.Errorf("read generated policies: %w", err)
	}
	defer rows.Close()
	var out []GeneratedPolicy
	for rows.Next() {
		p := GeneratedPolicy{IncidentActivity: includeIncident}
		var doc, excluded string
		if err := rows.Scan(&p.PrincipalARN, &p.AccountID, &p.UseOnly, &p.Actions, &doc, &excluded); err != nil {
			return nil, fmt.Errorf("read generated policies: %w", err)
		}
		if err := json.Unmarshal([]byte(excluded), &p.Incident); err != nil {
			return nil, fmt.Errorf("incident activity of %s: %w", p.PrincipalARN, err)
		}
		p.Size = len(strings.Join(strings.Fields(doc), ""))
		var b bytes.Buffer
		if err := json.Indent(&b, []byte(doc), "", "  "); err != nil {
			return nil, fmt.Errorf("generated policy of %s: %w", p.PrincipalARN, err)
		}
		b.WriteByte('\n')
		p.Document = b.Bytes()
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read generated policies: %w", err)
	}
	if principal != "" && len(out) == 0 {
		return nil, noPolicyReason(ctx, db, principal, includeIncident)
	}
	return out, nil
}

// noPolicyReason explains why principal has no generated policy.
func noPolicyReason(ctx context.Context, db *sql.DB, principal string, includeIncident bool) error {
	var known, active, other bool
	err := db.QueryRowContext(ctx, `with w as (
		    select max(value) filter (where name = 'since')::timestamptz as since,
		           max(value) filter (where name = 'until')::timestamptz as until
		    from analysis_parameters)
		select exists (select 1 from iam_users where arn = $1) or exists (select 1 from iam_roles where arn = $1),
		       exists (select 1 from events e, w where e.principal_arn = $1 and e.event_time between w.since and w.until),
		       exists (select 1 from generated_policies where principal_arn = $1 and incident_activity <> $2)`,
		principal, includeIncident).Scan(&known, &active, &other)
	if err != nil {
		return fmt.Errorf("look up %s: %w", principal, err)
	}
	switch {
	case other && !includeIncident:
		return fmt.Errorf("no generated policy for %s: every successful call it made in the window backs a high or critical finding; "+
			"--include-incident-activity builds the policy with them", principal)
	case !known && !active:
		return fmt.Errorf("no generated policy for %s: no user or role of the authorization details has that ARN and it has no CloudTrail activity in the analysis window", principal)
	case !active:
		return fmt.Errorf("no generated policy for %s: it has no CloudTrail activity in the analysis window (no evidence of use)", principal)
	case !known:
		return fmt.Errorf("no generated policy for %s: none of its CloudTrail calls in the window succeeded with an action that needs a permission", principal)
	default:
		return fmt.Errorf("no generated policy for %s: none of its successful calls in the window is granted by its policies", principal)
	}
}

var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9+=,.@_-]+`)

// PolicyFileName is the file name of a principal's generated policy:
// ACCOUNT_TYPE_PATH_NAME.json, every character outside IAM's name alphabet
// (the slashes of paths included) replaced by '_', so an ARN never becomes
// a path. Names that would collide get a hash of the ARN.
func PolicyFileName(arn string, taken map[string]bool) string {
	rest := arn
	if i := strings.LastIndex(arn, ":"); i >= 0 {
		rest = arn[i+1:]
	}
	parts := strings.Split(arn, ":")
	account := "unknown"
	if len(parts) > 4 && parts[4] != "" {
		account = parts[4]
	}
	name := unsafeFileChars.ReplaceAllString(account+"_"+rest, "_")
	if taken[name] {
		sum := sha256.Sum256([]byte(arn))
		name += "_" + hex.EncodeToString(sum[:4])
	}
	if taken != nil {
		taken[name] = true
	}
	return name + ".json"
}
