-- id: cross_account_trust_with_external_id
-- title: Role assumable from an untrusted account with sts:ExternalId
-- severity: medium
-- controls: -
-- rationale: The external id guards against the confused deputy, but the other account still has standing access that should be known and wanted.
-- remediation: Confirm the account belongs to a current partner and pass it in --trusted-accounts; remove the trust when the relationship ended.
select r.account_id, r.arn, t.principal_value,
       r.role_name || ' can be assumed from account ' || principal_account(t.principal_value)
         || ' (' || t.principal_value || ') with an sts:ExternalId condition',
       json_object('role_trust', json_object('role_arn', r.arn, 'statement_index', t.statement_index, 'principal', t.principal_value, 'condition', t.condition),
                   'file_id', r.file_id),
       null, null, null
from role_trust t
join iam_roles r on r.arn = t.role_arn
cross join params p
where t.effect = 'Allow' and not t.not_principal and t.principal_kind = 'AWS' and t.principal_value <> '*'
  and principal_account(t.principal_value) <> r.account_id
  and not list_contains(p.trusted_accounts, principal_account(t.principal_value))
  and list_contains(condition_keys(t.condition), 'sts:externalid')
qualify row_number() over (partition by r.arn, t.principal_value order by t.statement_index) = 1
