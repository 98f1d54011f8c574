-- id: password_unused
-- title: Console password unused past the threshold
-- severity: medium
-- controls: CIS 1.12, IAM.8, IAM.22
-- needs: credential_report
-- rationale: A password nobody has used for months (credential report, or a console sign-in in CloudTrail) belongs to someone who left or never needed it; it can still be guessed or phished.
-- remediation: Remove the login profile (aws iam delete-login-profile); give it back on request, with MFA.
with pw as (
    select c.*, l.last_sign_in as console_t, greatest(c.password_last_used, l.last_sign_in) as last_used
    from credential_report c left join password_sign_ins l on l.principal_arn = c.arn
)
select c.account_id, c.arn, 'password',
       c.user_name || '''s password '
         || case when c.last_used is null then 'has never been used since it was set on ' || strftime(c.password_last_changed, '%Y-%m-%d')
                 else 'was last used ' || strftime(c.last_used, '%Y-%m-%d')
                      || case when c.last_used = c.console_t then ' (console sign-in in CloudTrail)' else '' end end
         || ' (' || date_diff('day', coalesce(c.last_used, c.password_last_changed), p.as_of) || ' days before '
         || strftime(p.as_of, '%Y-%m-%d') || ', threshold ' || p.unused_after_days || ')',
       json_object('credential_report', json_object('file_id', c.file_id, 'row', c.row_number, 'user', c.user_name),
                   'last_console_sign_in', c.console_t),
       coalesce(c.last_used, c.password_last_changed), c.generated_at, null
from pw c join account_params p on p.account_id = c.account_id
where c.user_name <> '<root_account>' and c.password_enabled
  and coalesce(c.last_used, c.password_last_changed, c.user_creation_time) < p.as_of - to_days(p.unused_after_days)
