-- id: instance_credentials_used_elsewhere
-- title: Instance or function role credentials used away from where they were issued
-- severity: high
-- controls: -
-- attack: TA0006/T1552.005, TA0005/T1078.004
-- needs: cloudtrail
-- rationale: Credentials that EC2 delivers to an instance (and, when the authorization details show a role trusted only by Lambda or ECS tasks, that role's sessions) are used by software on that host from its own addresses; the same session calling from an address where IAM users or console sessions work, or from two public addresses, means the credentials were taken off the host (SSRF, metadata theft, a shell) and replayed.
-- remediation: Revoke the role's active sessions (an aws:TokenIssueTime deny), find how the credentials left the host (metadata service v1, SSRF, a compromised process), enforce IMDSv2, and review what the session did from the foreign address.
with service_roles as (
    -- roles only Lambda or ECS tasks may assume, when the authorization details say so
    select t.role_arn
    from role_trust t
    group by t.role_arn
    having bool_and(t.principal_kind = 'Service' and t.principal_value in ('lambda.amazonaws.com', 'ecs-tasks.amazonaws.com'))
),
-- Instance and task sessions make most of a trail's calls (7M of 10M), but
-- what makes a call foreign depends only on its session key, its address and
-- the first address of its key. So the calls are read twice and never held:
-- once counted per key, address and identity (the identity is the same text
-- for all the calls of a session, so its JSON is parsed once per group, not
-- per call), once more for the few (key, address) pairs found foreign.
calls as (
    select e.access_key_id, e.source_ip, e.user_identity, e.session_issuer_arn, count(*) as n,
           min(e.event_time) filter (where e.vpc_endpoint_id is null) as first_time
    from events e, params p
    where e.identity_type = 'AssumedRole' and e.access_key_id is not null and is_ip(e.source_ip)
      and e.event_time between p.since and p.until
    group by e.access_key_id, e.source_ip, e.user_identity, e.session_issuer_arn
),
pairs as (
    -- per key and address: its calls, those of an instance's session (from_ec2), and those of an instance's or a task's
    select access_key_id, source_ip, sum(n) as n, coalesce(sum(n) filter (where from_ec2), 0) as n_ec2,
           coalesce(sum(n) filter (where from_ec2 or from_service), 0) as n_session,
           min(first_time) filter (where from_ec2 or from_service) as first_time
    from (select c.access_key_id, c.source_ip, c.n, c.first_time,
                 json_extract_string(c.user_identity, '$.sessionContext.ec2RoleDelivery') is not null as from_ec2,
                 coalesce(c.session_issuer_arn in (select role_arn from service_roles), false) as from_service
          from calls c)
    group by access_key_id, source_ip
),
first_address as (
    -- two addresses first at the same time: the smaller is home, the same on every run
    select access_key_id, arg_min(source_ip, (first_time, source_ip)) as home
    from pairs
    where first_time is not null
    group by access_key_id
),
human_addresses as (
    -- addresses IAM users, root or console sessions worked from
    select distinct source_ip
    from events
    where is_ip(source_ip)
      and (identity_type in ('IAMUser', 'Root') or coalesce(session_credential_from_console, false))
),
foreign_pairs as (
    select p.access_key_id, p.source_ip, f.home, p.n, p.n_ec2, p.n_session,
           p.source_ip in (select source_ip from human_addresses) as human,
           p.source_ip <> f.home
             and not regexp_matches(p.source_ip, '^(10\.|192\.168\.|172\.(1[6-9]|2[0-9]|3[01])\.|fd|fc)')
             and not regexp_matches(f.home, '^(10\.|192\.168\.|172\.(1[6-9]|2[0-9]|3[01])\.|fd|fc)') as far
    from pairs p
    join first_address f using (access_key_id)
    where p.n_session > 0 and (human or far)
),
foreign_calls as (
    select e.recipient_account_id as account_id, e.principal_arn, e.access_key_id, e.event_id, e.event_time, e.source_ip, e.user_agent,
           case when f.n_ec2 = f.n then true when f.n_ec2 = 0 then false
                else json_extract_string(e.user_identity, '$.sessionContext.ec2RoleDelivery') is not null end as from_ec2,
           case when f.human then 'an address IAM users or console sessions use'
                else 'a second public address (the session first called from ' || f.home || ')' end as why
    from events e
    join foreign_pairs f on f.access_key_id = e.access_key_id and f.source_ip = e.source_ip
    cross join params p
    where e.identity_type = 'AssumedRole' and e.event_time between p.since and p.until
      and (f.human or (f.far and e.vpc_endpoint_id is null))
      and (f.n_session = f.n
           or json_extract_string(e.user_identity, '$.sessionContext.ec2RoleDelivery') is not null
           or e.session_issuer_arn in (select role_arn from service_roles))
)
select account_id, any_value(principal_arn), access_key_id,
       'session ' || access_key_id || ' of ' || coalesce(any_value(principal_arn), 'an unknown role')
         || case when bool_or(from_ec2) then ' (credentials delivered to an EC2 instance)' else ' (a role only Lambda or ECS tasks assume)' end
         || ' made ' || count(*) || ' call(s) from ' || string_agg(distinct source_ip, ', ' order by source_ip)
         || ', ' || string_agg(distinct why, '; ' order by why)
         || ' with ' || string_agg(distinct coalesce(user_agent, '?'), ', ' order by coalesce(user_agent, '?')),
       json_object('event_ids', list(event_id order by event_time, event_id)),
       min(event_time), max(event_time), count(*)
from foreign_calls
group by account_id, access_key_id
