-- id: marketplace_subscribe_any
-- title: Policy allowing subscription to any AWS Marketplace product
-- severity: low
-- controls: -
-- needs: authorization_details
-- rationale: aws-marketplace:Subscribe on Resource * lets the holder subscribe the account to any Marketplace product, which bills the account and can bring third-party software into it.
-- remediation: Leave subscriptions to a procurement role, or restrict the action with the aws-marketplace:ProductId condition to approved products.
with grants as (
    select s.policy_ref, s.statement_index, s.condition is not null as conditional
    from policy_statements s
    left join iam_policies p on p.arn = s.policy_ref
    -- Marketplace actions take no resource ARN: only the
    -- aws-marketplace:ProductId condition narrows what may be subscribed to
    where s.effect = 'Allow' and list_contains(s.resources, '*')
      and not list_contains(condition_keys(s.condition), 'aws-marketplace:productid')
      and statement_covers(s.actions, s.not_actions, 'aws-marketplace:Subscribe')
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
         || ' allows aws-marketplace:Subscribe to any product (no aws-marketplace:ProductId condition)'
         || case when bool_and(g.conditional) then ' under a condition that does not name products' else '' end
         || case when p.arn is null then ''
                 when x.principals is null then '; it is attached to no user, group or role'
                 else '; attached to ' || array_to_string(list_transform(x.principals, lambda r: regexp_replace(r, '^arn:[^:]+:iam::\d+:', '')), ', ') end,
       json_object('policy_ref', x.policy_ref, 'statement_indexes', list(g.statement_index order by g.statement_index),
                   'attached_to', coalesce(x.principals, []::varchar[])),
       null, null, null
from subjects x
join grants g using (policy_ref)
left join iam_policies p on p.arn = x.policy_ref
group by x.account_id, x.policy_ref, x.principals, p.arn, p.policy_name
