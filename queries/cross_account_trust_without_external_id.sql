-- id: cross_account_trust_without_external_id
-- title: Role assumable from an untrusted account without sts:ExternalId
-- severity: high
-- controls: -
-- needs: authorization_details
-- rationale: Another account's principals can assume the role; without an external id a third-party service can be tricked into using it for someone else (confused deputy).
-- remediation: Confirm the account belongs to a known partner; add an sts:ExternalId condition, or pass the account in --trusted-accounts once it is vetted.
select t.account_id, t.arn, t.principal_value,
       t.role_name || ' can be assumed from account ' || principal_account(t.principal_value)
         || ' (' || t.principal_value || ') with no sts:ExternalId condition',
       json_object('role_trust', json_object('role_arn', t.arn, 'statement_index', t.statement_index, 'principal', t.principal_value, 'condition', t.condition),
                   'file_id', t.file_id),
       null, null, null
from untrusted_cross_account_trust t
where not t.has_external_id
qualify row_number() over (partition by t.arn, t.principal_value order by t.statement_index) = 1
