-- id: cross_account_trust_without_external_id
-- title: Role assumable from an untrusted account without sts:ExternalId
-- severity: high
-- controls: -
-- rationale: Another account's principals can assume the role; without an external id a third-party service can be tricked into using it for someone else (confused deputy).
-- remediation: Confirm the account belongs to a known partner; add an sts:ExternalId condition, or pass the account in --trusted-accounts once it is vetted.
select r.account_id, r.arn, t.principal_value,
       r.role_name || ' can be assumed from account ' || principal_account(t.principal_value)
         || ' (' || t.principal_value || ') with no sts:ExternalId condition',
       json_object('role_trust', json_object('role_arn', r.arn, 'statement_index', t.statement_index, 'principal', t.principal_value, 'condition', t.condition),
                   'file_id', r.file_id),
       null, null, null
from role_trust t
join iam_roles r on r.arn = t.role_arn
cross join params p
where t.effect = 'Allow' and not t.not_principal and t.principal_kind = 'AWS' and t.principal_value <> '*'
  and principal_account(t.principal_value) <> r.account_id
  and not list_contains(p.trusted_accounts, principal_account(t.principal_value))
  and not list_contains(condition_keys(t.condition), 'sts:externalid')
qualify row_number() over (partition by r.arn, t.principal_value order by t.statement_index) = 1
