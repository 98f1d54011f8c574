-- id: session_token_from_new_address
-- title: Session or federation token minted with a long-term key from a new address
-- severity: medium
-- controls: -
-- attack: TA0003/T1550.001, TA0005/T1550.001
-- needs: cloudtrail
-- rationale: GetSessionToken and GetFederationToken turn a long-term access key into temporary credentials; from an address the key never used before it is a stolen key being converted, and federation tokens keep working after the key is deactivated.
-- remediation: Ask the key's owner about the address; if unknown, deactivate the key, deny the federated sessions (aws:TokenIssueTime) and review what the tokens did (token_event_ids in the evidence).
with k as (
    select e.recipient_account_id as account_id, e.principal_arn, e.access_key_id, e.event_id, e.event_time, e.event_name,
           e.source_ip, e.user_agent, json_extract_string(e.response_elements, '$.credentials.accessKeyId') as token_key
    from events e, params p
    where e.access_key_id like 'AKIA%' and is_ip(e.source_ip) and e.error_code is null
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
    select k.account_id, k.principal_arn, k.access_key_id, k.event_id, k.event_time, k.event_name, k.source_ip, k.user_agent,
           k.token_key, f.key_first
    from k
    join firsts f on f.access_key_id = k.access_key_id and f.source_ip = k.source_ip and f.first_time = k.event_time
    -- the key's very first address is not new
    where f.first_time > f.key_first
    qualify row_number() over (partition by k.access_key_id, k.source_ip order by k.event_time, k.event_id) = 1
),
mints as (
    select f.account_id, f.principal_arn, f.access_key_id, f.event_id, f.event_time, f.event_name, f.source_ip, f.user_agent,
           f.token_key, f.key_first,
           (select string_agg(distinct o.source_ip, ', ' order by o.source_ip) from k o
            where o.access_key_id = f.access_key_id and o.event_time < f.event_time) as earlier_ips
    from first_from_ip f
    where f.event_name in ('GetSessionToken', 'GetFederationToken')
),
used as (
    select u.access_key_id as token_key, list(u.event_id order by u.event_time, u.event_id) as ids
    from events u
    where u.access_key_id in (select token_key from mints)
    group by u.access_key_id
)
select m.account_id, any_value(m.principal_arn), m.access_key_id,
       'key ' || m.access_key_id || ' of ' || coalesce(any_value(m.principal_arn), 'an unknown user') || ', used before from '
         || any_value(m.earlier_ips order by m.event_time) || ', minted '
         || string_agg(m.event_name || ' from ' || m.source_ip || ' (user agent ' || coalesce(m.user_agent, 'none') || ')', '; ' order by m.event_time, m.event_id)
         || baseline_note(min(m.key_first), min(m.event_time), max(p.baseline_hours)),
       json_object('event_ids', list(m.event_id order by m.event_time, m.event_id),
                   'baseline', baseline_evidence(min(m.key_first), min(m.event_time), max(p.baseline_hours)),
                   'token_access_key_ids', coalesce(list(distinct m.token_key order by m.token_key) filter (where m.token_key is not null), []),
                   'token_event_ids', coalesce(flatten(list(u.ids) filter (where u.ids is not null)), [])),
       min(m.event_time), max(m.event_time), count(*)
from mints m
left join used u on u.token_key = m.token_key
cross join params p
group by m.account_id, m.access_key_id
