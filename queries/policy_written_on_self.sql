-- id: policy_written_on_self
-- title: Principal wrote or attached a policy on itself or its groups
-- severity: high
-- controls: CIS 1.16
-- attack: TA0004/T1098.003, TA0004/T1548
-- needs: cloudtrail
-- rationale: A user or role that attaches or writes a policy on itself, adds itself to a group, writes a policy on one of its groups, or publishes a new default version of a policy attached to it is raising its own rights, the core move of the IAM privilege-escalation catalogue; administrators change other identities, not their own. Group membership and attachments come from the authorization details and from AddUserToGroup calls in the case.
-- remediation: Revert the change (detach, delete the inline policy or version, remove the membership), find out how the principal got the right to make it, and review what it did after.
with calls as (
    select e.recipient_account_id as account_id, e.principal_arn, e.event_id, e.event_time, e.event_name, e.source_ip, e.identity_type,
           json_extract_string(e.request_parameters, '$.userName') as user_name,
           json_extract_string(e.request_parameters, '$.roleName') as role_name,
           json_extract_string(e.request_parameters, '$.groupName') as group_name,
           json_extract_string(e.request_parameters, '$.policyArn') as policy_arn,
           coalesce(json_extract_string(e.request_parameters, '$.policyArn'), json_extract_string(e.request_parameters, '$.policyName')) as policy
    from events e, params p
    where e.event_source = 'iam.amazonaws.com' and e.error_code is null and e.event_time between p.since and p.until
      -- list_contains, unlike in (...), is tested inside the scan of events, so the parameters of other IAM calls are never read
      and list_contains(['PutUserPolicy', 'AttachUserPolicy', 'AddUserToGroup', 'PutRolePolicy', 'AttachRolePolicy',
                         'PutGroupPolicy', 'AttachGroupPolicy', 'CreatePolicyVersion', 'SetDefaultPolicyVersion'], e.event_name)
      and e.principal_arn is not null
),
memberships as (
    select user_arn, group_name from group_members where group_name is not null
    union
    select 'arn:aws:iam::' || recipient_account_id || ':user/' || json_extract_string(request_parameters, '$.userName'),
           json_extract_string(request_parameters, '$.groupName')
    from events
    where event_source = 'iam.amazonaws.com' and event_name = 'AddUserToGroup' and error_code is null
),
on_self as (
    select c.*,
           case when c.event_name = 'AddUserToGroup' then 'added itself to group ' || c.group_name
                when c.event_name in ('PutUserPolicy', 'AttachUserPolicy', 'PutRolePolicy', 'AttachRolePolicy') then c.event_name || ' ' || c.policy || ' on itself'
                when c.event_name in ('PutGroupPolicy', 'AttachGroupPolicy') then c.event_name || ' ' || c.policy || ' on its group ' || c.group_name
                else c.event_name || ' of ' || c.policy || ', attached to it' end as what
    from calls c
    where (c.event_name in ('PutUserPolicy', 'AttachUserPolicy', 'AddUserToGroup') and c.identity_type = 'IAMUser'
           and c.principal_arn = 'arn:aws:iam::' || c.account_id || ':user/' || c.user_name)
       or (c.event_name in ('PutRolePolicy', 'AttachRolePolicy') and c.identity_type = 'AssumedRole'
           and regexp_extract(c.principal_arn, '[^/]+$') = c.role_name)
       or (c.event_name in ('PutGroupPolicy', 'AttachGroupPolicy')
           and exists (select 1 from memberships m where m.user_arn = c.principal_arn and m.group_name = c.group_name))
       or (c.event_name in ('CreatePolicyVersion', 'SetDefaultPolicyVersion')
           and exists (select 1 from policy_attachments a where a.policy_ref = c.policy_arn and not a.is_boundary
                       and (a.principal_arn = c.principal_arn
                            or a.principal_arn in (select g.group_arn from group_members g where g.user_arn = c.principal_arn))))
)
select account_id, principal_arn, null,
       coalesce(principal_arn, 'an unknown principal') || ': ' || string_agg(what, '; ' order by event_time, event_id)
         || ' from ' || string_agg(distinct source_ip, ', ' order by source_ip),
       json_object('event_ids', list(event_id order by event_time, event_id)),
       min(event_time), max(event_time), count(*)
from on_self
group by account_id, principal_arn
