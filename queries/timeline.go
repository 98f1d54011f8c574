package queries

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Actor names whose events a timeline holds. Within one field the values
// are alternatives; the fields given must all match (an access key used
// from an address is AccessKeys and IPs). The credentials the actor's calls
// minted are followed whatever the filters say.
type Actor struct {
	AccessKeys, Principals, IPs, Sessions, UserAgents []string
	Since, Until                                      time.Time // zero: open
	FollowCreatedKeys                                 bool      // follow keys created with CreateAccessKey too
}

// Empty reports whether no filter names the actor.
func (a Actor) Empty() bool {
	return len(a.AccessKeys)+len(a.Principals)+len(a.IPs)+len(a.Sessions)+len(a.UserAgents) == 0
}

// TimelineEvent is one row of a timeline.
type TimelineEvent struct {
	EventTime                                  time.Time
	EventID, AccountID, EventSource, EventName string
	IAMAction                                  string
	Region, SourceIP, UserAgent, ErrorCode     string
	PrincipalARN, IdentityARN, AccessKeyID     string
	Hop                                        int    // 0: the actor's own event; n: through n minted credentials
	ViaKey, ViaCall, ViaEventID                string // the credential and call that minted AccessKeyID
	Resources                                  string // request parameters, as JSON text
	Group                                      string // playbook group of the call, or ""
	EvidenceFile                               string // the evidence file holding the record
	RecordIndex                                int64
}

// Playbook groups of the credential-compromise playbook, and the IAM
// actions of each: what a responder looks for first in a timeline.
var playbook = map[string][]string{
	"persistence": {"iam:CreateUser", "iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile",
		"iam:AttachUserPolicy", "iam:AttachRolePolicy", "iam:AttachGroupPolicy", "iam:PutUserPolicy", "iam:PutRolePolicy",
		"iam:PutGroupPolicy", "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:AddUserToGroup",
		"iam:UpdateAssumeRolePolicy", "iam:CreateRole", "lambda:CreateFunction", "lambda:UpdateFunctionCode",
		"lambda:UpdateFunctionConfiguration", "lambda:AddPermission", "s3:PutBucketPolicy"},
	"defense_evasion": {"cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "cloudtrail:UpdateTrail",
		"cloudtrail:PutEventSelectors", "guardduty:DeleteDetector", "guardduty:UpdateDetector",
		"guardduty:DisassociateFromMasterAccount", "guardduty:DisassociateFromAdministratorAccount",
		"config:StopConfigurationRecorder", "config:DeleteConfigurationRecorder", "config:DeleteDeliveryChannel",
		"s3:PutBucketLifecycle", "s3:PutLifecycleConfiguration", "ec2:DeleteFlowLogs"},
	"data_access": {"s3:GetObject", "secretsmanager:GetSecretValue", "secretsmanager:BatchGetSecretValue",
		"ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath", "dynamodb:GetItem", "dynamodb:Scan",
		"dynamodb:Query", "ec2:ModifySnapshotAttribute", "ec2:ModifyImageAttribute", "rds:ModifyDBSnapshotAttribute",
		"rds:ModifyDBClusterSnapshotAttribute", "ec2:GetPasswordData"},
}

// PlaybookGroups are the playbook's groups in the order a summary lists them.
var PlaybookGroups = []string{"persistence", "defense_evasion", "data_access"}

// playbookValues is a VALUES list of (iam_action, group) for SQL; the
// names are constants of this file, not user input.
func playbookValues() string {
	var rows []string
	for _, g := range PlaybookGroups {
		for _, a := range playbook[g] {
			rows = append(rows, fmt.Sprintf("('%s', '%s')", a, g))
		}
	}
	return "(values " + strings.Join(rows, ", ") + ") as p(iam_action, grp)"
}

// TimelineLead is an access key the actor created for a user: followed
// only with Actor.FollowCreatedKeys.
type TimelineLead struct {
	AccessKeyID, UserName, EventID string
	Time                           time.Time
	Followed                       bool
}

// TimelineCount is one value of a summary list (an address, a user agent,
// a region, a service, a playbook call) with its counts.
type TimelineCount struct {
	Group, Value   string
	Events, Errors int64
	First, Last    time.Time
}

// TimelineKey is one access key of the timeline and how it was reached.
type TimelineKey struct {
	AccessKeyID, ViaKey, ViaCall, ViaEventID string
	Hop                                      int
	Events                                   int64
	First, Last                              time.Time
}

