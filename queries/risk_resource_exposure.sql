-- id: risk_resource_exposure
-- title: User or role that may open resources to other principals on every resource
-- severity: medium
-- controls: -
-- needs: authorization_details
-- rationale: Writing resource policies, ACLs and shares, or passing roles, on every resource lets the holder expose any bucket, key, queue or snapshot to other accounts or the public. Administrators are reported by full_admin_access instead.
-- remediation: Scope the listed actions to the resources the principal works on, or remove the ones CloudTrail shows it never uses.
select account_id, principal_arn, resource, detail, evidence, first_seen, last_seen, event_count
from risk_findings('resource_exposure')
