-- id: assume_role_any_resource
-- title: Policy allowing sts:AssumeRole on every role (Resource *)
-- severity: low
-- controls: -
-- needs: authorization_details
-- rationale: sts:AssumeRole on Resource * lets the holder become any role whose trust policy admits it, in this account or another, including roles added later; only the trust policies then stand between it and their permissions.
-- remediation: Name in the statement's Resource the role ARNs the holder is meant to assume.
with grants as (
    -- policy_grant_subjects (run.go): the statements allowing the action and the accounts their policies are reported in
    select g.account_id, g.principal_arn, g.policy_ref, g.principals, g.policy_label, g.holders_note, g.statement_index,
           g.condition is not null as conditional,
           list_filter(g.resources, lambda r: r = '*' or regexp_full_match(r, 'arn:[^:]+:iam::[^:]*:(role/)?\*')) as any_role
    from policy_grant_subjects('sts:AssumeRole') g
)
select g.account_id, g.principal_arn, g.policy_ref,
       g.policy_label || ' allows sts:AssumeRole on ' || array_to_string(list_sort(list_distinct(flatten(list(g.any_role)))), ', ')
         || case when bool_and(g.conditional) then ' under a condition' else '' end
         || g.holders_note,
       json_object('policy_ref', g.policy_ref, 'resources', list_sort(list_distinct(flatten(list(g.any_role)))), 'statement_indexes', list(g.statement_index order by g.statement_index),
                   'attached_to', coalesce(g.principals, []::varchar[])),
       null, null, null
from grants g
where len(g.any_role) > 0
group by g.account_id, g.principal_arn, g.policy_ref, g.principals, g.policy_label, g.holders_note
