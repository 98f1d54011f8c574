-- id: marketplace_subscribe_any
-- title: Policy allowing subscription to any AWS Marketplace product
-- severity: low
-- controls: -
-- needs: authorization_details
-- rationale: aws-marketplace:Subscribe on Resource * lets the holder subscribe the account to any Marketplace product, which bills the account and can bring third-party software into it.
-- remediation: Leave subscriptions to a procurement role, or restrict the action with the aws-marketplace:ProductId condition to approved products.
with grants as (
    -- policy_grant_subjects (run.go): the statements allowing the action and the accounts their policies are reported in
    select g.account_id, g.principal_arn, g.policy_ref, g.principals, g.policy_label, g.holders_note, g.statement_index,
           g.condition is not null as conditional
    from policy_grant_subjects('aws-marketplace:Subscribe') g
    -- Marketplace actions take no resource ARN: only the
    -- aws-marketplace:ProductId condition narrows what may be subscribed to
    where list_contains(g.resources, '*')
      and not list_contains(condition_keys(g.condition), 'aws-marketplace:productid')
)
select g.account_id, g.principal_arn, g.policy_ref,
       g.policy_label || ' allows aws-marketplace:Subscribe to any product (no aws-marketplace:ProductId condition)'
         || case when bool_and(g.conditional) then ' under a condition that does not name products' else '' end
         || g.holders_note,
       json_object('policy_ref', g.policy_ref, 'statement_indexes', list(g.statement_index order by g.statement_index),
                   'attached_to', coalesce(g.principals, []::varchar[])),
       null, null, null
from grants g
group by g.account_id, g.principal_arn, g.policy_ref, g.principals, g.policy_label, g.holders_note
