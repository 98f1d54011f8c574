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
sessions as (
    select e.recipient_account_id as account_id, e.principal_arn, e.access_key_id, e.event_id, e.event_time, e.event_name, e.source_ip,
           e.user_agent, e.vpc_endpoint_id,
           json_extract_string(e.user_identity, '$.sessionContext.ec2RoleDelivery') is not null as from_ec2
    from events e, params p
    where e.identity_type = 'AssumedRole' and e.access_key_id is not null and is_ip(e.source_ip)
      and e.event_time between p.since and p.until
      and (json_extract_string(e.user_identity, '$.sessionContext.ec2RoleDelivery') is not null
        or e.session_issuer_arn in (select role_arn from service_roles))
),
human_addresses as (
    -- addresses IAM users, root or console sessions worked from
    select distinct source_ip
    from events
    where is_ip(source_ip)
      and (identity_type in ('IAMUser', 'Root') or coalesce(session_credential_from_console, false))
),
first_address as (
    select access_key_id, arg_min(source_ip, event_time) as home
    from sessions
    where vpc_endpoint_id is null
    group by access_key_id
),
foreign_calls as (
    select s.*,
           case when s.source_ip in (select source_ip from human_addresses) then 'an address IAM users or console sessions use'
                else 'a second public address (the session first called from ' || f.home || ')' end as why
    from sessions s
    join first_address f using (access_key_id)
    where s.source_ip in (select source_ip from human_addresses)
       or (s.vpc_endpoint_id is null and s.source_ip <> f.home
           and not regexp_matches(s.source_ip, '^(10\.|192\.168\.|172\.(1[6-9]|2[0-9]|3[01])\.|fd|fc)')
           and not regexp_matches(f.home, '^(10\.|192\.168\.|172\.(1[6-9]|2[0-9]|3[01])\.|fd|fc)'))
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
