-- id: full_admin_access
-- title: User or role with full administrator access (* on *)
-- severity: high
-- controls: CIS 1.16, IAM.1
-- needs: authorization_details
-- rationale: A principal allowed every action on every resource can do anything, including removing the evidence; each one should be known, few, and protected.
-- remediation: Keep administrator access to a small set of roles assumed with MFA; give everyone else job-specific policies.
-- The evaluator decides (iam_administrators: '*' on '*', explicit Deny and
-- the permissions boundary applied); one finding per granting policy.
with admin as (
    select a.principal_arn, any_value(s.principal_type) as principal_type, s.policy_ref, any_value(s.policy_name) as policy_name,
           list(distinct s.via_group_arn order by s.via_group_arn) filter (where s.via_group_arn is not null) as groups,
           bool_or(s.via_group_arn is null) as direct,
           list(distinct s.statement_index order by s.statement_index) as statements,
           any_value(a.decision) = 'conditional' as conditional
    from iam_administrators a
    join iam_statements s on s.principal_arn = a.principal_arn and not s.is_boundary
     and list_contains(a.allowed_by, s.policy_ref || '#' || s.statement_index)
    group by a.principal_arn, s.policy_ref
)
select p.account_id, a.principal_arn, a.policy_ref,
       p.name || ' is an administrator (Action * on Resource *) through '
         || case when a.direct then case when a.principal_type = 'role' then 'the attached ' else 'the directly attached ' end
                 else 'group ' || array_to_string(list_transform(a.groups, lambda g: regexp_replace(g, '^.*/', '')), ', ') || ' and its ' end
         || a.policy_name
         || case when a.conditional then ', only under a condition' else '' end,
       json_object('policy_ref', a.policy_ref, 'statement_indexes', a.statements, 'via_groups', a.groups),
       null, null, null
from admin a
join iam_principals p on p.arn = a.principal_arn
-- service-linked roles can be assumed only by their service
where not p.service_linked
