package report

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// ExcelMaxRows is the number of rows a worksheet can hold.
const ExcelMaxRows = 1048576

// Options are the parameters of a report besides the case itself.
type Options struct {
	// AsOf is the time the report speaks for; zero: the analysis as_of
	// parameter, else the newest time in the evidence (zero in a case
	// without evidence, shown as "no evidence"). Document properties
	// and key ages come from it, never from the clock.
	AsOf    time.Time
	Version string // credtrail version, shown on Summary and Method

	// MaxRows caps the data rows of a sheet; 0: as many as Excel holds.
	// A cut sheet says so at its top and points to the JSON lines output.
	MaxRows int

	// TimelinePerFinding caps the events each finding puts on the Timeline
	// sheet (its first ones in time); 0: DefaultTimelinePerFinding. A
	// volume finding (a bulk download, a discovery burst) names thousands
	// of events, which no reader scrolls: all of them stay in the case and
	// in --format jsonl --tables.
	TimelinePerFinding int

	BaselinePath string    // shown in the workbook; empty: no baseline
	Baseline     []Finding // findings of the earlier run (status resolved skipped)

	SuppressionsPath string
	Suppressions     []Suppression

	// Rules is the catalog of the rules the analysis ran (the caller takes
	// it from package queries): their controls give the Summary its
	// pass/fail table and their remediation the Findings sheet. Nil: a
	// rules table in the case when there is one, else controls are not assessed.
	Rules []Rule

	// ActorTimeline, when set, adds the Actor Timeline sheet: every event
	// of one actor (credtrail timeline), and the Proof links of findings
	// whose events it holds lead there.
	ActorTimeline *ActorTimeline

	// Progress, when set, is called before each step of writing the
	// workbook (step 1 of steps first) with what it does: "sheet Findings".
	Progress func(step, steps int, what string)
}

// ActorTimeline is an actor's timeline for the case workbook: Rows gives
// its events in the full form of queries.Timeline's Rows.
type ActorTimeline struct {
	Actor string // as the command line named it
	Notes []string
	Rows  func(context.Context) (RowSource, error)
}

// Rule is what the report needs of a finding rule's metadata.
type Rule struct {
	ID, Title, Severity string
	Controls            []string // "CIS 1.4", "IAM.4"
	Remediation         string
	Attack              string // MITRE ATT&CK tactics and techniques of an incident rule: "Defense Evasion T1562.008"
}

// Report is a case read for reporting: its findings with their baseline
// status and suppressions, and the facts every output shares.
type Report struct {
	db   *sql.DB
	opts Options

	AsOf     time.Time
	Findings []Finding // report order: severity, rule, account, principal, resource
	Resolved []Finding // in the baseline, gone now

	suppressions []suppressionUse
	params       [][2]string // analysis_parameters, by name
	tables       map[string]bool
	cut          []string // sheets cut at the row limit, for Summary

	evidence bool                // the case holds a loaded input file
	catalog  map[string][]string // rule id -> controls
	controls []ControlStatus
	accounts []string
}

// Load reads what the report needs from the case. It reads only the schema's
// tables and views, never writes.
func Load(ctx context.Context, db *sql.DB, opts Options) (*Report, error) {
	r := &Report{db: db, opts: opts}
	if err := r.loadTables(ctx); err != nil {
		return nil, err
	}
	if !r.tables["findings"] {
		return nil, fmt.Errorf("not a credtrail case (no findings table)")
	}
	if err := r.checkAnalysisCompleted(ctx); err != nil {
		return nil, err
	}
	if err := r.loadParams(ctx); err != nil {
		return nil, err
	}
	asOf, err := r.resolveAsOf(ctx)
	if err != nil {
		return nil, err
	}
	r.AsOf = asOf
	if err := r.loadEvidence(ctx); err != nil {
		return nil, err
	}
	if r.Findings, err = loadFindings(ctx, db); err != nil {
		return nil, err
	}
	if opts.BaselinePath != "" {
		r.Resolved = compareBaseline(r.Findings, opts.Baseline)
	}
	r.suppressions = applySuppressions(r.Findings, opts.Suppressions, r.AsOf)
	if err := r.loadControls(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// Cut lists the sheets of the last workbook written that were cut at the row limit.
func (r *Report) Cut() []string { return r.cut }

// DefaultTimelinePerFinding is how many events of one finding the Timeline sheet shows.
const DefaultTimelinePerFinding = 100

func (r *Report) timelinePerFinding() int {
	if r.opts.TimelinePerFinding > 0 {
		return r.opts.TimelinePerFinding
	}
	return DefaultTimelinePerFinding
}

func (r *Report) maxRows() int {
	if r.opts.MaxRows > 0 && r.opts.MaxRows < ExcelMaxRows-3 {
		return r.opts.MaxRows
	}
	return ExcelMaxRows - 3 // note row, header row, closing note
}

// FailCount is the number of findings at or above severity that are not
// suppressed; with newOnly, only those new against the baseline.
func (r *Report) FailCount(severity string, newOnly bool) int {
	limit := SeverityRank(severity)
	n := 0
	for _, f := range r.Findings {
		rank := SeverityRank(f.Severity)
		if rank < 0 || rank > limit || f.Suppressed != nil {
			continue
		}
		if newOnly && f.Status == StatusUnchanged {
			continue
		}
		n++
	}
	return n
}

func (r *Report) loadTables(ctx context.Context) error {
	rows, err := r.db.QueryContext(ctx, `select table_name from information_schema.tables where table_schema = 'main'`)
	if err != nil {
		return fmt.Errorf("list tables: %w", err)
	}
	defer rows.Close()
	r.tables = map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return fmt.Errorf("list tables: %w", err)
		}
		r.tables[name] = true
	}
	return rows.Err()
}

