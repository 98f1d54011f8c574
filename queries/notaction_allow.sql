-- id: notaction_allow
-- title: Policy allowing everything except a NotAction list
-- severity: medium
-- controls: -
-- needs: authorization_details
-- rationale: Allow with NotAction grants every action not listed, including every action AWS adds later; it is almost always broader than intended.
-- remediation: Replace NotAction with an explicit Action list of what the principal needs.
with owner as (
    select distinct policy_ref, principal_arn from policy_attachments where inline and via_group_arn is null
)
select coalesce(p.account_id, regexp_extract(s.policy_ref, '^arn:[^:]+:iam::(\d{12}):', 1)), o.principal_arn, s.policy_ref,
       case when o.principal_arn is not null then 'inline policy ' || regexp_replace(s.policy_ref, '^.*#inline/', '') || ' of ' || o.principal_arn
            else 'managed policy ' || p.policy_name || ' (default version ' || p.default_version_id || ')' end
         || ' allows everything except ' || array_to_string(list_sort(list_distinct(flatten(list(s.not_actions)))), ', '),
       json_object('policy_ref', s.policy_ref, 'statement_indexes', list(s.statement_index order by s.statement_index)),
       null, null, null
from policy_statements s
left join owner o using (policy_ref)
left join iam_policies p on p.arn = s.policy_ref
where s.effect = 'Allow' and s.not_actions is not null
group by s.policy_ref, o.principal_arn, p.account_id, p.policy_name, p.default_version_id