// TimelineSummary is the actor at a glance.
type TimelineSummary struct {
	Events, Errors                                     int64
	First, Last                                        time.Time
	Keys                                               []TimelineKey
	Leads                                              []TimelineLead
	Addresses, UserAgents, Regions, Services, Playbook []TimelineCount
}

// Timeline is an actor's resolved timeline: the keys created for others
// that it follows, ready to summarise and stream.
type Timeline struct {
	actor    Actor
	created  []string
	leads    []TimelineLead
	followed []followedKey
}

// followedKey is a temporary key the actor's credentials minted, and how.
type followedKey struct {
	key, parentKey, call, viaEventID string
	hop                              int
}

// NewTimeline resolves the actor: with FollowCreatedKeys, the keys it
// created (and those their holders created, and so on) join it.
func NewTimeline(ctx context.Context, db *sql.DB, a Actor) (*Timeline, error) {
	if a.Empty() {
		return nil, fmt.Errorf("no actor: give an access key, principal, address, session or user agent")
	}
	t := &Timeline{actor: a}
	for round := 0; ; round++ {
		if err := t.resolveChain(ctx, db); err != nil {
			return nil, err
		}
		leads, err := t.createdKeys(ctx, db)
		if err != nil {
			return nil, err
		}
		t.leads = leads
		if !a.FollowCreatedKeys || round == 16 {
			return t, nil
		}
		grew := false
		for i, l := range leads {
			if !containsString(t.created, l.AccessKeyID) && !containsString(a.AccessKeys, l.AccessKeyID) {
				t.created = append(t.created, l.AccessKeyID)
				grew = true
			}
			t.leads[i].Followed = true
		}
		if !grew {
			return t, nil
		}
	}
}

// Leads are the access keys the actor created for users.
func (t *Timeline) Leads() []TimelineLead { return t.leads }

func containsString(l []string, s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}

// resolveChain finds, once, the temporary keys minted from the actor's
// events (recursively): the queries that follow read them as a list rather
// than searching every event for minting calls again.
func (t *Timeline) resolveChain(ctx context.Context, db *sql.DB) error {
	seed, args := timelineSeed(t.actor, t.created)
	rows, err := db.QueryContext(ctx, "with recursive "+fmt.Sprintf(timelineChainCTE, seed)+`
		select key, coalesce(parent_key, ''), call, via_event_id, hop from followed order by hop, key`, args...)
	if err != nil {
		return fmt.Errorf("timeline: minted keys: %w", err)
	}
	defer rows.Close()
	t.followed = t.followed[:0]
	for rows.Next() {
		var f followedKey
		if err := rows.Scan(&f.key, &f.parentKey, &f.call, &f.viaEventID, &f.hop); err != nil {
			return fmt.Errorf("timeline: minted keys: %w", err)
		}
		t.followed = append(t.followed, f)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("timeline: minted keys: %w", err)
	}
	return nil
}

