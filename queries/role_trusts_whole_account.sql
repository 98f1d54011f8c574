-- id: role_trusts_whole_account
-- title: Role that every principal of its account may assume
-- severity: low
-- controls: -
-- needs: authorization_details
-- rationale: A trust policy naming the account itself (arn:aws:iam::ACCOUNT:root) lets any user or role of the account whose own policies allow sts:AssumeRole on it become the role; who can is decided by policies elsewhere, and a broad sts:AssumeRole grant quietly opens it.
-- remediation: Name the roles or users that need it in the trust policy, or add a condition on aws:PrincipalArn; keep sts:AssumeRole grants scoped to named roles.
-- Principal "*" is trust_any_principal; other accounts are the
-- cross-account rules. Who in the case can assume it now is the policy
-- evaluator's answer (esc_edges, analysis/escalation.sql).
with whole as (
    select t.role_arn, min(t.statement_index) as statement_index, any_value(t.principal_value) as principal
    from role_trust t
    join iam_roles r on r.arn = t.role_arn
    where t.effect = 'Allow' and not t.not_principal and t.principal_kind = 'AWS'
      and t.principal_value in ('arn:aws:iam::' || r.account_id || ':root', r.account_id)
      and iam_actions_cover(t.actions, t.not_actions, 'sts:AssumeRole')
      -- a condition naming the caller closes the door to the rest
      and not list_has_any(condition_keys(t.condition), ['aws:principalarn', 'aws:userid', 'aws:username', 'aws:principaltag'])
    group by t.role_arn
),
can as (
    select e.target as role_arn, list(distinct e.caller order by e.caller) as callers
    from esc_edges e
    where e.method = 'AssumeRole'
    group by e.target
)
select r.account_id, r.arn, null,
       r.role_name || ' trusts every principal of account ' || r.account_id || ' (Principal ' || w.principal || ', statement ' || w.statement_index || ')'
         || case when a.principal_arn is not null then '; it is an administrator' else '' end
         || case when len(c.callers) > 0
                 then '; ' || len(c.callers) || case when len(c.callers) = 1 then ' user or role that is no administrator' else ' users or roles that are no administrators' end || ' may assume it: '
                      || array_to_string(list_transform(list_slice(c.callers, 1, 10), lambda x: regexp_replace(x, '^.*[:/]', '')), ', ')
                      || case when len(c.callers) > 10 then ', ...' else '' end
                 else '; no user or role in the case is allowed sts:AssumeRole on it' end,
       json_object('role_trust', json_object('role_arn', r.arn, 'statement_index', w.statement_index, 'principal', w.principal),
                   'can_assume', coalesce(c.callers, []), 'administrator', a.principal_arn is not null, 'file_id', r.file_id),
       null, null, null
from whole w
join iam_roles r on r.arn = w.role_arn
left join can c on c.role_arn = w.role_arn
left join iam_administrators a on a.principal_arn = r.arn
where coalesce(r.path, '') not like '/aws-service-role/%'
