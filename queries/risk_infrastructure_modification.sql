-- id: risk_infrastructure_modification
-- title: User or role that may change infrastructure on every resource
-- severity: low
-- controls: -
-- needs: authorization_details
-- rationale: Write actions on every resource let the holder change or delete any resource of the services granted, not only the ones its work touches. Administrators are reported by full_admin_access instead.
-- remediation: Scope the listed actions to the resources the principal works on, or remove the ones CloudTrail shows it never uses.
select account_id, principal_arn, resource, detail, evidence, first_seen, last_seen, event_count
from risk_findings('infrastructure_modification')
