package report

import (
	"context"
	"fmt"
)

// eventColumnsSQL are the columns of an event row on Root Activity and Timeline after the first ones.
const eventFileSQL = `left join evidence_files ef on ef.file_id = e.file_id`

func (b *book) writeRootActivity(ctx context.Context) error {
	return b.writeTable(ctx, table{
		sheet: SheetRootActivity,
		print: 10, // to Error code
		note:  "Every CloudTrail event of a root user, oldest first. Times are UTC. MFA: MFA used at console sign-in, or the session's MFA flag.",
		columns: []column{
			{"Time (UTC)", 20, kDateTime}, {"Account", 14, kText}, {"Event source", 24, kText}, {"Event", 26, kText},
			{"Region", 13, kText}, {"Source IP", 16, kText}, {"User agent", 40, kText}, {"MFA used", 9, kBool},
			{"Console login", 12, kText}, {"Error code", 20, kText}, {"Error message", 36, kWrap}, {"Read only", 9, kBool},
			{"Access key", 22, kText}, {"Event ID", 38, kText}, {"Evidence file", 48, kText}, {"Record", 8, kInt},
		},
		query: `
select e.event_time, e.recipient_account_id, e.event_source, e.event_name, e.aws_region, e.source_ip, e.user_agent,
       coalesce(e.mfa_used, e.mfa_authenticated), e.console_login, e.error_code, e.error_message, e.read_only,
       e.access_key_id, e.event_id, ef.path, e.record_index
from events e ` + eventFileSQL + `
where e.identity_type = 'Root' or e.principal_arn like 'arn:%:iam::%:root'
order by e.event_time, e.event_id, e.recipient_account_id`,
	})
}

// evidenceRefsSQL lists (finding_id, event_id) for every event a finding's
// evidence names: any string in the evidence JSON equal to an event id. The
// strings are unnested in the select list: a lateral unnest copies the whole
// evidence per string, which ran out of memory on a 3M-event case (21,000
// event ids of 800 KB evidence). The events named are then found with a
// semi-join on the references, keeping only what ranks them: a volume
// finding names 100,000 events, and their every column held 1 GiB at 10M
// events; the sheet's columns are read for the events it shows only.
const evidenceRefsSQL = `
refs as (
  select distinct finding_id, rule_id, ref from (
    select f.finding_id, f.rule_id, unnest(regexp_extract_all(f.evidence::varchar, '"([^"\\]+)"', 1)) as ref
    from findings f
    where f.evidence is not null)
),
named as (
  select e.event_id, e.event_time, e.recipient_account_id from events e where e.event_id in (select ref from refs)
),
-- each finding's events numbered oldest first: the sheet keeps an event
-- that is among the first $1 of some finding
ranked as (
  select refs.finding_id, refs.rule_id, n.event_id, n.recipient_account_id,
         row_number() over (partition by refs.finding_id order by n.event_time, n.event_id, n.recipient_account_id) as nth
  from refs join named n on n.event_id = refs.ref
),
hits as (
  select event_id, recipient_account_id, string_agg(distinct rule_id, ', ' order by rule_id) as rules
  from ranked
  group by event_id, recipient_account_id
  having min(nth) <= $1
)`

// actorCommand is the command the Timeline note gives for every event of
// one actor: the principal's ARN goes where it says ARN.
const actorCommand = "credtrail timeline CASE.duckdb --principal ARN"

func (b *book) writeTimeline(ctx context.Context) error {
	per := b.r.timelinePerFinding()
	note := "The events that prove a finding (its evidence), oldest first, with the rules they prove. Times are UTC. "
	// Findings with more events than the sheet takes: counted from the
	// evidence, not from the events.
	var over, most int64
	err := b.r.db.QueryRowContext(ctx, `select count(*), coalesce(max(n), 0) from (
  select json_array_length(evidence, '$.event_ids') as n from findings where json_type(evidence, '$.event_ids') = 'ARRAY')
where n > ?`, per).Scan(&over, &most)
	if err != nil {
		return fmt.Errorf("count the events of findings: %w", err)
	}
	if over > 0 {
		note = fmt.Sprintf("CAPPED: each finding shows its first %d events here; %d finding(s) have more (up to %d). "+
			"All of them: the finding's evidence event_ids in findings.jsonl and the events in events.jsonl (credtrail report CASE.duckdb --format jsonl --tables -o DIR). ",
			per, over, most) + note
	}
	return b.writeTable(ctx, table{
		sheet: SheetTimeline,
		print: 10, // to Source IP
		note:  note + "Every event of one actor, with the sessions its credentials minted: " + actorCommand + " (or --access-key KEY, --ip ADDR).",
		args:  []any{per},
		columns: []column{
			{"Time (UTC)", 20, kDateTime}, {"Findings (rules)", 30, kWrap}, {"Account", 14, kText}, {"Identity type", 14, kText},
			{"Principal", 44, kText}, {"Access key", 22, kText}, {"Event source", 24, kText}, {"Event", 26, kText},
			{"Region", 13, kText}, {"Source IP", 16, kText}, {"User agent", 40, kText}, {"Error code", 20, kText},
			{"Read only", 9, kBool}, {"Event ID", 38, kText}, {"Evidence file", 48, kText}, {"Record", 8, kInt},
		},
		query: `
with ` + evidenceRefsSQL + `
select e.event_time, hits.rules, e.recipient_account_id, e.identity_type, e.principal_arn, e.access_key_id,
       e.event_source, e.event_name, e.aws_region, e.source_ip, e.user_agent, e.error_code, e.read_only,
       e.event_id, ef.path, e.record_index
from events e join hits using (event_id, recipient_account_id) ` + eventFileSQL + `
order by e.event_time, e.event_id, e.recipient_account_id`,
		onRow: func(row []any, sheetRow int) {
			if id, ok := row[13].(string); ok {
				if _, seen := b.proof[id]; !seen {
					b.proof[id] = sheetRow
				}
			}
		},
	})
}
