-- id: evidence_conflict
-- title: Copies of one CloudTrail event differ (altered or forged evidence)
-- severity: high
-- controls: -
-- attack: TA0005/T1070
-- needs: cloudtrail
-- rationale: CloudTrail delivers an event again only as an identical copy; two records with one eventID and different content mean that log files were altered, forged or mixed with another source, and the copy analysed may be the false one. Every conflict in the case is reported, whatever the window.
-- remediation: Compare the copies in conflicting_events with their files, validate the log files against their CloudTrail digests (credtrail verify), and confirm the findings on these events from another source before relying on them.
with copies as (
    select x.event_id, x.recipient_account_id, x.file_id, x.content_sha256
    from conflicting_events x
),
per_event as (
    select c.recipient_account_id, c.event_id, count(*) as copies, count(distinct c.content_sha256) as versions,
           any_value(e.event_time) as event_time, any_value(e.event_name) as event_name
    from copies c
    left join events e on e.event_id = c.event_id and e.recipient_account_id is not distinct from c.recipient_account_id
    group by all
),
per_account as (
    select recipient_account_id, count(distinct file_id) as files
    from copies
    group by all
)
select p.recipient_account_id, null, null,
       count(*) || ' events have copies with different content (' || sum(p.copies) || ' copies, '
         || sum(p.versions) || ' versions, in ' || any_value(a.files) || ' evidence files); calls as kept: '
         || coalesce(string_agg(distinct p.event_name, ', ' order by p.event_name), '-'),
       json_object('event_ids', list(p.event_id order by p.event_time, p.event_id)),
       min(p.event_time), max(p.event_time), count(*)
from per_event p
join per_account a on a.recipient_account_id is not distinct from p.recipient_account_id
group by p.recipient_account_id
