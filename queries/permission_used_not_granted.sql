-- id: permission_used_not_granted
-- title: Actions used that no policy in the export grants
-- severity: info
-- controls: -
-- needs: authorization_details, cloudtrail
-- rationale: A successful call that the principal's exported policies do not allow shows a permission source the analysis cannot see: a resource policy, a policy missing from the export, or a policy changed since the export.
-- remediation: Find where the permission comes from (resource policies, the full authorization details export, the policy's version history) before narrowing any policy.
with missing as (
    select a.principal_arn, list(distinct a.policy_ref order by a.policy_ref) as refs
    from policy_attachments a
    where a.policy_ref not in (select policy_ref from policy_statements)
    group by all
)
select p.account_id, p.principal_arn, null,
       len(list(p.pattern)) || ' action' || case when len(list(p.pattern)) = 1 then '' else 's' end
         || ' used that no policy in the export grants: '
         || string_agg(p.pattern || ' (' || p.calls || ' call' || case when p.calls = 1 then '' else 's' end || ')', ', ' order by p.pattern)
         || coalesce('; attached policies whose document the export lacks: ' || array_to_string(any_value(m.refs), ', '), ''),
       json_object('authorization_details', json_object('principal_arn', p.principal_arn),
                   'actions', list(p.pattern order by p.pattern), 'policies_without_document', coalesce(any_value(m.refs), [])),
       min(p.first_used), max(p.last_used), sum(p.calls)
from permission_usage p
left join missing m using (principal_arn)
where p.level = 'pattern' and p.status = 'not_granted'
group by p.account_id, p.principal_arn
