-- id: oidc_trust_without_sub
-- title: Role trusts an OIDC provider without a condition on the subject
-- severity: high
-- controls: -
-- needs: authorization_details
-- rationale: Without a condition on the token's sub claim, any identity of the provider (for GitHub Actions: any repository of anyone) can assume the role.
-- remediation: Add a StringEquals or StringLike condition on PROVIDER:sub naming the repositories, branches or service accounts allowed.
select r.account_id, r.arn, t.principal_value,
       r.role_name || ' trusts the OIDC provider ' || regexp_replace(t.principal_value, '^.*oidc-provider/', '')
         || ' with no condition on the token''s sub'
         || case when len(condition_keys(t.condition)) = 0 then ' (no condition at all)'
                 else ' (conditions only on ' || array_to_string(condition_keys(t.condition), ', ') || ')' end,
       json_object('role_trust', json_object('role_arn', r.arn, 'statement_index', t.statement_index, 'principal', t.principal_value, 'condition', t.condition),
                   'file_id', r.file_id),
       null, null, null
from role_trust t
join iam_roles r on r.arn = t.role_arn
where t.effect = 'Allow' and not t.not_principal and t.principal_kind = 'Federated'
  and t.principal_value like '%:oidc-provider/%'
  and len(list_filter(condition_keys(t.condition), lambda k: k like '%:sub')) = 0
qualify row_number() over (partition by r.arn, t.principal_value order by t.statement_index) = 1
