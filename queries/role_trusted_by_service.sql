-- id: role_trusted_by_service
-- title: Role assumable by an AWS service
-- severity: info
-- controls: -
-- needs: authorization_details
-- rationale: Lists which services can act with which roles, for review of what a compromised resource could do.
-- remediation: None needed when the service and the role's permissions match the workload; remove trusts no workload uses.
select r.account_id, r.arn, t.principal_value,
       r.role_name || ' can be assumed by the service ' || t.principal_value,
       json_object('role_trust', json_object('role_arn', r.arn, 'statement_index', t.statement_index, 'principal', t.principal_value),
                   'file_id', r.file_id),
       null, null, null
from role_trust t
join iam_roles r on r.arn = t.role_arn
where t.effect = 'Allow' and not t.not_principal and t.principal_kind = 'Service'
qualify row_number() over (partition by r.arn, t.principal_value order by t.statement_index) = 1
