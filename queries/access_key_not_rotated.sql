-- id: access_key_not_rotated
-- title: Active access key older than the maximum key age
-- severity: medium
-- controls: CIS 1.14, IAM.3
-- needs: credential_report
-- rationale: The longer a key lives the more copies of it exist (laptops, CI logs, images); rotation bounds how long a leaked key works.
-- remediation: Create a second key, move its users to it, deactivate then delete the old key; better, replace long-lived keys with roles.
select k.account_id, k.arn, 'access_key_' || k.slot,
       k.user_name || '''s access key ' || k.slot || ' is active and was last rotated ' || strftime(k.last_rotated, '%Y-%m-%d')
         || ' (' || date_diff('day', k.last_rotated, p.as_of) || ' days before ' || strftime(p.as_of, '%Y-%m-%d')
         || ', maximum ' || p.key_max_age_days || ')',
       json_object('credential_report', json_object('file_id', c.file_id, 'row', c.row_number, 'user', c.user_name), 'access_key', k.slot),
       k.last_rotated, c.generated_at, null
from access_keys k
join credential_report c on c.account_id = k.account_id and c.arn = k.arn
join account_params p on p.account_id = k.account_id
where k.active and k.user_name <> '<root_account>'
  and k.last_rotated < p.as_of - to_days(p.key_max_age_days)
