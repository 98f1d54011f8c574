-- id: access_key_never_used
-- title: Active access key never used
-- severity: low
-- controls: CIS 1.11
-- needs: credential_report
-- rationale: A key nobody uses is a credential with no owner: it only adds risk, and is often one handed out at user creation by habit.
-- remediation: Deactivate the key, wait for complaints, then delete it; create keys only when a workload needs one.
select k.account_id, k.arn, 'access_key_' || k.slot,
       k.user_name || '''s access key ' || k.slot || ' is active and has never been used (created '
         || coalesce(strftime(k.last_rotated, '%Y-%m-%d'), 'at an unknown time') || ')',
       json_object('credential_report', json_object('file_id', c.file_id, 'row', c.row_number, 'user', c.user_name), 'access_key', k.slot),
       k.last_rotated, c.generated_at, null
from access_keys k
join credential_report c on c.account_id = k.account_id and c.arn = k.arn
where k.active and k.user_name <> '<root_account>' and k.last_used_date is null
