-- id: service_wildcard_action
-- title: Customer policy allowing every action of a service
-- severity: low
-- controls: IAM.21
-- needs: authorization_details
-- rationale: service:* grants the destructive and the permission-changing actions of that service along with the ones needed, now and as AWS adds more.
-- remediation: List the actions the workload uses (see its CloudTrail events), or use the service's read-only or scoped managed policies.
with owner as (
    select distinct policy_ref, principal_arn from policy_attachments where inline and via_group_arn is null
),
wild as (
    select s.policy_ref, s.statement_index, unnest(s.actions) as action
    from policy_statements s
    left join iam_policies p on p.arn = s.policy_ref
    where s.effect = 'Allow' and not coalesce(p.aws_managed, false)
)
select coalesce(p.account_id, regexp_extract(w.policy_ref, '^arn:[^:]+:iam::(\d{12}):', 1)), o.principal_arn, w.policy_ref,
       coalesce('managed policy ' || p.policy_name, 'inline policy ' || regexp_replace(w.policy_ref, '^.*#inline/', '') || ' of ' || o.principal_arn)
         || ' allows ' || string_agg(distinct w.action, ', ' order by w.action),
       json_object('policy_ref', w.policy_ref, 'statement_indexes', list(distinct w.statement_index order by w.statement_index)),
       null, null, null
from wild w
left join owner o using (policy_ref)
left join iam_policies p on p.arn = w.policy_ref
where regexp_full_match(w.action, '[A-Za-z0-9-]+:\*')
group by w.policy_ref, o.principal_arn, p.account_id, p.policy_name
