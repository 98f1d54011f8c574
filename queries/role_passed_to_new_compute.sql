-- id: role_passed_to_new_compute
-- title: Administrator role passed to new compute by a principal that is not an administrator
-- severity: high
-- controls: CIS 1.16
-- attack: TA0004/T1098.003, TA0004/T1548
-- needs: cloudtrail, authorization_details
-- rationale: A principal that may pass a role (iam:PassRole) and create a function, instance, stack, Glue endpoint, notebook or build project can run code as that role; when the role allows everything and the caller does not, the new resource is an escalation to administrator. Which policies allow everything comes from the authorization details; without them the rule cannot judge and finds nothing.
-- remediation: Delete the resource or detach the role from it, and limit iam:PassRole of the caller to the roles its work needs (with an iam:PassedToService condition).
with passes as (
    select e.recipient_account_id as account_id, e.principal_arn, e.event_id, e.event_time, e.event_name, e.source_ip,
           case
               when e.event_name like 'CreateFunction%' then json_extract_string(e.request_parameters, '$.role')
               when e.event_name = 'CreateStack' then json_extract_string(e.request_parameters, '$.roleARN')
               when e.event_name in ('CreateDevEndpoint', 'CreateNotebookInstance', 'CreateJob') then json_extract_string(e.request_parameters, '$.roleArn')
               when e.event_name = 'CreateProject' then json_extract_string(e.request_parameters, '$.serviceRole')
               when e.event_name = 'RunInstances' then (
                   select r.arn from iam_roles r
                   where list_contains(json_extract_string(r.instance_profiles, '$[*].Arn'), json_extract_string(e.request_parameters, '$.iamInstanceProfile.arn'))
                      or list_contains(json_extract_string(r.instance_profiles, '$[*].InstanceProfileName'), json_extract_string(e.request_parameters, '$.iamInstanceProfile.name'))
                   limit 1)
           end as role_arn
    from events e, params p
    where e.error_code is null and e.event_time between p.since and p.until and e.principal_arn is not null
      -- the names first, a test on one column that runs inside the scan of events, so the
      -- parameters of the many other calls of these services are never read
      and (starts_with(e.event_name, 'CreateFunction')
           or list_contains(['CreateStack', 'CreateDevEndpoint', 'CreateJob', 'CreateNotebookInstance', 'CreateProject', 'RunInstances'], e.event_name))
      and ((e.event_source = 'lambda.amazonaws.com' and e.event_name like 'CreateFunction%' and e.event_name not like 'CreateFunctionUrl%')
        or (e.event_source = 'cloudformation.amazonaws.com' and e.event_name = 'CreateStack')
        or (e.event_source = 'glue.amazonaws.com' and e.event_name in ('CreateDevEndpoint', 'CreateJob'))
        or (e.event_source = 'sagemaker.amazonaws.com' and e.event_name = 'CreateNotebookInstance')
        or (e.event_source = 'codebuild.amazonaws.com' and e.event_name = 'CreateProject')
        or (e.event_source = 'ec2.amazonaws.com' and e.event_name = 'RunInstances' and json_extract(e.request_parameters, '$.iamInstanceProfile') is not null))
),
admins as (
    -- principals (users with their groups' policies, roles) with a policy that allows everything
    select distinct a.principal_arn
    from policy_attachments a
    join policy_statements s on s.policy_ref = a.policy_ref
    where not a.is_boundary and grants_all(s.effect, s.actions, s.resources)
)
select p.account_id, p.principal_arn, p.role_arn,
       p.principal_arn || ', not an administrator, passed administrator role ' || p.role_arn || ' to '
         || string_agg(p.event_name, ', ' order by p.event_time, p.event_id) || ' from ' || string_agg(distinct p.source_ip, ', ' order by p.source_ip),
       json_object('event_ids', list(p.event_id order by p.event_time, p.event_id)),
       min(p.event_time), max(p.event_time), count(*)
from passes p
where p.role_arn in (select principal_arn from admins)
  and p.principal_arn not in (select principal_arn from admins)
group by p.account_id, p.principal_arn, p.role_arn
