-- id: get_caller_identity_from_new_ip
-- title: Access key checked with GetCallerIdentity from a new address
-- severity: high
-- controls: -
-- attack: TA0007/T1087.004, TA0001/T1078.004
-- needs: cloudtrail
-- rationale: The first thing done with a stolen key is "aws sts get-caller-identity"; a key that has a usual address and suddenly starts from another one with that call has probably leaked.
-- remediation: Ask the key's owner about the address; if unknown, deactivate the key and review everything it did from there.
with k as (
    select e.recipient_account_id as account_id, e.principal_arn, e.user_name, e.access_key_id, e.event_id, e.event_time, e.event_name,
           e.source_ip, e.user_agent
    from events e, params p
    where e.access_key_id like 'AKIA%' and is_ip(e.source_ip)
      and e.event_time between p.since and p.until
),
-- A key's first call from an address is the earliest, the lowest event id
-- among calls at the same time. Ranking every call of every key cost most of
-- the rule; the earliest time per key and address is a grouped min, and only
-- the calls at that time are ranked.
firsts as (
    select access_key_id, source_ip, min(event_time) as first_time,
           min(min(event_time)) over (partition by access_key_id) as key_first
    from k
    group by access_key_id, source_ip
),
first_from_ip as (
    select k.account_id, k.principal_arn, k.user_name, k.access_key_id, k.event_id, k.event_time, k.event_name,
           k.source_ip, k.user_agent, f.key_first
    from k
    join firsts f on f.access_key_id = k.access_key_id and f.source_ip = k.source_ip and f.first_time = k.event_time
    -- the key's very first address is not new
    where f.first_time > f.key_first
    qualify row_number() over (partition by k.access_key_id, k.source_ip order by k.event_time, k.event_id) = 1
),
checks as (
    select f.account_id, f.principal_arn, f.user_name, f.access_key_id, f.event_id, f.event_time, f.source_ip, f.user_agent, f.key_first,
           (select string_agg(distinct o.source_ip, ', ' order by o.source_ip) from k o
            where o.access_key_id = f.access_key_id and o.event_time < f.event_time) as earlier_ips
    from first_from_ip f
    where f.event_name = 'GetCallerIdentity'
)
select account_id, any_value(principal_arn), access_key_id,
       'key ' || access_key_id || ' of ' || coalesce(any_value(principal_arn), unnamed_actors(list(user_name))) || ', used before from '
         || any_value(earlier_ips order by event_time) || ', is first seen from '
         || string_agg(source_ip || ' with GetCallerIdentity (user agent ' || coalesce(user_agent, 'none') || ')', '; ' order by event_time, event_id)
         || baseline_note(min(key_first), min(event_time), max(p.baseline_hours)),
       json_object('event_ids', list(event_id order by event_time, event_id), 'access_key_id', access_key_id,
                   'baseline', baseline_evidence(min(key_first), min(event_time), max(p.baseline_hours))),
       min(event_time), max(event_time), count(*)
from checks, params p
group by account_id, access_key_id
