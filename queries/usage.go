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

// usageDaysSQL defines the per-day usage aggregate that usageSQL and
// policiesSQL read (foldUsageDays, usageWindow).
//
//go:embed analysis/usage_days.sql
var usageDaysSQL string

// usageTemps are the temporary tables usageSQL and policiesSQL leave behind.
var (
	usageTemps = []string{"pu_principals", "pu_statements", "pu_bounded", "pu_patterns",
		"pu_used", "pu_used_grants", "pu_catalog", "pu_catalog_candidates", "pu_catalog_grants", "pu_activity",
		"gp_incident", "gp_incident_calls", "gp_touched", "gp_clean", "gp_used", "gp_pairs", "gp_granted",
		"usage_days_now", "usage_refold", "usage_window_calls", "usage_window_activity"}
)

// runUsage brings the per-day usage aggregate up to date, gathers the
// window's part of it, then runs usageSQL statement by statement inside the
// analysis transaction, after the parameters and macros exist. Without
// aggregate (a test's reference), the whole window is folded from events.
func runUsage(ctx context.Context, tx *sql.Tx, aggregate bool) error {
	// folded by another definition: made again, and every day refolded
	var version sql.NullString
	if err := tx.QueryRowContext(ctx, "select max(value) from case_meta where key = 'usage_fold_version'").Scan(&version); err != nil {
		return fmt.Errorf("usage days: read the last fold: %w", err)
	}
	if version.String != usageFoldVersion() {
		for _, t := range []string{"usage_days", "usage_calls", "usage_activity"} {
			if _, err := tx.ExecContext(ctx, "drop table if exists "+t); err != nil {
				return fmt.Errorf("usage days: drop %s: %w", t, err)
			}
		}
	}
	if err := runStatements(ctx, tx, "usage days", usageDaysSQL); err != nil {
		return err
	}
	start := time.Now()
	folded := 0
	if aggregate {
		var err error
		if folded, err = foldUsageDays(ctx, tx); err != nil {
			return err
		}
	}
	whole, edges, err := usageWindow(ctx, tx, aggregate)
	if err != nil {
		return err
	}
	stepLog(ctx).Debug("usage days", "days_folded", folded, "days_from_aggregate", whole, "spans_from_events", edges,
		"seconds", time.Since(start).Seconds(), "peak_mib", peakMiB())
	return runStatements(ctx, tx, "permission usage", usageSQL)
}

