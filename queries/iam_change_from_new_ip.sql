-- id: iam_change_from_new_ip
-- title: Root or IAM change from an address new to the caller
-- severity: medium
-- controls: CIS 4.3, CIS 4.4
-- attack: TA0003/T1098
-- needs: cloudtrail
-- rationale: Identity changes (users, keys, policies, roles) from an address the caller never used before are how stolen credentials turn into persistence.
-- remediation: Confirm the changes with the caller's owner; undo those that are not explained and rotate the caller's credentials.
-- The successful identity changes: few, so the first times below are
-- computed for their callers only (a window over every event costs a sort
-- of the whole trail).
-- IAM calls and root's other calls are read apart: each equality is tested
-- inside the scan of events, where their disjunction made it read every event.
with changes_all as (
    select e.recipient_account_id as account_id, e.principal_arn, e.event_id, e.event_time, e.event_name, e.source_ip
    from events e, params p
    where e.principal_arn is not null and is_ip(e.source_ip) and e.event_time between p.since and p.until
      and e.error_code is null and is_write(e.read_only, e.event_name) and e.event_name <> 'ConsoleLogin'
      and e.event_source = 'iam.amazonaws.com'
    union all
    select e.recipient_account_id as account_id, e.principal_arn, e.event_id, e.event_time, e.event_name, e.source_ip
    from events e, params p
    where e.principal_arn is not null and is_ip(e.source_ip) and e.event_time between p.since and p.until
      and e.error_code is null and is_write(e.read_only, e.event_name) and e.event_name <> 'ConsoleLogin'
      and e.identity_type = 'Root' and e.event_source is distinct from 'iam.amazonaws.com'
),
-- when each of those callers first used each address, over all its calls
ip_firsts as (
    select e.recipient_account_id as account_id, e.principal_arn, e.source_ip, min(e.event_time) as ip_first
    from events e cross join params p
    semi join changes_all k on k.account_id is not distinct from e.recipient_account_id and k.principal_arn = e.principal_arn
    where e.principal_arn is not null and is_ip(e.source_ip) and e.event_time between p.since and p.until
    group by all
),
principal_firsts as (
    select account_id, principal_arn, min(ip_first) as principal_first from ip_firsts group by all
),
changes as (
    select c.*, f.ip_first, pf.principal_first
    from changes_all c
    join ip_firsts f on f.account_id is not distinct from c.account_id and f.principal_arn = c.principal_arn and f.source_ip = c.source_ip
    join principal_firsts pf on pf.account_id is not distinct from c.account_id and pf.principal_arn = c.principal_arn
    cross join params p
    where f.ip_first > pf.principal_first
      and c.event_time <= f.ip_first + to_hours(p.new_ip_hours)
)
select account_id, principal_arn, source_ip,
       count(*) || ' change(s) by ' || principal_arn || ' from ' || source_ip || ', first used by it '
         || strftime(min(ip_first), '%Y-%m-%d %H:%M:%S') || ': '
         || string_agg(distinct event_name, ', ' order by event_name)
         || baseline_note(min(principal_first), min(ip_first), max(p.baseline_hours)),
       json_object('event_ids', list(event_id order by event_time, event_id),
                   'baseline', baseline_evidence(min(principal_first), min(ip_first), max(p.baseline_hours))),
       min(event_time), max(event_time), count(*)
from changes, params p
group by account_id, principal_arn, source_ip
