-- id: admin_policy_attached
-- title: Administrator policy attached or written in CloudTrail
-- severity: high
-- controls: CIS 1.16, CIS 4.4, IAM.1
-- attack: TA0003/T1098.003, TA0004/T1098.003
-- needs: cloudtrail
-- rationale: Attaching AdministratorAccess (or writing an inline policy allowing * on *) makes a principal all-powerful in one call; attackers do it to keep access.
-- remediation: Confirm the change was approved; if not, detach the policy and investigate the caller.
with admin_policies as (
    select distinct s.policy_ref
    from policy_statements s
    where s.effect = 'Allow' and list_contains(s.actions, '*') and list_contains(s.resources, '*')
),
e as (
    select e.recipient_account_id as account_id, e.principal_arn, e.user_name, e.event_id, e.event_time, e.event_name, e.source_ip,
           e.access_key_id,
           coalesce(json_extract_string(e.request_parameters, '$.userName'), json_extract_string(e.request_parameters, '$.groupName'), json_extract_string(e.request_parameters, '$.roleName')) as target,
           coalesce(json_extract_string(e.request_parameters, '$.policyArn'), json_extract_string(e.request_parameters, '$.policyName')) as policy,
           json_extract_string(e.request_parameters, '$.policyDocument') as document
    from events e, params p
    where e.event_source = 'iam.amazonaws.com' and e.error_code is null
      -- list_contains, unlike in (...), is tested inside the scan of events, so the parameters of other IAM calls are never read
      and list_contains(['AttachUserPolicy', 'AttachGroupPolicy', 'AttachRolePolicy', 'PutUserPolicy', 'PutGroupPolicy', 'PutRolePolicy'], e.event_name)
      and e.event_time between p.since and p.until
),
admin as (
    select e.*
    from e
    where (e.event_name like 'Attach%' and (e.policy like '%:policy/AdministratorAccess' or e.policy in (select policy_ref from admin_policies)))
       or (e.event_name like 'Put%'
           and regexp_matches(e.document, '"Effect"\s*:\s*"Allow"')
           and regexp_matches(e.document, '"Action"\s*:\s*(\[\s*)?"\*"')
           and regexp_matches(e.document, '"Resource"\s*:\s*(\[\s*)?"\*"'))
)
select account_id, principal_arn, event_name || ' ' || target,
       count(*) || ' ' || event_name || ' call(s) giving ' || target || ' full administrator access ('
         || string_agg(distinct policy, ', ' order by policy) || ') by ' || coalesce(principal_arn, unnamed_actors(list(user_name)))
         || ' from ' || string_agg(distinct source_ip, ', ' order by source_ip),
       json_object('event_ids', list(event_id order by event_time, event_id), 'caller_access_key_ids', list(distinct access_key_id order by access_key_id)),
       min(event_time), max(event_time), count(*)
from admin
group by account_id, principal_arn, event_name, target
