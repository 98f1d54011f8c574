package queries

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Params are the window and thresholds of one analysis. Zero values take
// the defaults described on each field; Run records the values it used in
// analysis_parameters.
type Params struct {
	Since, Until time.Time // zero: the first and the last event of the case
	// AsOf is the time credential ages are measured at. Zero: the newest
	// credential report's generation time, else the latest event. Never the
	// wall clock: the same evidence always gives the same answer.
	AsOf            time.Time
	KeyMaxAgeDays   int      // 0: 90 (CIS 1.14)
	UnusedAfterDays int      // 0: 90 (CIS 1.12 uses 45)
	AllowedRegions  []string // nil: regions with less than RareRegionShare of the account's events are unusual
	TrustedAccounts []string // accounts whose principals may assume roles here
	TrustedCIDRs    []string // nil: no source-address rules

	// Detection thresholds; 0 takes the default.
	BruteForceFailures int     // failed console sign-ins from one address within BurstMinutes: 10
	DeniedBurst        int     // refused calls of one principal within BurstMinutes: 10
	BurstMinutes       int     // 15
	RareRegionShare    float64 // 0.01
	BulkObjects        int     // objects read by one principal from one bucket within an hour: 100
	GroupLimitWarn     int     // groups of a user that is near the limit of 10: 8
	LoggingGapHours    int     // hours without events in an account and region that otherwise log: 3
	LoggingCoverage    float64 // share of hours with events that makes an account and region "continuously logging": 0.9
	BulkMinutes        int     // the window of BulkObjects: 60
	NewIPHours         int     // how long an address counts as new after a credential's first call from it: 24
	BaselineHours      int     // a region first seen after this many hours of the window is new: 24
	SessionHours       int     // how long after a brute-forced sign-in its calls count as its session: 12
	PasswordMinLength  int     // CIS 1.8: 14
	PasswordReuse      int     // CIS 1.9: 24
	PasswordMaxAgeDays int     // Security Hub IAM.17: 90
	SecretsBurst       int     // distinct secrets one credential reads within BurstMinutes: 10
	InstancesBurst     int     // distinct instances one principal runs commands or sessions on within BurstMinutes: 3
	LaunchBurst        int     // instances one principal launches, or tries to, within BurstMinutes: 10
	ExpiryDays         int     // a bucket lifecycle rule that deletes objects within this many days is short: 7
	DeleteBurst        int     // object-deletion calls by one principal on one bucket within BulkMinutes: 20
	DiscoveryActions   int     // distinct List/Describe/Get actions one credential calls within BurstMinutes: 20
	DiscoveryServices  int     // ... across at least this many services: 3

	// Rules limits the run to these rule ids; empty: every rule.
	Rules []string

	// Progress, when set, is called before each step of the run (step 1 of
	// steps first) with what it does: "rule root_access_key_active". It is
	// not a parameter of the analysis and is not recorded.
	Progress func(step, steps int, what string)

	// Log, when set, takes a debug line with the seconds of each step and
	// of each statement of the shared analyses (permission usage, risk,
	// escalation): where an analysis spends its time on a large case.
	Log *slog.Logger

	// noAggregate folds the window's calls from events instead of reading
	// the per-day usage aggregate: the full computation a test compares the
	// aggregate with.
	noAggregate bool
}

// logKey carries Params.Log to the statements of a run.
type logKey struct{}

// stepLog is the run's logger, or one that discards.
func stepLog(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(logKey{}).(*slog.Logger); ok && l != nil {
		return l
	}
	return slog.New(slog.DiscardHandler)
}

func (p *Params) fill() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&p.KeyMaxAgeDays, 90)
	def(&p.UnusedAfterDays, 90)
	def(&p.BruteForceFailures, 10)
	def(&p.DeniedBurst, 10)
	def(&p.BurstMinutes, 15)
	def(&p.BulkObjects, 100)
	def(&p.GroupLimitWarn, 8)
	def(&p.LoggingGapHours, 3)
	def(&p.BulkMinutes, 60)
	def(&p.NewIPHours, 24)
	def(&p.BaselineHours, 24)
	def(&p.SessionHours, 12)
	def(&p.PasswordMinLength, 14)
	def(&p.PasswordReuse, 24)
	def(&p.PasswordMaxAgeDays, 90)
	def(&p.SecretsBurst, 10)
	def(&p.InstancesBurst, 3)
	def(&p.LaunchBurst, 10)
	def(&p.ExpiryDays, 7)
	def(&p.DeleteBurst, 20)
	def(&p.DiscoveryActions, 20)
	def(&p.DiscoveryServices, 3)
	if p.LoggingCoverage <= 0 {
		p.LoggingCoverage = 0.9
	}
	if p.RareRegionShare <= 0 {
		p.RareRegionShare = 0.01
	}
}

// Finding is one row of the findings table.
type Finding struct {
	FindingID, RuleID, Severity       string
	AccountID, PrincipalARN, Resource string
	Title, Detail                     string
	Evidence                          string // JSON
	FirstSeen, LastSeen               time.Time
	EventCount                        int64
}

// Summary is what one analysis found.
type Summary struct {
	Params   Params           // as used, defaults filled in
	Rules    int              // rules run
	Counts   map[string]int64 // findings by severity
	Total    int64
	Top      []Finding // the most severe findings, at most topN
	Warnings []string  // what limits the analysis (no events, no credential report, ...)
}

const topN = 15

