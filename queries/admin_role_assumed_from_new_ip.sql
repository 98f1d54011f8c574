-- id: admin_role_assumed_from_new_ip
-- title: Administrator role assumed from an address new to the caller
-- severity: high
-- controls: -
-- attack: TA0001/T1078.004, TA0008/T1550.001
-- needs: cloudtrail, authorization_details
-- rationale: A credential that starts calling from a new address and at once assumes an administrator role is the shape of a stolen key escalating.
-- remediation: Confirm with the caller's owner; if unexplained, revoke the role's sessions (AWSRevokeOlderSessions), deactivate the key and review the session.
with admin_roles as (
    select distinct a.principal_arn as role_arn
    from policy_attachments a
    join policy_statements s on s.policy_ref = a.policy_ref
    where a.principal_type = 'role' and not a.is_boundary
      and s.effect = 'Allow' and list_contains(s.actions, '*') and list_contains(s.resources, '*')
),
calls as (
    select e.recipient_account_id as account_id, e.principal_arn, coalesce(e.access_key_id, e.principal_arn) as credential,
           e.event_id, e.event_time, e.event_name, e.event_source, e.source_ip, e.error_code,
           json_extract_string(e.request_parameters, '$.roleArn') as role_arn, json_extract_string(e.request_parameters, '$.roleSessionName') as session_name,
           min(e.event_time) over (partition by coalesce(e.access_key_id, e.principal_arn)) as credential_first,
           min(e.event_time) over (partition by coalesce(e.access_key_id, e.principal_arn), e.source_ip) as ip_first
    from events e, params p
    where e.principal_arn is not null and is_ip(e.source_ip) and e.event_time between p.since and p.until
),
assumed as (
    select c.*
    from calls c, params p
    where c.event_source = 'sts.amazonaws.com' and c.event_name = 'AssumeRole' and c.error_code is null
      and c.role_arn in (select role_arn from admin_roles)
      and c.ip_first > c.credential_first
      and c.event_time <= c.ip_first + to_hours(p.new_ip_hours)
)
select account_id, principal_arn, role_arn,
       principal_arn || case when credential <> principal_arn then ' (key ' || credential || ')' else '' end
         || ' assumed the administrator role ' || role_arn || ' ' || count(*) || ' time(s) from ' || string_agg(distinct source_ip, ', ' order by source_ip)
         || ', an address it first used ' || strftime(min(ip_first), '%Y-%m-%d %H:%M:%S')
         || coalesce(' (session names ' || string_agg(distinct session_name, ', ' order by session_name) || ')', ''),
       json_object('event_ids', list(event_id order by event_time, event_id), 'caller_access_key_ids', list(distinct credential order by credential)),
       min(event_time), max(event_time), count(*)
from assumed
group by account_id, principal_arn, role_arn, credential
