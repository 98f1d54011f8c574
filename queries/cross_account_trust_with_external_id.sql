-- id: cross_account_trust_with_external_id
-- title: Role assumable from an untrusted account with sts:ExternalId
-- severity: medium
-- controls: -
-- needs: authorization_details
-- rationale: The external id guards against the confused deputy, but the other account still has standing access that should be known and wanted.
-- remediation: Confirm the account belongs to a current partner and pass it in --trusted-accounts; remove the trust when the relationship ended.
select t.account_id, t.arn, t.principal_value,
       t.role_name || ' can be assumed from account ' || principal_account(t.principal_value)
         || ' (' || t.principal_value || ') with an sts:ExternalId condition',
       json_object('role_trust', json_object('role_arn', t.arn, 'statement_index', t.statement_index, 'principal', t.principal_value, 'condition', t.condition),
                   'file_id', t.file_id),
       null, null, null
from untrusted_cross_account_trust t
where t.has_external_id
qualify row_number() over (partition by t.arn, t.principal_value order by t.statement_index) = 1