// Run runs the rules into the findings table, replacing the previous
// analysis, and records its parameters, all in one transaction.
func Run(ctx context.Context, db *sql.DB, p Params) (Summary, error) {
	p.fill()
	sum := Summary{Counts: map[string]int64{}}
	rules, err := Rules()
	if err != nil {
		return sum, err
	}
	if len(p.Rules) > 0 {
		want := map[string]bool{}
		for _, id := range p.Rules {
			want[id] = true
		}
		var some []Rule
		for _, r := range rules {
			if want[r.ID] {
				some = append(some, r)
				delete(want, r.ID)
			}
		}
		for _, id := range p.Rules {
			if want[id] {
				return sum, fmt.Errorf("no rule %q", id)
			}
		}
		rules = some
	}
	if !p.Since.IsZero() && !p.Until.IsZero() && p.Until.Before(p.Since) {
		return sum, fmt.Errorf("until %s is before since %s", p.Until.Format(time.RFC3339), p.Since.Format(time.RFC3339))
	}
	run, err := markStarted(ctx, db)
	if err != nil {
		return sum, err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return sum, err
	}
	defer tx.Rollback()
	givenAsOf := !p.AsOf.IsZero()
	if err := resolveDefaults(ctx, tx, &p, &sum); err != nil {
		return sum, err
	}
	if !p.Since.IsZero() && !p.Until.IsZero() && p.Until.Before(p.Since) {
		return sum, fmt.Errorf("until %s is before since %s", p.Until.Format(time.RFC3339), p.Since.Format(time.RFC3339))
	}
	if err := writeParams(ctx, tx, p, rules); err != nil {
		return sum, err
	}
	if err := writeAccountAsOf(ctx, tx, givenAsOf, &sum); err != nil {
		return sum, err
	}
	if _, err := tx.ExecContext(ctx, "delete from findings"); err != nil {
		return sum, fmt.Errorf("clear findings: %w", err)
	}
	ctx = context.WithValue(ctx, logKey{}, p.Log)
	step, steps := 0, len(rules)+5
	current, started := "", time.Now()
	logStep := func() {
		stepLog(ctx).Debug("analysis step", "step", current, "seconds", time.Since(started).Seconds(), "peak_mib", peakMiB())
	}
	progress := func(what string) {
		if current != "" {
			logStep()
		}
		current, started = what, time.Now()
		step++
		if p.Progress != nil {
			p.Progress(step, steps, what)
		}
	}
	progress("policy evaluator")
	if err := runEvaluator(ctx, tx); err != nil {
		return sum, err
	}
	progress("escalation paths")
	if err := runEscalation(ctx, tx); err != nil {
		return sum, err
	}
	progress("permission usage")
	if err := runUsage(ctx, tx, !p.noAggregate); err != nil {
		return sum, err
	}
	if err := runRisk(ctx, tx); err != nil {
		return sum, err
	}
	for _, r := range rules {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		progress("rule " + r.ID)
		if err := runRule(ctx, tx, r); err != nil {
			return sum, err
		}
	}
	progress("generated policies")
	if err := runPolicies(ctx, tx); err != nil {
		return sum, err
	}
	if err := writeCoverage(ctx, tx, rules); err != nil {
		return sum, err
	}
	progress("writing the findings")
	defer logStep()
	if err := dropEscalation(ctx, tx); err != nil {
		return sum, err
	}
	if err := dropEvaluator(ctx, tx); err != nil {
		return sum, err
	}
	if _, err := tx.ExecContext(ctx, "drop table if exists temp.params"); err != nil {
		return sum, err
	}
	if _, err := tx.ExecContext(ctx, "insert or replace into case_meta values ('analysis_completed', ?)", run); err != nil {
		return sum, fmt.Errorf("record analysis completed: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return sum, fmt.Errorf("commit findings: %w", err)
	}
	sum.Params = p
	sum.Rules = len(rules)
	if err := summarize(ctx, db, &sum); err != nil {
		return sum, err
	}
	return sum, nil
}

// markStarted records, in its own transaction, that analysis number n has
// started; Run records analysis_completed = n with the findings. A case
// whose analysis_started is not its analysis_completed holds the findings of
// an earlier analysis, not of the last one, which was interrupted or failed.
func markStarted(ctx context.Context, db *sql.DB) (string, error) {
	var last sql.NullString
	if err := db.QueryRowContext(ctx, "select max(value) from case_meta where key = 'analysis_started'").Scan(&last); err != nil {
		return "", fmt.Errorf("read analysis marker: %w", err)
	}
	n, _ := strconv.Atoi(last.String)
	run := strconv.Itoa(n + 1)
	if _, err := db.ExecContext(ctx, "insert or replace into case_meta values ('analysis_started', ?)", run); err != nil {
		return "", fmt.Errorf("record analysis started: %w", err)
	}
	return run, nil
}

func runRule(ctx context.Context, tx *sql.Tx, r Rule) error {
	// a graded rule gives each row's severity as a ninth column; one outside
	// the rule's range fails the analysis rather than mislabel a finding
	severity, columns := "?::varchar", ""
	if r.MinSeverity != "" {
		var allowed []string
		for _, s := range Severities[SeverityRank(r.Severity) : SeverityRank(r.MinSeverity)+1] {
			allowed = append(allowed, "'"+s+"'")
		}
		severity = "case when severity in (" + strings.Join(allowed, ", ") + ") then severity else error('rule " + r.ID + ": severity ' || coalesce(severity, 'null') || ' outside its range') end"
		columns = ", severity"
	}
	q := `insert into findings (finding_id, rule_id, severity, account_id, principal_arn, resource, title, detail, evidence, first_seen, last_seen, event_count)
with rule_rows as (
    select account_id::varchar as account_id, principal_arn::varchar as principal_arn, resource::varchar as resource,
           detail::varchar as detail, evidence::json as evidence, first_seen::timestamptz as first_seen,
           last_seen::timestamptz as last_seen, event_count::bigint as event_count` + columns + `
    from (
` + r.SQL + `
    ) as r (account_id, principal_arn, resource, detail, evidence, first_seen, last_seen, event_count` + columns + `)
)
select substr(sha256(concat_ws(chr(31), ?, coalesce(account_id, ''), coalesce(principal_arn, ''), coalesce(resource, ''))), 1, 32),
       ?, ` + severity + `, account_id, principal_arn, resource, ?, detail, evidence, first_seen, last_seen, event_count
from rule_rows
-- one finding per subject even if a rule names a subject twice
qualify row_number() over (partition by account_id, principal_arn, resource order by detail, evidence::varchar) = 1`
	args := []any{r.ID, r.ID, r.Severity, r.Title}
	if r.MinSeverity != "" {
		args = []any{r.ID, r.ID, r.Title}
	}
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("rule %s: %w", r.ID, err)
	}
	return nil
}

