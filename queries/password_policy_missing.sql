-- id: password_policy_missing
-- title: Account has no password policy
-- severity: medium
-- controls: CIS 1.8, CIS 1.9, IAM.7
-- needs: password_policy
-- rationale: Without a password policy IAM accepts any password of 8 characters or more and lets users reuse them forever.
-- remediation: Set a policy: minimum length 14, reuse prevention 24, all character classes (aws iam update-account-password-policy).
select account_id, null, null,
       'account ' || account_id || ' has no password policy (the export says NoSuchEntity)',
       json_object('password_policy', json_object('file_id', file_id, 'present', present)),
       null, null, null
from password_policy_in_force
where not present
