-- id: risk_data_exfiltration
-- title: User or role that may read stored data or secrets on every resource
-- severity: medium
-- controls: -
-- needs: authorization_details
-- rationale: s3:GetObject, ssm:GetParameter*, secretsmanager:GetSecretValue and the like on every resource let the holder read any object, parameter or secret of the account, not just its own; CloudTrail tells whether it ever needed them. Administrators are reported by full_admin_access instead.
-- remediation: Scope the listed actions to the resources the principal works on, or remove the ones CloudTrail shows it never uses.
select account_id, principal_arn, resource, detail, evidence, first_seen, last_seen, event_count
from risk_findings('data_exfiltration')