// usageFoldVersion names the definition of the per-day fold: the fold of a
// case made by another definition is refolded whole.
func usageFoldVersion() string {
	h := sha256.New()
	h.Write([]byte(usageDaysSQL))
	for _, m := range macros {
		if strings.Contains(m, "macro is_denied(") {
			h.Write([]byte(m))
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// foldDays is the most days one pass of the fold reads.
const foldDays = 7

// foldUsageDays refolds the days of usage_days whose events changed since
// the last fold, and returns how many: the days never folded, the days
// holding events of files loaded since (a kept copy of an event replaced by
// a copy from a new file is a change even where the day's count is not),
// and the days whose count or first or last event differ from the stored
// ones (events removed as duplicates of a new copy). A day that no longer
// has events is removed.
func foldUsageDays(ctx context.Context, tx *sql.Tx) (int, error) {
	// the days of a fold by another definition were dropped by runUsage
	var fileID sql.NullInt64
	if err := tx.QueryRowContext(ctx, "select max(value)::bigint from case_meta where key = 'usage_fold_file_id'").Scan(&fileID); err != nil {
		return 0, fmt.Errorf("usage days: read the last fold: %w", err)
	}
	stmts := []struct {
		what, sql string
		args      []any
	}{
		{"find the days to refold", `create or replace temp table usage_refold as
			select n.day from usage_days_now n left join usage_days d using (day)
			where d.day is null or d.events <> n.events or d.first_event <> n.first_event or d.last_event <> n.last_event
			union
			select usage_day(event_time) from events where file_id > $1
			union
			select day from usage_days anti join usage_days_now using (day)`, []any{fileID.Int64}},
		{"clear the days to refold", `delete from usage_calls where day in (select day from usage_refold)`, nil},
		{"clear the days to refold", `delete from usage_activity where day in (select day from usage_refold)`, nil},
		{"clear the days to refold", `delete from usage_days where day in (select day from usage_refold)`, nil},
		{"record the days", `insert into usage_days select n.day, n.events, n.first_event, n.last_event
			from usage_days_now n semi join usage_refold using (day)`, nil},
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s.sql, s.args...); err != nil {
			return 0, fmt.Errorf("usage days: %s: %w", s.what, err)
		}
	}
	// each run of consecutive days is folded in passes over its events of
	// at most foldDays days: what one pass holds grows with its days
	_, folded, err := foldSpans(ctx, tx, "usage days: runs of days", "usage_calls", "usage_activity", `with days as (
		    select day, day - (row_number() over (order by day))::integer as run
		    from usage_refold semi join usage_days_now using (day)),
		passes as (
		    select day, run, (row_number() over (partition by run order by day) - 1) // $1 as pass from days)
		select min(day)::timestamptz, (max(day) + 1)::timestamptz, count(*) from passes group by run, pass order by 1`, foldDays)
	if err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `insert or replace into case_meta
		select 'usage_fold_version', ?
		union all
		select 'usage_fold_file_id', coalesce(max(file_id), 0)::varchar from evidence_files`, usageFoldVersion()); err != nil {
		return 0, fmt.Errorf("usage days: record the fold: %w", err)
	}
	return folded, nil
}

// foldSpan folds the calls and the activity from lo (inclusive) to hi
// (exclusive) into the two tables.
func foldSpan(ctx context.Context, tx *sql.Tx, calls, activity string, lo, hi time.Time) error {
	start := time.Now()
	if _, err := tx.ExecContext(ctx, "insert into "+calls+" select * from usage_fold($1::timestamptz, $2::timestamptz)", lo, hi); err != nil {
		return fmt.Errorf("usage days: fold the calls from %s to %s: %w", lo.Format(time.RFC3339Nano), hi.Format(time.RFC3339Nano), err)
	}
	if _, err := tx.ExecContext(ctx, "insert into "+activity+" select * from usage_activity_fold($1::timestamptz, $2::timestamptz)", lo, hi); err != nil {
		return fmt.Errorf("usage days: fold the activity from %s to %s: %w", lo.Format(time.RFC3339Nano), hi.Format(time.RFC3339Nano), err)
	}
	stepLog(ctx).Debug("usage fold", "into", calls, "from", lo, "to", hi, "seconds", time.Since(start).Seconds(), "peak_mib", peakMiB())
	return nil
}

// foldSpans folds into the two tables every span spansSQL yields as (lo,
// hi, days), and returns how many spans and days it folded; what names the
// query in errors.
func foldSpans(ctx context.Context, tx *sql.Tx, what, calls, activity, spansSQL string, args ...any) (spans, days int, err error) {
	rows, err := tx.QueryContext(ctx, spansSQL, args...)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w", what, err)
	}
	var found [][2]time.Time
	for rows.Next() {
		var s [2]time.Time
		var n int
		if err := rows.Scan(&s[0], &s[1], &n); err != nil {
			rows.Close()
			return 0, 0, fmt.Errorf("%s: %w", what, err)
		}
		found = append(found, s)
		days += n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, fmt.Errorf("%s: %w", what, err)
	}
	// folded once the rows are read: the transaction runs one statement at a time
	for _, s := range found {
		if err := foldSpan(ctx, tx, calls, activity, s[0], s[1]); err != nil {
			return 0, 0, err
		}
	}
	return len(found), days, nil
}

// usageWindow fills usage_window_calls and usage_window_activity with the
// window's per-day folds: from the aggregate, every day whose events all lie
// in the window; folded from events, the part of the window in the other
// days (at most the first and the last; without aggregate, the whole
// window). It returns how many days came from each.
func usageWindow(ctx context.Context, tx *sql.Tx, aggregate bool) (whole, edges int, err error) {
	for _, s := range []string{
		"create or replace temp table usage_window_calls as from usage_calls limit 0",
		"create or replace temp table usage_window_activity as from usage_activity limit 0",
	} {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return 0, 0, fmt.Errorf("usage window: %w", err)
		}
	}
	// an event at until is in the window: the spans end a microsecond after
	var spansSQL string
	if aggregate {
		for _, t := range [][2]string{{"usage_window_calls", "usage_calls"}, {"usage_window_activity", "usage_activity"}} {
			if _, err := tx.ExecContext(ctx, `insert into `+t[0]+` select x.* from `+t[1]+` x
				semi join (select d.day from usage_days d, params p where d.first_event >= p.since and d.last_event <= p.until) w using (day)`); err != nil {
				return 0, 0, fmt.Errorf("usage window: read %s: %w", t[1], err)
			}
		}
		if err := tx.QueryRowContext(ctx, `select count(*) from usage_days d, params p
			where d.first_event >= p.since and d.last_event <= p.until`).Scan(&whole); err != nil {
			return 0, 0, fmt.Errorf("usage window: %w", err)
		}
		spansSQL = `select greatest(p.since, d.day::timestamptz), least(p.until + interval 1 microsecond, (d.day + 1)::timestamptz), 1
			from usage_days d, params p
			where d.day between usage_day(p.since) and usage_day(p.until) and not (d.first_event >= p.since and d.last_event <= p.until)
			order by d.day`
	} else {
		spansSQL = `select since, until + interval 1 microsecond, 1 from params where since is not null and until is not null`
	}
	edges, _, err = foldSpans(ctx, tx, "usage window: days from events", "usage_window_calls", "usage_window_activity", spansSQL)
	return whole, edges, err
}

// runPolicies runs policiesSQL after the rules, then drops the temporary
// tables of both.
func runPolicies(ctx context.Context, tx *sql.Tx) error {
	if err := runStatements(ctx, tx, "generated policies", policiesSQL); err != nil {
		return err
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
