-- id: console_user_without_mfa
-- title: IAM user with a console password and no MFA
-- severity: high
-- controls: CIS 1.10, IAM.5, IAM.19
-- needs: credential_report.mfa_active
-- rationale: A console password without MFA falls to phishing, reuse or guessing; the brute-force detections show it happening.
-- remediation: Require MFA for every console user (enforce with a policy denying actions without aws:MultiFactorAuthPresent), or remove the password.
select c.account_id, c.arn, null,
       c.user_name || ' has a console password ('
         || coalesce('last used ' || strftime(c.password_last_used, '%Y-%m-%d'), 'never used') || ') and no MFA device',
       json_object('credential_report', json_object('file_id', c.file_id, 'row', c.row_number, 'user', c.user_name)),
       c.generated_at, c.generated_at, null
from credential_report c
where c.user_name <> '<root_account>' and c.password_enabled and c.mfa_active = false
