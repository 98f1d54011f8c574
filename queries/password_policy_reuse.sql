-- id: password_policy_reuse
-- title: Password policy does not prevent reuse of the last 24 passwords
-- severity: medium
-- controls: CIS 1.9, IAM.16
-- needs: password_policy
-- rationale: Without reuse prevention a forced change can go back to a password that has already leaked.
-- remediation: aws iam update-account-password-policy --password-reuse-prevention 24 (with the other settings kept).
select po.account_id, null, null,
       'the password policy of account ' || po.account_id || ' prevents reuse of '
         || coalesce(po.password_reuse_prevention::varchar, 'no') || ' previous passwords; ' || p.password_reuse || ' are needed',
       json_object('password_policy', json_object('file_id', po.file_id, 'password_reuse_prevention', po.password_reuse_prevention)),
       null, null, null
from password_policy_in_force po, params p
where po.present and coalesce(po.password_reuse_prevention, 0) < p.password_reuse