func (t *Timeline) createdKeys(ctx context.Context, db *sql.DB) ([]TimelineLead, error) {
	with, args := t.query()
	rows, err := db.QueryContext(ctx, with+`
		select json_extract_string(response_elements, '$.accessKey.accessKeyId'), coalesce(json_extract_string(response_elements, '$.accessKey.userName'), ''),
		       event_id, event_time
		from timeline
		where event_name = 'CreateAccessKey' and error_code is null and json_extract_string(response_elements, '$.accessKey.accessKeyId') is not null
		order by event_time, event_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("timeline: created keys: %w", err)
	}
	defer rows.Close()
	var out []TimelineLead
	for rows.Next() {
		var l TimelineLead
		if err := rows.Scan(&l.AccessKeyID, &l.UserName, &l.EventID, &l.Time); err != nil {
			return nil, fmt.Errorf("timeline: created keys: %w", err)
		}
		l.Followed = containsString(t.created, l.AccessKeyID)
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("timeline: created keys: %w", err)
	}
	return out, nil
}

// timelinePageRows is how many rows of a timeline one page holds. The Go
// driver takes a query's result whole before the first row is read, so a
// timeline read in one query held every row: 2.4 GiB for a role's 8.2M
// events at 50M. A page of 50,000 rows is tens of MB.
var timelinePageRows int64 = 50000

// Rows returns the timeline's events in time order as named columns, for
// the table, CSV, JSON and workbook writers; brief keeps the columns a
// terminal shows. The rows are put in time order once, in a temporary table
// that DuckDB spills beyond its memory limit, and read from it a page at a
// time on a connection of their own, which Close releases.
func (t *Timeline) Rows(ctx context.Context, db *sql.DB, brief bool) (*TimelineRows, error) {
	with, args := t.query()
	cols := `t.event_time, t.event_id, t.recipient_account_id as account_id, t.event_source, t.event_name, t.iam_action,
		       t.aws_region, t.source_ip, t.user_agent, t.error_code, t.principal_arn, t.identity_arn, t.access_key_id,
		       t.hop, t.via_key, t.via_call, t.via_event_id, t.request_parameters::varchar as request_parameters,
		       p.grp as playbook, ef.path as evidence_file, t.record_index`
	if brief {
		cols = `t.event_time, t.event_name, t.access_key_id, t.via_key, t.source_ip, t.aws_region, t.error_code,
		       coalesce(t.identity_arn, t.principal_arn) as identity, p.grp as playbook`
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("timeline: %w", err)
	}
	r := &TimelineRows{ctx: ctx, conn: conn}
	_, err = conn.ExecContext(ctx, `create or replace temp table timeline_rows as `+with+`
		select row_number() over (order by t.event_time, t.event_id, t.recipient_account_id) as timeline_row, `+cols+`
		from timeline t left join `+playbookValues()+` on p.iam_action = t.iam_action
		left join evidence_files ef on ef.file_id = t.file_id
		order by timeline_row`, args...)
	if err == nil {
		err = conn.QueryRowContext(ctx, "select count(*) from timeline_rows").Scan(&r.total)
	}
	if err == nil {
		err = r.nextPage()
	}
	if err == nil {
		r.cols, err = r.page.Columns()
	}
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("timeline: %w", err)
	}
	return r, nil
}

// TimelineRows are a timeline's rows in time order, read a page at a time.
// They are read like *sql.Rows: Next, Scan, Err, Close.
type TimelineRows struct {
	ctx   context.Context
	conn  *sql.Conn
	cols  []string
	page  *sql.Rows
	read  int64 // rows of the pages opened so far
	total int64
	err   error
}

// nextPage opens the page after the rows read so far.
func (r *TimelineRows) nextPage() error {
	if r.page != nil {
		if err := r.page.Close(); err != nil {
			return err
		}
	}
	page, err := r.conn.QueryContext(r.ctx, `select * exclude (timeline_row) from timeline_rows
		where timeline_row > ? and timeline_row <= ? order by timeline_row`, r.read, r.read+timelinePageRows)
	if err != nil {
		return err
	}
	r.page, r.read = page, r.read+timelinePageRows
	return nil
}

// Columns are the names of the timeline's columns.
func (r *TimelineRows) Columns() ([]string, error) { return r.cols, nil }

// Next moves to the next row, opening the next page when one ends.
func (r *TimelineRows) Next() bool {
	if r.err != nil || r.page == nil {
		return false
	}
	for !r.page.Next() {
		if r.err = r.page.Err(); r.err != nil || r.read >= r.total {
			return false
		}
		if r.err = r.nextPage(); r.err != nil {
			return false
		}
	}
	return true
}

// Scan copies the current row's columns into dest, as sql.Rows.Scan does.
func (r *TimelineRows) Scan(dest ...any) error { return r.page.Scan(dest...) }

// Err is the error that ended Next early, if any.
func (r *TimelineRows) Err() error { return r.err }

// Close drops the timeline's table and releases its connection.
func (r *TimelineRows) Close() error {
	var err error
	if r.page != nil {
		err = r.page.Close()
		r.page = nil
	}
	if r.conn != nil {
		_, derr := r.conn.ExecContext(context.WithoutCancel(r.ctx), "drop table if exists temp.timeline_rows")
		err = errors.Join(err, derr, r.conn.Close())
		r.conn = nil
	}
	return err
}

// Events streams the timeline's events in time order to each.
func (t *Timeline) Events(ctx context.Context, db *sql.DB, each func(TimelineEvent) error) error {
	rows, err := t.Rows(ctx, db, false)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var e TimelineEvent
		var account, source, name, action, region, ip, agent, code, principal, identity, key, viaKey, viaCall, viaEvent, params, group, file sql.NullString
		if err := rows.Scan(&e.EventTime, &e.EventID, &account, &source, &name, &action, &region, &ip, &agent, &code,
			&principal, &identity, &key, &e.Hop, &viaKey, &viaCall, &viaEvent, &params, &group, &file, &e.RecordIndex); err != nil {
			return fmt.Errorf("timeline: %w", err)
		}
		e.AccountID, e.EventSource, e.EventName, e.IAMAction = account.String, source.String, name.String, action.String
		e.Region, e.SourceIP, e.UserAgent, e.ErrorCode = region.String, ip.String, agent.String, code.String
		e.PrincipalARN, e.IdentityARN, e.AccessKeyID = principal.String, identity.String, key.String
		e.ViaKey, e.ViaCall, e.ViaEventID, e.Resources, e.Group, e.EvidenceFile = viaKey.String, viaCall.String, viaEvent.String, params.String, group.String, file.String
		if err := each(e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("timeline: %w", err)
	}
	return nil
}

// Summary sums the timeline up per key, address, user agent, region,
// service and playbook call.
func (t *Timeline) Summary(ctx context.Context, db *sql.DB) (TimelineSummary, error) {
	s := TimelineSummary{Leads: t.leads}
	with, args := t.query()
	var first, last sql.NullTime
	if err := db.QueryRowContext(ctx, with+` select count(*), count(error_code), min(event_time), max(event_time) from timeline`, args...).
		Scan(&s.Events, &s.Errors, &first, &last); err != nil {
		return s, fmt.Errorf("timeline summary: %w", err)
	}
	s.First, s.Last = first.Time, last.Time
	rows, err := db.QueryContext(ctx, with+` select coalesce(access_key_id, ''), arg_min(coalesce(via_key, ''), hop),
		    arg_min(coalesce(via_call, ''), hop), arg_min(coalesce(via_event_id, ''), hop), min(hop), count(*),
		    min(event_time), max(event_time)
		from timeline group by all order by 7, 1`, args...)
	if err != nil {
		return s, fmt.Errorf("timeline summary: %w", err)
	}
	for rows.Next() {
		var k TimelineKey
		if err := rows.Scan(&k.AccessKeyID, &k.ViaKey, &k.ViaCall, &k.ViaEventID, &k.Hop, &k.Events, &k.First, &k.Last); err != nil {
			rows.Close()
			return s, fmt.Errorf("timeline summary: %w", err)
		}
		s.Keys = append(s.Keys, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return s, fmt.Errorf("timeline summary: %w", err)
	}
	lists := []struct {
		into *[]TimelineCount
		expr string
	}{
		{&s.Addresses, "'', coalesce(t.source_ip, '')"},
		{&s.UserAgents, "'', coalesce(t.user_agent, '')"},
		{&s.Regions, "'', coalesce(t.aws_region, '')"},
		{&s.Services, "'', coalesce(t.event_source, '')"},
		{&s.Playbook, "p.grp, t.iam_action"},
	}
	for _, l := range lists {
		rows, err := db.QueryContext(ctx, with+` select `+l.expr+`, count(*), count(t.error_code), min(t.event_time), max(t.event_time)
			from timeline t left join `+playbookValues()+` on p.iam_action = t.iam_action
			where `+strings.SplitN(l.expr, ",", 2)[0]+` is not null
			group by all order by 1, 5, 2`, args...)
		if err != nil {
			return s, fmt.Errorf("timeline summary: %w", err)
		}
		for rows.Next() {
			var c TimelineCount
			if err := rows.Scan(&c.Group, &c.Value, &c.Events, &c.Errors, &c.First, &c.Last); err != nil {
				rows.Close()
				return s, fmt.Errorf("timeline summary: %w", err)
			}
			*l.into = append(*l.into, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return s, fmt.Errorf("timeline summary: %w", err)
		}
	}
	return s, nil
}

// Minting calls: their responseElements.credentials.accessKeyId is a new
// temporary key whose calls belong to whoever held the caller's key.
const timelineChainCTE = `
minting as (
    select event_id, access_key_id as parent_key, event_name as call,
           json_extract_string(response_elements, '$.credentials.accessKeyId') as child_key
    from events
    where event_name in ('AssumeRole', 'AssumeRoleWithSAML', 'AssumeRoleWithWebIdentity', 'GetSessionToken', 'GetFederationToken')
      and error_code is null and json_extract_string(response_elements, '$.credentials.accessKeyId') is not null
    union all
    -- A console sign-in's session keys carry the sign-in time as their
    -- session creation date.
    select l.event_id, null, 'ConsoleLogin', s.access_key_id
    from events l
    join (select distinct principal_arn, access_key_id,
                 try_cast(json_extract_string(user_identity, '$.sessionContext.attributes.creationDate') as timestamptz) as created
          from events where session_credential_from_console and access_key_id is not null) s
      on s.principal_arn = l.principal_arn and s.created between l.event_time - interval 5 minute and l.event_time + interval 5 minute
    where l.event_name = 'ConsoleLogin' and l.console_login = 'Success'
),
seed as (
    select event_id, recipient_account_id from events e where %s
),
chain as (
    select m.child_key as key, m.parent_key, m.call, m.event_id as via_event_id, 1 as hop
    from minting m where m.event_id in (select event_id from seed)
    union
    select m.child_key, m.parent_key, m.call, m.event_id, c.hop + 1
    from chain c join minting m on m.parent_key = c.key
    where c.hop < 16
),
followed as (
    select key, arg_min(parent_key, hop) as parent_key, arg_min(call, hop) as call,
           arg_min(via_event_id, hop) as via_event_id, min(hop) as hop
    from chain group by key
)`

// timelineSeed returns the condition on events e that picks the actor's own
// events (widened by created, the keys it created for others, when they are
// followed) within its window, and its arguments. Every value a user gave
// is bound, never written into the SQL.
func timelineSeed(a Actor, created []string) (string, []any) {
	var where []string
	var args []any
	anyOf := func(expr string, values []string) {
		if len(values) == 0 {
			return
		}
		or := make([]string, len(values))
		for i, v := range values {
			or[i] = expr
			for range strings.Count(expr, "?") {
				args = append(args, v)
			}
		}
		where = append(where, "("+strings.Join(or, " or ")+")")
	}
	anyOf("e.access_key_id = ?", a.AccessKeys)
	anyOf("e.principal_arn = ?", a.Principals)
	anyOf("e.source_ip = ?", a.IPs)
	anyOf("(e.identity_arn like 'arn:%:sts::%' and ends_with(e.identity_arn, '/' || ?))", a.Sessions)
	anyOf("contains(e.user_agent, ?)", a.UserAgents)
	seed := "(" + strings.Join(where, " and ") + ")"
	if len(created) > 0 {
		where = where[:0]
		anyOf("e.access_key_id = ?", created)
		seed = "(" + seed + " or " + where[0] + ")"
	}
	window, wargs := timelineWindow(a)
	return "coalesce(" + seed + ", false) and " + window, append(args, wargs...)
}

// query returns the WITH clause defining timeline: the actor's own events
// (hop 0) and those of the keys its credentials minted, each with the hop
// and the call it came through.
func (t *Timeline) query() (string, []any) {
	seed, seedArgs := timelineSeed(t.actor, t.created)
	args := append([]any(nil), seedArgs...)
	q := `with timeline as (
    select e.*, 0 as hop, null::varchar as via_key, null::varchar as via_call, null::varchar as via_event_id
    from events e where ` + seed
	if len(t.followed) > 0 {
		window, wargs := timelineWindow(t.actor)
		vals := make([]string, len(t.followed))
		for i, f := range t.followed {
			vals[i] = "(?::varchar, ?::varchar, ?::varchar, ?::varchar, ?::integer)"
			parent := any(f.parentKey)
			if f.parentKey == "" {
				parent = nil
			}
			args = append(args, f.key, parent, f.call, f.viaEventID, f.hop)
		}
		q += `
    union all
    select e.*, f.hop, f.parent_key, f.call, f.via_event_id
    from events e join (values ` + strings.Join(vals, ", ") + `) as f(key, parent_key, call, via_event_id, hop) on e.access_key_id = f.key
    where not (` + seed + `) and ` + window
		args = append(args, seedArgs...) // the seed again, excluding the actor's own events
		args = append(args, wargs...)
	}
	return q + "\n) ", args
}

func timelineWindow(a Actor) (string, []any) {
	parts := []string{"true"}
	var args []any
	if !a.Since.IsZero() {
		parts = append(parts, "e.event_time >= ?")
		args = append(args, a.Since)
	}
	if !a.Until.IsZero() {
		parts = append(parts, "e.event_time <= ?")
		args = append(args, a.Until)
	}
	return strings.Join(parts, " and "), args
}
