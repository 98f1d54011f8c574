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
-- The successful AssumeRole calls into an administrator role: few, so the
-- first times below are computed for their callers only (a window over every
-- event costs a sort of the whole trail).
assumed_all as (
    select e.recipient_account_id as account_id, e.principal_arn, coalesce(e.access_key_id, e.principal_arn) as credential,
           e.event_id, e.event_time, e.source_ip,
           json_extract_string(e.request_parameters, '$.roleArn') as role_arn, json_extract_string(e.request_parameters, '$.roleSessionName') as session_name
    from events e, params p
    where e.principal_arn is not null and is_ip(e.source_ip) and e.event_time between p.since and p.until
      and e.event_source = 'sts.amazonaws.com' and e.event_name = 'AssumeRole' and e.error_code is null
      and json_extract_string(e.request_parameters, '$.roleArn') in (select role_arn from admin_roles)
),
-- when each of those callers first used each address, over all its calls
ip_firsts as (
    select coalesce(e.access_key_id, e.principal_arn) as credential, e.source_ip, min(e.event_time) as ip_first
    from events e, params p
    where e.principal_arn is not null and is_ip(e.source_ip) and e.event_time between p.since and p.until
      and coalesce(e.access_key_id, e.principal_arn) in (select credential from assumed_all)
    group by all
),
credential_firsts as (
    select credential, min(ip_first) as credential_first from ip_firsts group by credential
),
assumed as (
    select c.*, f.ip_first, cf.credential_first
    from assumed_all c
    join ip_firsts f using (credential, source_ip)
    join credential_firsts cf using (credential), params p
    where f.ip_first > cf.credential_first
      and c.event_time <= f.ip_first + to_hours(p.new_ip_hours)
)
select account_id, principal_arn, role_arn,
       principal_arn || case when credential <> principal_arn then ' (key ' || credential || ')' else '' end
         || ' assumed the administrator role ' || role_arn || ' ' || count(*) || ' time(s) from ' || string_agg(distinct source_ip, ', ' order by source_ip)
         || ', an address it first used ' || strftime(min(ip_first), '%Y-%m-%d %H:%M:%S')
         || coalesce(' (session names ' || string_agg(distinct session_name, ', ' order by session_name) || ')', '')
         || baseline_note(min(credential_first), min(ip_first), max(p.baseline_hours)),
       json_object('event_ids', list(event_id order by event_time, event_id), 'caller_access_key_ids', list(distinct credential order by credential),
                   'baseline', baseline_evidence(min(credential_first), min(ip_first), max(p.baseline_hours))),
       min(event_time), max(event_time), count(*)
from assumed, params p
group by account_id, principal_arn, role_arn, credential
