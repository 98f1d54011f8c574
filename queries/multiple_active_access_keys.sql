-- id: multiple_active_access_keys
-- title: IAM user with two active access keys
-- severity: medium
-- controls: CIS 1.13
-- needs: credential_report
-- rationale: Two active keys usually mean a rotation that never finished: the old key lives on wherever it was copied.
-- remediation: Find which key is still in use (access_key_N_last_used_date, CloudTrail), move everything to one and deactivate the other.
select k.account_id, k.arn, null,
       any_value(k.user_name) || ' has ' || count(*) || ' active access keys (slots '
         || string_agg(k.slot::varchar, ', ' order by k.slot) || ')',
       json_object('credential_report', json_object('file_id', any_value(c.file_id), 'row', any_value(c.row_number), 'user', any_value(c.user_name)),
                   'access_keys', list(k.slot order by k.slot)),
       any_value(c.generated_at), any_value(c.generated_at), null
from access_keys k
join credential_report c on c.account_id = k.account_id and c.arn = k.arn
where k.active and k.user_name <> '<root_account>'
group by k.account_id, k.arn
having count(*) > 1
