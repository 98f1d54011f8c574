-- id: customer_policy_grants_admin
-- title: Customer managed policy granting administrator rights, attached or not
-- severity: medium
-- controls: CIS 1.16, IAM.1
-- needs: authorization_details
-- rationale: A customer managed policy allowing * (or every IAM action) on every resource makes whoever it is attached to an administrator; unattached, it is one AttachUserPolicy away from doing so, and attaching an existing policy draws less attention than writing one.
-- remediation: Delete the policy or replace its statements with the actions its holders need; keep administrator access in one reviewed policy attached to a few roles.
with admin_statements as (
    select s.policy_ref, s.statement_index, s.condition is not null as conditional,
           case when grants_all(s.effect, s.actions, s.resources) then '*' else 'iam:*' end as grant_
    from policy_statements s
    join iam_policies p on p.arn = s.policy_ref
    where not p.aws_managed and s.effect = 'Allow' and list_contains(s.resources, '*')
      and (grants_all(s.effect, s.actions, s.resources)
           or len(list_filter(s.actions, lambda x: lower(x) in ('iam:*', 'iam:*:*'))) > 0)
),
denied as (
    -- what the policy itself denies outright
    select distinct d.policy_ref, g.grant_
    from policy_statements d
    cross join (values ('*'), ('iam:*')) as g (grant_)
    where d.effect = 'Deny' and d.condition is null and list_contains(d.resources, '*')
      and statement_covers(d.actions, d.not_actions, g.grant_)
),
granting as (
    select a.policy_ref, a.statement_index, a.conditional, a.grant_
    from admin_statements a
    left join denied d on d.policy_ref = a.policy_ref and d.grant_ = a.grant_
    where d.policy_ref is null
),
holders as (
    select policy_ref, list(distinct principal_arn order by principal_arn) as principals
    from policy_attachments
    where not is_boundary and via_group_arn is null
    group by policy_ref
),
boundaries as (
    select policy_ref, count(distinct principal_arn) as bounded from policy_attachments where is_boundary group by policy_ref
)
select coalesce(p.account_id, split_part(p.arn, ':', 5)), null, p.arn,
       'customer managed policy ' || p.policy_name || ' allows '
         || case when bool_or(s.grant_ = '*') then '* (every action)' else 'iam:* (every IAM action, enough to grant itself anything)' end
         || ' on every resource'
         || case when bool_and(s.conditional) then ' under a condition' else '' end
         || case when h.principals is null then '; it is attached to no user, group or role'
                 else '; attached to ' || array_to_string(list_transform(h.principals, lambda x: regexp_replace(x, '^arn:[^:]+:iam::\d+:', '')), ', ') end,
       json_object('policy_ref', p.arn, 'default_version_id', p.default_version_id,
                   'statement_indexes', list(s.statement_index order by s.statement_index),
                   'attached_to', coalesce(h.principals, []::varchar[]), 'file_id', p.file_id),
       null, null, null
from granting s
join iam_policies p on p.arn = s.policy_ref
left join holders h on h.policy_ref = p.arn
left join boundaries b on b.policy_ref = p.arn
-- a policy used only as a permissions boundary grants nothing by itself
where not (h.principals is null and (coalesce(b.bounded, 0) > 0 or coalesce(p.boundary_usage_count, 0) > 0))
group by p.arn, p.account_id, p.policy_name, p.default_version_id, p.file_id, h.principals, b.bounded, p.boundary_usage_count