// ErrAnalysisIncomplete is returned by Load for a case whose last analysis
// did not complete: its findings are an earlier analysis's, or none.
var ErrAnalysisIncomplete = errors.New("the last analysis of this case did not complete (interrupted or failed), so its findings and controls would be wrong: run credtrail analyze again, then report")

// checkAnalysisCompleted compares the markers credtrail analyze writes when
// an analysis starts and when it commits its findings.
func (r *Report) checkAnalysisCompleted(ctx context.Context) error {
	var started, completed sql.NullString
	err := r.db.QueryRowContext(ctx, `select max(value) filter (where key = 'analysis_started'),
		max(value) filter (where key = 'analysis_completed') from case_meta`).Scan(&started, &completed)
	if err != nil {
		return fmt.Errorf("read analysis markers: %w", err)
	}
	if started.Valid && started != completed {
		return ErrAnalysisIncomplete
	}
	return nil
}

func (r *Report) loadParams(ctx context.Context) error {
	if !r.tables["analysis_parameters"] {
		return nil
	}
	rows, err := r.db.QueryContext(ctx, `select name, coalesce(value, '') from analysis_parameters order by name`)
	if err != nil {
		return fmt.Errorf("read analysis parameters: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p [2]string
		if err := rows.Scan(&p[0], &p[1]); err != nil {
			return fmt.Errorf("read analysis parameters: %w", err)
		}
		r.params = append(r.params, p)
	}
	return rows.Err()
}

// param returns an analysis parameter, or "" when the analysis did not set it.
func (r *Report) param(name string) string {
	i := sort.Search(len(r.params), func(i int) bool { return r.params[i][0] >= name })
	if i < len(r.params) && r.params[i][0] == name {
		return r.params[i][1]
	}
	return ""
}

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999Z07",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	time.DateOnly,
}

// parseTime reads a time parameter as written by analyze or a user.
func parseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func (r *Report) timeParam(name string) (time.Time, bool) {
	v := r.param(name)
	if v == "" {
		return time.Time{}, false
	}
	return parseTime(v)
}

// resolveAsOf picks the report's as-of time: the option, the analysis
// parameter, or the newest time in the evidence, in that order.
func (r *Report) resolveAsOf(ctx context.Context) (time.Time, error) {
	if !r.opts.AsOf.IsZero() {
		return r.opts.AsOf.UTC(), nil
	}
	if t, ok := r.timeParam("as_of"); ok {
		return t, nil
	}
	var t sql.NullTime
	err := r.db.QueryRowContext(ctx, `
select greatest(
  (select max(event_time) from events),
  (select max(generated_at) from credential_reports),
  (select max(last_event) from evidence_files))`).Scan(&t)
	if err != nil {
		return time.Time{}, fmt.Errorf("read evidence span: %w", err)
	}
	if t.Valid {
		return t.Time.UTC(), nil
	}
	return time.Time{}, nil // no evidence: no time to speak for
}

// asOfText is the as-of time as shown, or "no evidence" for a case without any.
func (r *Report) asOfText(layout string) string {
	if r.AsOf.IsZero() {
		return "no evidence"
	}
	return r.AsOf.Format(layout)
}

func (r *Report) loadEvidence(ctx context.Context) error {
	if err := r.db.QueryRowContext(ctx, `select exists (select 1 from evidence_files where status in ('loaded', 'duplicate'))`).Scan(&r.evidence); err != nil {
		return fmt.Errorf("evidence files: %w", err)
	}
	return nil
}

// accountAsOfSQL is the time key ages of the account of k (an alias with
// account_id) are measured at: the analysis's per-account as-of, else the
// report's (bound as ?).
const accountAsOfSQL = `coalesce((select a.as_of from account_as_of a where a.account_id = k.account_id), ?::timestamptz)`

// keyMaxAgeDays is the access-key rotation threshold of the analysis (90 by default).
func (r *Report) keyMaxAgeDays() int {
	var n int
	if _, err := fmt.Sscan(r.param("key_max_age_days"), &n); err == nil && n > 0 {
		return n
	}
	return 90
}