// resolveDefaults fills the window and the as-of time from the evidence.
func resolveDefaults(ctx context.Context, tx *sql.Tx, p *Params, sum *Summary) error {
	var first, last, report sql.NullTime
	if err := tx.QueryRowContext(ctx, "select min(event_time), max(event_time) from events").Scan(&first, &last); err != nil {
		return fmt.Errorf("evidence span: %w", err)
	}
	if err := tx.QueryRowContext(ctx, "select max(generated_at) from current_credential_reports").Scan(&report); err != nil {
		return fmt.Errorf("credential report time: %w", err)
	}
	if p.Since.IsZero() && first.Valid {
		p.Since = first.Time.UTC()
	}
	if p.Until.IsZero() && last.Valid {
		p.Until = last.Time.UTC()
	}
	if p.AsOf.IsZero() {
		switch {
		case report.Valid:
			p.AsOf = report.Time.UTC()
		case last.Valid:
			p.AsOf = last.Time.UTC()
		}
	}
	if !first.Valid {
		sum.Warnings = append(sum.Warnings, "no CloudTrail events in the case: CloudTrail detections not assessed")
	}
	if !report.Valid {
		sum.Warnings = append(sum.Warnings, "no credential report in the case: credential rules not assessed")
	}
	var entities int64
	if err := tx.QueryRowContext(ctx, "select (select count(*) from iam_users) + (select count(*) from iam_roles) + (select count(*) from iam_groups)").Scan(&entities); err != nil {
		return fmt.Errorf("authorization details: %w", err)
	}
	if entities == 0 {
		sum.Warnings = append(sum.Warnings, "no authorization details in the case: policy, trust and role rules not assessed")
	}
	if p.AsOf.IsZero() {
		sum.Warnings = append(sum.Warnings, "no as-of time (no credential report and no events): credential ages not assessed")
	}
	if first.Valid && entities > 0 {
		if days := p.Until.Sub(p.Since).Hours() / 24; days < float64(p.UnusedAfterDays) {
			sum.Warnings = append(sum.Warnings, fmt.Sprintf("the CloudTrail window covers %.0f days, shorter than the %d-day unused threshold: unused permissions mean not used in those days",
				math.Max(1, math.Ceil(days)), p.UnusedAfterDays))
		}
		var catalog bool
		if err := tx.QueryRowContext(ctx, "select exists (select 1 from action_catalog)").Scan(&catalog); err != nil {
			return fmt.Errorf("action catalog: %w", err)
		}
		if !catalog {
			sum.Warnings = append(sum.Warnings, "no action catalog in the case: unused permissions are assessed per granted pattern; wildcards are not expanded to actions")
		}
	}
	return nil
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func jsonList(l []string) any {
	if l == nil {
		return nil
	}
	b, _ := json.Marshal(l)
	return string(b)
}

// writeParams fills the temporary one-row table params that rules read and
// the analysis_parameters table that records the run.
func writeParams(ctx context.Context, tx *sql.Tx, p Params, rules []Rule) error {
	_, err := tx.ExecContext(ctx, `create or replace temp table params as select
		?::timestamptz as since, ?::timestamptz as until, ?::timestamptz as as_of,
		?::integer as key_max_age_days, ?::integer as unused_after_days,
		from_json(?::json, '["VARCHAR"]')::varchar[] as allowed_regions,
		coalesce(from_json(?::json, '["VARCHAR"]')::varchar[], []::varchar[]) as trusted_accounts,
		from_json(?::json, '["VARCHAR"]')::varchar[] as trusted_cidrs,
		?::integer as brute_force_failures, ?::integer as denied_burst, ?::integer as burst_minutes,
		?::double as rare_region_share, ?::integer as bulk_objects, ?::integer as group_limit_warn,
		?::integer as logging_gap_hours, ?::double as logging_coverage, ?::integer as bulk_minutes,
		?::integer as new_ip_hours, ?::integer as baseline_hours, ?::integer as password_min_length,
		?::integer as password_reuse, ?::integer as password_max_age_days, ?::integer as session_hours,
		?::integer as secrets_burst, ?::integer as instances_burst, ?::integer as launch_burst, ?::integer as expiry_days, ?::integer as delete_burst,
		?::integer as discovery_actions, ?::integer as discovery_services`,
		nullTime(p.Since), nullTime(p.Until), nullTime(p.AsOf), p.KeyMaxAgeDays, p.UnusedAfterDays,
		jsonList(p.AllowedRegions), jsonList(p.TrustedAccounts), jsonList(p.TrustedCIDRs),
		p.BruteForceFailures, p.DeniedBurst, p.BurstMinutes, p.RareRegionShare, p.BulkObjects, p.GroupLimitWarn, p.LoggingGapHours,
		p.LoggingCoverage, p.BulkMinutes, p.NewIPHours, p.BaselineHours, p.PasswordMinLength, p.PasswordReuse, p.PasswordMaxAgeDays, p.SessionHours,
		p.SecretsBurst, p.InstancesBurst, p.LaunchBurst, p.ExpiryDays, p.DeleteBurst, p.DiscoveryActions, p.DiscoveryServices)
	if err != nil {
		return fmt.Errorf("parameters: %w", err)
	}
	for _, m := range macros {
		if name := sharedTableName(m); name != "" && !sharedTableNeeded(name, rules) {
			continue
		}
		if _, err := tx.ExecContext(ctx, m); err != nil {
			return fmt.Errorf("macro: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, "delete from analysis_parameters"); err != nil {
		return fmt.Errorf("clear parameters: %w", err)
	}
	list := func(l []string) any {
		if l == nil {
			return nil
		}
		return jsonList(l)
	}
	rows := [][2]any{
		{"since", nullTime(p.Since)},
		{"until", nullTime(p.Until)},
		{"as_of", nullTime(p.AsOf)},
		{"key_max_age_days", strconv.Itoa(p.KeyMaxAgeDays)},
		{"unused_after_days", strconv.Itoa(p.UnusedAfterDays)},
		{"allowed_regions", list(p.AllowedRegions)},
		{"trusted_accounts", list(p.TrustedAccounts)},
		{"trusted_cidrs", list(p.TrustedCIDRs)},
		{"brute_force_failures", strconv.Itoa(p.BruteForceFailures)},
		{"denied_burst", strconv.Itoa(p.DeniedBurst)},
		{"burst_minutes", strconv.Itoa(p.BurstMinutes)},
		{"rare_region_share", strconv.FormatFloat(p.RareRegionShare, 'g', -1, 64)},
		{"bulk_objects", strconv.Itoa(p.BulkObjects)},
		{"group_limit_warn", strconv.Itoa(p.GroupLimitWarn)},
		{"logging_gap_hours", strconv.Itoa(p.LoggingGapHours)},
		{"logging_coverage", strconv.FormatFloat(p.LoggingCoverage, 'g', -1, 64)},
		{"bulk_minutes", strconv.Itoa(p.BulkMinutes)},
		{"new_ip_hours", strconv.Itoa(p.NewIPHours)},
		{"baseline_hours", strconv.Itoa(p.BaselineHours)},
		{"password_min_length", strconv.Itoa(p.PasswordMinLength)},
		{"password_reuse", strconv.Itoa(p.PasswordReuse)},
		{"password_max_age_days", strconv.Itoa(p.PasswordMaxAgeDays)},
		{"session_hours", strconv.Itoa(p.SessionHours)},
		{"secrets_burst", strconv.Itoa(p.SecretsBurst)},
		{"instances_burst", strconv.Itoa(p.InstancesBurst)},
		{"launch_burst", strconv.Itoa(p.LaunchBurst)},
		{"expiry_days", strconv.Itoa(p.ExpiryDays)},
		{"delete_burst", strconv.Itoa(p.DeleteBurst)},
		{"discovery_actions", strconv.Itoa(p.DiscoveryActions)},
		{"discovery_services", strconv.Itoa(p.DiscoveryServices)},
		{"rules", list(p.Rules)},
	}
	for _, r := range rows {
		if _, err := tx.ExecContext(ctx, "insert into analysis_parameters values (?, ?)", r[0], r[1]); err != nil {
			return fmt.Errorf("record parameter %s: %w", r[0], err)
		}
	}
	return nil
}

// sharedTableName is the name of the temp table a statement of macros makes,
// or "" for a macro or view.
func sharedTableName(stmt string) string {
	rest, ok := strings.CutPrefix(stmt, "create or replace temp table ")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, " ")
	return name
}

// sharedTableNeeded says whether one of rules, a view or macro of macros, or
// another shared table needed names the table: the shared tables are made once per analysis from the
// events (a second or more each at 10M events), so an analysis of some
// rules (--rules) makes only those its rules read.
func sharedTableNeeded(name string, rules []Rule) bool {
	word := regexp.MustCompile(`\b` + regexp.QuoteMeta(name) + `\b`)
	for _, r := range rules {
		if word.MatchString(r.SQL) {
			return true
		}
	}
	for _, m := range macros {
		other := sharedTableName(m)
		if other != name && word.MatchString(m) && (other == "" || sharedTableNeeded(other, rules)) {
			return true
		}
	}
	return false
}

// macros are the helpers rules share. IAM compares action names without
// regard to case; * matches any run of characters and ? one character.
var macros = []string{
	// evidence_accounts: every account seen in any evidence.
	`create or replace temp view evidence_accounts as
	select account_id from (
	    select recipient_account_id as account_id from events
	    union select account_id from credential_reports
	    union select account_id from iam_users
	    union select account_id from iam_roles
	    union select account_id from iam_groups
	    union select account_id from password_policy where account_id is not null
	    union select account_id from evidence_files where status = 'loaded')
	where account_id is not null and account_id <> ''`,
	// account_params: the parameters with each account's own as-of time
	// (account_as_of); the rules that measure credential ages read it.
	`create or replace temp view account_params as
	select a.account_id, a.as_of, p.* exclude (as_of)
	from account_as_of a cross join params p`,
	// password_policy_in_force: the newest password-policy export of each
	// account; an export without an account id applies when the case holds
	// one account. The password-policy rules read it.
	`create or replace temp view password_policy_in_force as
	with accounts as (
	    select account_id from credential_reports
	    union select account_id from iam_users
	    union select account_id from iam_roles
	)
	select coalesce(pp.account_id, (select any_value(account_id) from accounts)) as account_id, pp.present,
	       pp.minimum_password_length, pp.require_symbols, pp.require_numbers, pp.require_uppercase_characters,
	       pp.require_lowercase_characters, pp.expire_passwords, pp.max_password_age, pp.password_reuse_prevention, pp.file_id
	from password_policy pp
	where pp.account_id is not null or (select count(*) from accounts) <= 1
	qualify row_number() over (partition by coalesce(pp.account_id, '') order by pp.file_id desc) = 1`,
	`create or replace temp macro iam_pattern(pattern) as
		replace(replace(replace(replace(replace(lower(pattern), '\', '\\'), '%', '\%'), '_', '\_'), '*', '%'), '?', '_')`,
	`create or replace temp macro iam_like(action, pattern) as like_escape(lower(action), iam_pattern(pattern), '\')`,
	// IPv4 only: an address that is not dotted-quad IPv4 is in no CIDR.
	`create or replace temp macro ipv4_num(ip) as
		case when regexp_full_match(coalesce(ip, ''), '\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}')
		then (string_split(ip, '.')[1]::bigint * 16777216 + string_split(ip, '.')[2]::bigint * 65536
		      + string_split(ip, '.')[3]::bigint * 256 + string_split(ip, '.')[4]::bigint) end`,
	`create or replace temp macro ipv4_in_cidr(ip, cidr) as
		ipv4_num(ip) // (2::bigint ** (32 - coalesce(try_cast(string_split(cidr, '/')[2] as integer), 32)))::bigint
		= ipv4_num(string_split(cidr, '/')[1]) // (2::bigint ** (32 - coalesce(try_cast(string_split(cidr, '/')[2] as integer), 32)))::bigint`,
	// The flow logs a DeleteFlowLogs call names, as text. EC2's query API
	// logs a list parameter as {"tag": n, "content": value} items: one item,
	// or a list of them.
	`create or replace temp macro flow_log_ids(rp) as
		case json_type(rp, '$.DeleteFlowLogsRequest.FlowLogId')
		     when 'ARRAY' then array_to_string(list_sort(json_extract_string(rp, '$.DeleteFlowLogsRequest.FlowLogId[*].content')), ', ')
		     when 'OBJECT' then json_extract_string(rp, '$.DeleteFlowLogsRequest.FlowLogId.content')
		     else json_extract_string(rp, '$.DeleteFlowLogsRequest.FlowLogId') end`,
	// The trail, detector, recorder or channel a logging call names.
	`create or replace temp macro logging_target(rp) as
		coalesce(json_extract_string(rp, '$.name'), json_extract_string(rp, '$.trailName'), json_extract_string(rp, '$.detectorId'),
		         json_extract_string(rp, '$.configurationRecorderName'), json_extract_string(rp, '$.deliveryChannelName'),
		         json_extract_string(rp, '$.eventDataStore'), json_extract_string(rp, '$.resolverQueryLogConfigId'),
		         json_extract_string(rp, '$.analyzerName'), flow_log_ids(rp))`,
	// The calls that stop, delete or blind logging and threat detection; the
	// tampering rules report them done (critical) and attempted (medium).
	// PutEventSelectors and PutAdvancedEventSelectors count when they turn
	// off management events, UpdateDetector when it disables GuardDuty.
	// The names come first, in one list_contains: a test of one column that
	// DuckDB runs inside the scan of events (the pairs are not), so the
	// parameters of other calls are never read; a name added below must be
	// added to it.
	`create or replace temp macro is_tampering(event_source, event_name, rp) as
		list_contains(['StopLogging', 'DeleteTrail', 'DeleteEventDataStore', 'StopEventDataStoreIngestion', 'DeleteFlowLogs',
		    'DeleteDetector', 'DisassociateFromMasterAccount', 'DisassociateFromAdministratorAccount', 'StopMonitoringMembers',
		    'DeleteMembers', 'StopConfigurationRecorder', 'DeleteConfigurationRecorder', 'DeleteDeliveryChannel',
		    'DisableSecurityHub', 'BatchDisableStandards', 'DeleteAnalyzer', 'DisableMacie', 'DeleteResolverQueryLogConfig',
		    'DisassociateResolverQueryLogConfig', 'UpdateDetector', 'PutEventSelectors', 'PutAdvancedEventSelectors'], event_name)
		and ((event_source, event_name) in (
		    ('cloudtrail.amazonaws.com', 'StopLogging'), ('cloudtrail.amazonaws.com', 'DeleteTrail'),
		    ('cloudtrail.amazonaws.com', 'DeleteEventDataStore'), ('cloudtrail.amazonaws.com', 'StopEventDataStoreIngestion'),
		    ('ec2.amazonaws.com', 'DeleteFlowLogs'),
		    ('guardduty.amazonaws.com', 'DeleteDetector'), ('guardduty.amazonaws.com', 'DisassociateFromMasterAccount'),
		    ('guardduty.amazonaws.com', 'DisassociateFromAdministratorAccount'), ('guardduty.amazonaws.com', 'StopMonitoringMembers'),
		    ('guardduty.amazonaws.com', 'DeleteMembers'),
		    ('config.amazonaws.com', 'StopConfigurationRecorder'), ('config.amazonaws.com', 'DeleteConfigurationRecorder'),
		    ('config.amazonaws.com', 'DeleteDeliveryChannel'),
		    ('securityhub.amazonaws.com', 'DisableSecurityHub'), ('securityhub.amazonaws.com', 'BatchDisableStandards'),
		    ('access-analyzer.amazonaws.com', 'DeleteAnalyzer'),
		    ('macie2.amazonaws.com', 'DisableMacie'), ('macie.amazonaws.com', 'DisableMacie'),
		    ('route53resolver.amazonaws.com', 'DeleteResolverQueryLogConfig'),
		    ('route53resolver.amazonaws.com', 'DisassociateResolverQueryLogConfig'))
		or (event_source = 'guardduty.amazonaws.com' and event_name = 'UpdateDetector' and json_extract_string(rp, '$.enable') = 'false')
		or (event_source = 'cloudtrail.amazonaws.com' and event_name = 'PutEventSelectors'
		    and json_array_length(json_extract(rp, '$.eventSelectors')) > 0
		    and not list_contains(json_extract_string(rp, '$.eventSelectors[*].includeManagementEvents'), 'true'))
		-- advanced selectors log management events only through a selector naming the Management category
		or (event_source = 'cloudtrail.amazonaws.com' and event_name = 'PutAdvancedEventSelectors'
		    and json_array_length(json_extract(rp, '$.advancedEventSelectors')) > 0
		    and not list_contains(flatten(list_transform(json_extract(rp, '$.advancedEventSelectors[*].fieldSelectors[*].equals'),
		        lambda x: x::varchar[])), 'Management')))`,
	// The condition keys of a policy statement's Condition, lower-cased.
	`create or replace temp macro condition_keys(c) as
		coalesce(list_transform(flatten(list_transform(map_values(try_cast(c as map(varchar, map(varchar, json)))),
			lambda m: map_keys(m))), lambda k: lower(k)), [])`,
	// The account of a principal named in a policy: an ARN or a bare account id.
	`create or replace temp macro principal_account(v) as
		case when regexp_full_match(v, '\d{12}') then v else nullif(split_part(v, ':', 5), '') end`,
	// Whether a statement's Action / NotAction covers action (IAM wildcards).
	`create or replace temp macro statement_covers(actions, not_actions, action) as
		case when actions is not null then len(list_filter(actions, lambda x: iam_like(action, x))) > 0
		     when not_actions is not null then len(list_filter(not_actions, lambda x: iam_like(action, x))) = 0
		     else false end`,
	// A statement that allows every action on every resource.
	`create or replace temp macro grants_all(effect, actions, resources) as
		effect = 'Allow' and (list_contains(actions, '*') or list_contains(actions, '*:*')) and list_contains(resources, '*')`,
	// The Allow statements that cover action, but for * on * (reported as
	// administrator access), one row per statement and per account a rule
	// reports its policy in: a customer managed policy in its account,
	// attached or not; an AWS managed or inline policy in each account where
	// something holds it. principals: what holds the policy directly there;
	// principal_arn: the holder of an inline policy; policy_label and
	// holders_note: the policy and its holders as a finding's detail names them.
	`create or replace temp macro policy_grant_subjects(action) as table
	with grants as (
	    select s.policy_ref, s.statement_index, s.resources, s.condition
	    from policy_statements s
	    where s.effect = 'Allow' and statement_covers(s.actions, s.not_actions, action)
	      and not grants_all(s.effect, s.actions, s.resources)
	),
	holders as (
	    select policy_ref, split_part(principal_arn, ':', 5) as account_id, list(distinct principal_arn order by principal_arn) as principals
	    from policy_attachments
	    where not is_boundary and via_group_arn is null
	    group by policy_ref, split_part(principal_arn, ':', 5)
	),
	subjects as (
	    select g.policy_ref, coalesce(h.account_id, p.account_id) as account_id, h.principals, p.arn, p.policy_name
	    from (select distinct policy_ref from grants) g
	    left join iam_policies p on p.arn = g.policy_ref
	    left join holders h on h.policy_ref = g.policy_ref
	    where h.principals is not null or not coalesce(p.aws_managed, true)
	)
	select x.account_id, case when x.arn is null then x.principals[1] end as principal_arn, x.policy_ref, x.principals,
	       coalesce('managed policy ' || x.policy_name, 'inline policy ' || regexp_replace(x.policy_ref, '^.*#inline/', '') || ' of ' || x.principals[1]) as policy_label,
	       case when x.arn is null then ''
	            when x.principals is null then '; it is attached to no user, group or role'
	            else '; attached to ' || array_to_string(list_transform(x.principals, lambda r: regexp_replace(r, '^arn:[^:]+:iam::\d+:', '')), ', ') end as holders_note,
	       g.statement_index, g.resources, g.condition
	from subjects x
	join grants g using (policy_ref)`,
	// Who acted, in a finding's text, when the events of a group hold no
	// principal ARN: the user names they hold (a console Event History row
	// keeps only userName and accessKeyId), else an unknown principal.
	`create or replace temp macro unnamed_actors(names) as
		coalesce(nullif(array_to_string(list_sort(list_distinct(list_filter(names, lambda n: coalesce(n, '') <> ''))), ', '), '')
		         || ' (user name only: the event holds no ARN)', 'an unknown principal')`,
	// A call of a global service logged in its home region, us-east-1,
	// wherever the caller works: IAM, STS's global endpoint, console
	// sign-in, CloudFront, Route 53, Organizations, Support, billing and the
	// like. Its region says nothing of where the caller works.
	`create or replace temp macro logs_in_global_region(event_source, region) as
		coalesce(region = 'us-east-1' and event_source in (
		    'iam.amazonaws.com', 'sts.amazonaws.com', 'signin.amazonaws.com', 'cloudfront.amazonaws.com',
		    'route53.amazonaws.com', 'route53domains.amazonaws.com', 'organizations.amazonaws.com', 'support.amazonaws.com',
		    'health.amazonaws.com', 'budgets.amazonaws.com', 'ce.amazonaws.com', 'cur.amazonaws.com', 'billingconsole.amazonaws.com',
		    'account.amazonaws.com', 'waf.amazonaws.com', 'shield.amazonaws.com', 'trustedadvisor.amazonaws.com',
		    'artifact.amazonaws.com', 'tax.amazonaws.com', 'notifications.amazonaws.com'), false)`,
	// An error code that means the caller lacked permission.
	`create or replace temp macro is_denied(code) as
		coalesce(code ilike '%accessdenied%' or code ilike '%unauthorized%' or code in ('Forbidden', 'AuthorizationError', 'AuthFailure'), false)`,
	// A source address that is an IP literal, not a service name or "AWS Internal".
	`create or replace temp macro is_ip(ip) as
		coalesce(regexp_full_match(ip, '\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}') or (ip like '%:%' and regexp_full_match(ip, '[0-9a-fA-F:.]+')), false)`,
	// A call that changes something: readOnly false, or for old events without
	// readOnly, a name that does not start with a reading verb.
	// The fixed span of minutes an event falls in (numbered from the epoch):
	// a window of that many minutes from an event lies within its span and
	// the next, which lets burst rules narrow their sliding windows to busy
	// pairs of spans.
	`create or replace temp macro burst_span(event_time, minutes) as epoch_ms(event_time) // (minutes * 60000)`,
	`create or replace temp macro is_write(read_only, event_name) as
		coalesce(not read_only, not regexp_matches(event_name, '^(Get|List|Describe|Head|Lookup|Search|Generate|Simulate|Decode|Check)'), false)`,
	// The last successful console sign-in of each IAM user in CloudTrail: use
	// of its password that a credential report generated before it cannot show.
	`create or replace temp view password_sign_ins as
	select principal_arn, max(event_time) as last_sign_in from events
	where identity_type = 'IAMUser' and event_name = 'ConsoleLogin' and console_login = 'Success' and principal_arn is not null
	group by principal_arn`,
	// The first successful console sign-in of each principal from an address
	// after failed sign-ins from that address within burst_minutes: one for
	// brute_force (at least brute_force_failures failures, which
	// console_brute_force reports) and one for fewer (console_login_after_failures),
	// with what the session did from that address within session_hours. Each
	// row is a finding of one of the two rules but for its severity. A table,
	// not a view: both rules read it, and a view joins the sign-ins to the
	// events of their sessions again for each.
	`create or replace temp table console_sign_ins_after_failures as
	with logins as (
	    select e.recipient_account_id as account_id, e.principal_arn, e.user_name, e.event_id, e.event_time, e.source_ip, e.user_agent,
	           e.console_login = 'Success' as ok, coalesce(e.mfa_used, false) as mfa
	    from events e, params p
	    where e.event_name = 'ConsoleLogin' and e.event_time between p.since and p.until
	),
	windowed as (
	    -- for each sign-in, the failures from the same address in the burst window before it
	    select l.*,
	           list(l.event_id order by l.event_time, l.event_id) filter (where not l.ok)
	               over (partition by l.account_id, l.source_ip order by l.event_time
	                     range between to_minutes(p.burst_minutes) preceding and current row) as failures,
	           list(l.event_time order by l.event_time) filter (where not l.ok)
	               over (partition by l.account_id, l.source_ip order by l.event_time
	                     range between to_minutes(p.burst_minutes) preceding and current row) as failure_times,
	           list(distinct coalesce(l.user_name, '')) filter (where not l.ok)
	               over (partition by l.account_id, l.source_ip order by l.event_time
	                     range between to_minutes(p.burst_minutes) preceding and current row) as names
	    from logins l, params p
	),
	success as (
	    -- the first success from each address after failures, apart for a brute force and for fewer failures
	    select w.account_id, w.source_ip, w.principal_arn, w.event_id, w.event_time, w.mfa, w.failures,
	           len(w.failures) as n_failures, list_min(w.failure_times) as first_failure, len(w.names) as names,
	           len(w.failures) >= p.brute_force_failures as brute_force
	    from windowed w, params p
	    where w.ok and len(w.failures) >= 1
	    qualify row_number() over (partition by w.account_id, w.source_ip, w.principal_arn, len(w.failures) >= p.brute_force_failures
	                               order by w.event_time, w.event_id) = 1
	),
	session as (
	    select s.brute_force, s.account_id, s.event_id as login_id, list(e.event_id order by e.event_time, e.event_id) as ids, count(*) as n
	    from success s
	    join events e on e.recipient_account_id = s.account_id and e.principal_arn = s.principal_arn and e.source_ip = s.source_ip
	         and e.event_name <> 'ConsoleLogin' and e.event_time > s.event_time
	    cross join params p
	    where e.event_time <= s.event_time + to_hours(p.session_hours)
	    group by s.brute_force, s.account_id, s.event_id
	)
	select s.account_id, s.principal_arn, s.source_ip,
	       s.n_failures || ' failed console sign-ins from ' || s.source_ip || ' within ' || date_diff('minute', s.first_failure, s.event_time) + 1
	         || ' minutes (' || s.names || ' user name(s)), then a successful sign-in as ' || coalesce(s.principal_arn, 'an unknown user')
	         || case when s.mfa then ' with MFA' else ' without MFA' end
	         || coalesce('; the session then made ' || x.n || ' call(s) from the same address', '') as detail,
	       json_object('event_ids', list_append(s.failures, s.event_id), 'mfa', s.mfa, 'session_event_ids', coalesce(x.ids, [])) as evidence,
	       s.first_failure as first_seen, s.event_time as last_seen, s.n_failures + 1 as event_count, s.mfa, s.brute_force
	from success s
	-- an event id names an event within its account only
	left join session x on x.login_id = s.event_id and x.account_id = s.account_id and x.brute_force = s.brute_force`,
	// Users and roles whose permissions boundary policy the export lacks: the
	// unused-permissions analysis cannot apply it, and its findings say so.
	`create or replace temp view usage_boundary_missing as
	select arn as principal_arn, permissions_boundary_arn from iam_users
	where permissions_boundary_arn is not null and permissions_boundary_arn not in (select policy_ref from policy_statements)
	union all
	select arn, permissions_boundary_arn from iam_roles
	where permissions_boundary_arn is not null and permissions_boundary_arn not in (select policy_ref from policy_statements)`,
	// Appended to an unused-permissions finding when the window is shorter
	// than the unused threshold: unused then means unused in the window.
	`create or replace temp macro usage_window_note() as (
		select case when p.until - p.since < to_days(p.unused_after_days)
		       then '; the window covers ' || greatest(1, ceil(epoch(p.until - p.since) / 86400))::integer
		            || case when ceil(epoch(p.until - p.since) / 86400) <= 1 then ' day' else ' days' end || ', shorter than the '
		            || p.unused_after_days || '-day unused threshold: unused means unused in those days'
		       else '' end
		from params p)`,
	// Security group ingress opened to every address (a /0 range, IPv4 or
	// IPv6): one row per permission, from the ipPermissions items and from the
	// legacy top-level cidrIp form. all_ports: protocol -1 (all traffic).
	`create or replace temp view security_group_openings as
	with ingress as (
	    select e.event_id, e.event_time, e.recipient_account_id as account_id, e.principal_arn, e.user_name, e.source_ip, e.aws_region,
	           json_extract_string(e.request_parameters, '$.groupId') as group_id,
	           json_extract_string(e.request_parameters, '$.groupName') as group_name,
	           e.request_parameters as rp
	    from events e
	    where e.event_source = 'ec2.amazonaws.com' and e.event_name = 'AuthorizeSecurityGroupIngress' and e.error_code is null
	),
	permissions as (
	    select i.*, p.perm->>'ipProtocol' as protocol, try_cast(p.perm->>'fromPort' as integer) as from_port,
	           try_cast(p.perm->>'toPort' as integer) as to_port,
	           list_concat(coalesce(json_extract_string(p.perm, '$.ipRanges.items[*].cidrIp'), []),
	                       coalesce(json_extract_string(p.perm, '$.ipv6Ranges.items[*].cidrIpv6'), [])) as cidrs
	    from ingress i
	    cross join unnest(coalesce(json_extract(i.rp, '$.ipPermissions.items[*]'), [])) as p(perm)
	    union all
	    select i.*, i.rp->>'ipProtocol', try_cast(i.rp->>'fromPort' as integer), try_cast(i.rp->>'toPort' as integer),
	           [i.rp->>'cidrIp']
	    from ingress i
	    where i.rp->>'cidrIp' is not null
	)
	select p.event_id, p.event_time, p.account_id, p.principal_arn, p.user_name, p.source_ip, p.aws_region, coalesce(p.group_id, p.group_name) as security_group,
	       lower(coalesce(p.protocol, '-1')) in ('-1', 'all') as all_ports, lower(p.protocol) as protocol, p.from_port, p.to_port, c.cidr
	from permissions p
	cross join unnest(p.cidrs) as c(cidr)
	where split_part(c.cidr, '/', 2) = '0'`,
	// Enabled bucket lifecycle rules that delete objects (current or
	// noncurrent versions) within expiry_days: one row per rule of each
	// successful PutBucketLifecycle; Rule is one object or a list of them.
	// trail_bucket: the case saw a trail created or updated to deliver there.
	`create or replace temp view short_lifecycle_rules as
	with puts as (
	    select e.event_id, e.event_time, e.recipient_account_id as account_id, e.principal_arn, e.user_name, e.source_ip,
	           json_extract_string(e.request_parameters, '$.bucketName') as bucket,
	           json_extract(e.request_parameters, '$.LifecycleConfiguration.Rule') as rules
	    from events e
	    where e.event_source = 's3.amazonaws.com' and e.event_name = 'PutBucketLifecycle' and e.error_code is null
	),
	rules as (
	    select p.*, r.rule
	    from puts p
	    cross join unnest(case when json_type(p.rules) = 'ARRAY' then json_extract(p.rules, '$[*]') else [p.rules] end) as r(rule)
	),
	trail_buckets as (
	    select distinct json_extract_string(request_parameters, '$.s3BucketName') as bucket
	    from events
	    -- list_contains, unlike in (...), is tested inside the scan of events, so the parameters of other CloudTrail calls are never read
	    where event_source = 'cloudtrail.amazonaws.com' and list_contains(['CreateTrail', 'UpdateTrail'], event_name) and error_code is null
	      and json_extract_string(request_parameters, '$.s3BucketName') is not null
	)
	select r.event_id, r.event_time, r.account_id, r.principal_arn, r.user_name, r.source_ip, r.bucket,
	       coalesce(r.rule->>'ID', r.rule->>'Id', '') as rule_id,
	       least(try_cast(r.rule->'Expiration'->>'Days' as integer), try_cast(r.rule->'NoncurrentVersionExpiration'->>'NoncurrentDays' as integer)) as days,
	       r.bucket in (select bucket from trail_buckets) as trail_bucket
	from rules r, params p
	where coalesce(r.rule->>'Status', 'Enabled') = 'Enabled'
	  and least(try_cast(r.rule->'Expiration'->>'Days' as integer), try_cast(r.rule->'NoncurrentVersionExpiration'->>'NoncurrentDays' as integer)) <= p.expiry_days`,
	// JSON helpers for policy documents logged in requestParameters: a
	// document logged as a string is parsed; a one-or-many field (Statement,
	// Action, Principal.AWS) becomes a list either way.
	`create or replace temp macro json_doc(j) as
		case when json_type(j) = 'VARCHAR' then try_cast(json_extract_string(j, '$') as json) else j end`,
	`create or replace temp macro json_items(j) as
		case when j is null or json_type(j) = 'NULL' then []::json[] when json_type(j) = 'ARRAY' then json_extract(j, '$[*]') else [j] end`,
	`create or replace temp macro json_strings(j) as list_transform(json_items(j), lambda x: json_extract_string(x, '$'))`,
	// The principals a policy statement names, as "AWS:<arn, account or *>",
	// "Federated:<provider>", "Service:<service>"; Principal "*" is "AWS:*".
	`create or replace temp macro statement_principals(pj) as
		case when json_type(pj) = 'VARCHAR' then ['AWS:' || json_extract_string(pj, '$')]
		     else list_concat(list_transform(json_strings(json_extract(pj, '$.AWS')), lambda x: 'AWS:' || x),
		                      list_transform(json_strings(json_extract(pj, '$.Federated')), lambda x: 'Federated:' || x),
		                      list_transform(json_strings(json_extract(pj, '$.Service')), lambda x: 'Service:' || x),
		                      list_transform(json_strings(json_extract(pj, '$.CanonicalUser')), lambda x: 'CanonicalUser:' || x)) end`,
	// Each account's span of events in the case. Baseline rules learn what is
	// routine from an account's first baseline_hours; long_enough: the span
	// covers at least that, so the baseline can be judged at all. A table,
	// not a view: eight rules read it, and a view reads every event each time.
	`create or replace temp table account_spans as
	select e.recipient_account_id as account_id, min(e.event_time) as first_event, max(e.event_time) as last_event,
	       max(e.event_time) - min(e.event_time) >= to_hours(any_value(p.baseline_hours)) as long_enough,
	       least(max(e.event_time), min(e.event_time) + to_hours(any_value(p.baseline_hours))) as baseline_end
	from events e, params p
	where e.recipient_account_id is not null
	group by e.recipient_account_id`,
	// The baseline a "new" or "routine" judgement looked at: the events from
	// start to stop, against the hours it needs (baseline_hours). Every
	// baseline rule puts baseline_evidence under "baseline" in its evidence,
	// and appends baseline_note to its detail, which says plainly when the
	// events are too few hours to judge.
	`create or replace temp macro baseline_evidence(start, stop, hours) as
		json_object('from', strftime(start, '%Y-%m-%dT%H:%M:%SZ'), 'to', strftime(stop, '%Y-%m-%dT%H:%M:%SZ'),
		            'hours_needed', hours, 'too_short', stop - start < to_hours(hours))`,
	`create or replace temp macro baseline_note(start, stop, hours) as
		case when stop - start < to_hours(hours)
		     then '; baseline: the events from ' || strftime(start, '%Y-%m-%d %H:%M') || ' to ' || strftime(stop, '%Y-%m-%d %H:%M')
		          || ' cover less than ' || hours || ' hours, too short to judge what is routine'
		     else '' end`,
	// Accounts the case holds: their trails, users or roles are in it (a
	// table, read by several rules).
	`create or replace temp table case_accounts as
	select recipient_account_id as account_id from events where recipient_account_id is not null
	union select account_id from iam_users union select account_id from iam_roles`,
	`create or replace temp macro in_cidrs(ip, cidrs) as
		coalesce(len(list_filter(cidrs, lambda c: coalesce(ipv4_in_cidr(ip, c), false))) > 0, false)`,
	// Trust statements that let another account, not in --trusted-accounts,
	// assume a role; the two cross-account rules split them on sts:ExternalId.
	`create or replace temp view untrusted_cross_account_trust as
	select r.account_id, r.arn, r.role_name, r.file_id, t.principal_value, t.statement_index, t.condition,
	       list_contains(condition_keys(t.condition), 'sts:externalid') as has_external_id
	from role_trust t
	join iam_roles r on r.arn = t.role_arn
	cross join params p
	where t.effect = 'Allow' and not t.not_principal and t.principal_kind = 'AWS' and t.principal_value <> '*'
	  and principal_account(t.principal_value) <> r.account_id
	  and not list_contains(p.trusted_accounts, principal_account(t.principal_value))`,
}

func summarize(ctx context.Context, db *sql.DB, sum *Summary) error {
	rows, err := db.QueryContext(ctx, "select severity, count(*) from findings group by severity")
	if err != nil {
		return fmt.Errorf("count findings: %w", err)
	}
	for rows.Next() {
		var s string
		var n int64
		if err := rows.Scan(&s, &n); err != nil {
			rows.Close()
			return err
		}
		sum.Counts[s] = n
		sum.Total += n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	sum.Top, err = Findings(ctx, db, topN)
	return err
}

// Findings returns up to limit findings (all when limit <= 0), most severe
// first, then by the number of events, rule and finding id.
func Findings(ctx context.Context, db *sql.DB, limit int) ([]Finding, error) {
	var order strings.Builder
	order.WriteString("case severity")
	for i, s := range Severities {
		fmt.Fprintf(&order, " when '%s' then %d", s, i)
	}
	order.WriteString(" else 9 end")
	q := `select finding_id, rule_id, severity, coalesce(account_id, ''), coalesce(principal_arn, ''), coalesce(resource, ''),
		title, coalesce(detail, ''), coalesce(evidence::varchar, ''), first_seen, last_seen, coalesce(event_count, 0)
		from findings order by ` + order.String() + `, event_count desc nulls last, rule_id, finding_id`
	if limit > 0 {
		q += " limit " + strconv.Itoa(limit)
	}
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("read findings: %w", err)
	}
	defer rows.Close()
	var out []Finding
	for rows.Next() {
		var f Finding
		var first, last sql.NullTime
		if err := rows.Scan(&f.FindingID, &f.RuleID, &f.Severity, &f.AccountID, &f.PrincipalARN, &f.Resource,
			&f.Title, &f.Detail, &f.Evidence, &first, &last, &f.EventCount); err != nil {
			return nil, err
		}
		if first.Valid {
			f.FirstSeen = first.Time.UTC()
		}
		if last.Valid {
			f.LastSeen = last.Time.UTC()
		}
		out = append(out, f)
	}
	return out, rows.Err()
}
