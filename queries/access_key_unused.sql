-- id: access_key_unused
-- title: Active access key unused past the threshold
-- severity: medium
-- controls: CIS 1.12, IAM.8, IAM.22
-- needs: credential_report
-- rationale: An active key that has not been used for months is forgotten, not needed; if it leaks nobody will notice its use.
-- remediation: Deactivate the key, then delete it once nothing breaks.
select k.account_id, k.arn, 'access_key_' || k.slot,
       k.user_name || '''s access key ' || k.slot || ' is active and '
         || case when k.last_used_date is null then 'has never been used since it was created on ' || strftime(k.last_rotated, '%Y-%m-%d')
                 else 'was last used ' || strftime(k.last_used_date, '%Y-%m-%d') end
         || ' (' || date_diff('day', coalesce(k.last_used_date, k.last_rotated), p.as_of) || ' days before '
         || strftime(p.as_of, '%Y-%m-%d') || ', threshold ' || p.unused_after_days || ')',
       json_object('credential_report', json_object('file_id', c.file_id, 'row', c.row_number, 'user', c.user_name), 'access_key', k.slot),
       coalesce(k.last_used_date, k.last_rotated), c.generated_at, null
from access_keys k
join credential_report c on c.account_id = k.account_id and c.arn = k.arn
join account_params p on p.account_id = k.account_id
where k.active and k.user_name <> '<root_account>'
  and coalesce(k.last_used_date, k.last_rotated) < p.as_of - to_days(p.unused_after_days)
