-- id: root_mfa_not_enabled
-- title: Root user has no MFA device
-- severity: critical
-- controls: CIS 1.5, IAM.9
-- needs: credential_report.mfa_active
-- rationale: The root user can do anything in the account, including closing it; a password alone is one phishing e-mail away from losing the account.
-- remediation: Enable a hardware or virtual MFA device for the root user, and keep it in a safe with a documented break-glass procedure.
select c.account_id, c.arn, null,
       'the root user of account ' || c.account_id || ' has no MFA device (credential report mfa_active false)',
       json_object('credential_report', json_object('file_id', c.file_id, 'row', c.row_number, 'user', c.user_name)),
       c.generated_at, c.generated_at, null
from credential_report c
where c.user_name = '<root_account>' and c.mfa_active = false
