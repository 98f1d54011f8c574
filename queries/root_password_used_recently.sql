-- id: root_password_used_recently
-- title: Root user signed in with its password recently
-- severity: medium
-- controls: CIS 1.7
-- needs: credential_report
-- rationale: Daily work as root cannot be limited or attributed to a person; root should be used only for the few tasks that need it.
-- remediation: Find out who signed in as root and why (CloudTrail ConsoleLogin); give that person an IAM role or Identity Center access instead.
select c.account_id, c.arn, null,
       'the root user''s password was last used ' || strftime(c.password_last_used, '%Y-%m-%d %H:%M:%S')
         || ', ' || date_diff('day', c.password_last_used, p.as_of) || ' days before ' || strftime(p.as_of, '%Y-%m-%d')
         || ' (threshold ' || p.unused_after_days || ' days)',
       json_object('credential_report', json_object('file_id', c.file_id, 'row', c.row_number, 'user', c.user_name)),
       c.password_last_used, c.password_last_used, null
from credential_report c join account_params p on p.account_id = c.account_id
where c.user_name = '<root_account>'
  and c.password_last_used >= p.as_of - to_days(p.unused_after_days)
