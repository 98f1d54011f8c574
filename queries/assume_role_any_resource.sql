-- id: assume_role_any_resource
-- title: Policy allowing sts:AssumeRole on every role (Resource *)
-- severity: low
-- controls: -
-- needs: authorization_details
-- rationale: sts:AssumeRole on Resource * lets the holder become any role whose trust policy admits it, in this account or another, including roles added later; only the trust policies then stand between it and their permissions.
-- remediation: Name in the statement's Resource the role ARNs the holder is meant to assume.
with grants as (
    select s.policy_ref, s.statement_index, s.condition is not null as conditional,
           list_filter(s.resources, lambda r: r = '*' or regexp_full_match(r, 'arn:[^:]+:iam::[^:]*:(role/)?\*')) as any_role
    from policy_statements s
    where s.effect = 'Allow'
      and len(list_filter(s.resources, lambda r: r = '*' or regexp_full_match(r, 'arn:[^:]+:iam::[^:]*:(role/)?\*'))) > 0
      and statement_covers(s.actions, s.not_actions, 'sts:AssumeRole')
      -- * on * is reported as administrator access
      and not grants_all(s.effect, s.actions, s.resources)
),
holders as (
    select policy_ref, split_part(principal_arn, ':', 5) as account_id, list(distinct principal_arn order by principal_arn) as principals
    from policy_attachments
    where not is_boundary and via_group_arn is null
    group by policy_ref, split_part(principal_arn, ':', 5)
),
subjects as (
    -- a customer managed policy is reported in its account, attached or not;
    -- an AWS managed or inline policy in each account where something holds it
    select g.policy_ref, coalesce(h.account_id, p.account_id) as account_id, h.principals
    from (select distinct policy_ref from grants) g
    left join iam_policies p on p.arn = g.policy_ref
    left join holders h on h.policy_ref = g.policy_ref
    where h.principals is not null or not coalesce(p.aws_managed, true)
)
select x.account_id, case when p.arn is null then x.principals[1] end, x.policy_ref,
       coalesce('managed policy ' || p.policy_name, 'inline policy ' || regexp_replace(x.policy_ref, '^.*#inline/', '') || ' of ' || x.principals[1])
         || ' allows sts:AssumeRole on ' || array_to_string(list_sort(list_distinct(flatten(list(g.any_role)))), ', ')
         || case when bool_and(g.conditional) then ' under a condition' else '' end
         || case when p.arn is null then ''
                 when x.principals is null then '; it is attached to no user, group or role'
                 else '; attached to ' || array_to_string(list_transform(x.principals, lambda r: regexp_replace(r, '^arn:[^:]+:iam::\d+:', '')), ', ') end,
       json_object('policy_ref', x.policy_ref, 'resources', list_sort(list_distinct(flatten(list(g.any_role)))), 'statement_indexes', list(g.statement_index order by g.statement_index),
                   'attached_to', coalesce(x.principals, []::varchar[])),
       null, null, null
from subjects x
join grants g using (policy_ref)
left join iam_policies p on p.arn = x.policy_ref
group by x.account_id, x.policy_ref, x.principals, p.arn, p.policy_name
