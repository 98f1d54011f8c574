-- id: full_admin_access
-- title: User or role with full administrator access (* on *)
-- severity: high
-- controls: CIS 1.16, IAM.1
-- needs: authorization_details
-- rationale: A principal allowed every action on every resource can do anything, including removing the evidence; each one should be known, few, and protected.
-- remediation: Keep administrator access to a small set of roles assumed with MFA; give everyone else job-specific policies.
with attached as (
    select a.principal_arn, a.principal_type, a.policy_ref, a.policy_name, a.inline, a.via_group_arn, a.is_boundary, s.statement_index,
           grants_all(s.effect, s.actions, s.resources) as all_
    from policy_attachments a
    join policy_statements s using (policy_ref)
    where a.principal_type in ('user', 'role')
),
admin as (
    select principal_arn, any_value(principal_type) as principal_type, policy_ref, any_value(policy_name) as policy_name,
           list(distinct via_group_arn order by via_group_arn) filter (where via_group_arn is not null) as groups,
           bool_or(via_group_arn is null) as direct,
           list(distinct statement_index order by statement_index) as statements
    from attached
    where all_ and not is_boundary
    group by principal_arn, policy_ref
),
boundary as (
    select principal_arn, bool_or(all_) as boundary_all from attached where is_boundary group by principal_arn
)
select coalesce(u.account_id, r.account_id), a.principal_arn, a.policy_ref,
       coalesce(u.user_name, r.role_name) || ' is an administrator (Action * on Resource *) through '
         || case when a.direct then case when a.principal_type = 'role' then 'the attached ' else 'the directly attached ' end
                 else 'group ' || array_to_string(list_transform(a.groups, lambda g: regexp_replace(g, '^.*/', '')), ', ') || ' and its ' end
         || a.policy_name,
       json_object('policy_ref', a.policy_ref, 'statement_indexes', a.statements, 'via_groups', a.groups),
       null, null, null
from admin a
left join boundary b using (principal_arn)
left join iam_users u on u.arn = a.principal_arn
left join iam_roles r on r.arn = a.principal_arn
where coalesce(b.boundary_all, true)
  -- service-linked roles can be assumed only by their service
  and coalesce(r.path, '') not like '/aws-service-role/%'
