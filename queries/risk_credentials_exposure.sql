-- id: risk_credentials_exposure
-- title: User or role that may obtain credentials on every resource
-- severity: medium
-- controls: -
-- needs: authorization_details
-- rationale: Actions that return or create credentials (access keys, login profiles, federation tokens, registry tokens, database credentials) on every resource let the holder act as others or hand out access that outlives its own. Administrators are reported by full_admin_access instead.
-- remediation: Scope the listed actions to the resources the principal works on, or remove the ones CloudTrail shows it never uses.
select account_id, principal_arn, resource, detail, evidence, first_seen, last_seen, event_count
from risk_findings('credentials_exposure')
