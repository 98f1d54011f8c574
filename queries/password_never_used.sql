-- id: password_never_used
-- title: Console password never used
-- severity: low
-- controls: CIS 1.12
-- needs: credential_report
-- rationale: A password that was set and never used is an unneeded way in, often with a temporary password shared by e-mail.
-- remediation: Remove the login profile until the user needs console access; require a password reset and MFA at first sign-in.
select c.account_id, c.arn, 'password',
       c.user_name || '''s password' || coalesce(', set ' || strftime(c.password_last_changed, '%Y-%m-%d') || ',', '')
         || ' has never been used (password_last_used ' || coalesce(nullif(c.password_last_used_note, ''), 'empty') || ')',
       json_object('credential_report', json_object('file_id', c.file_id, 'row', c.row_number, 'user', c.user_name)),
       c.password_last_changed, c.generated_at, null
from credential_report c
where c.user_name <> '<root_account>' and c.password_enabled and c.password_last_used is null
  -- a successful console sign-in in CloudTrail is use the report may not show yet
  and c.arn not in (select principal_arn from password_sign_ins)
