-- id: root_access_key_active
-- title: Root user has an active access key
-- severity: critical
-- controls: CIS 1.4, IAM.4
-- needs: credential_report
-- rationale: A root access key is a long-lived credential with unlimited power that cannot be limited by any policy; scripts that use it spread it.
-- remediation: Find what uses the key (access_key_N_last_used_service, CloudTrail), move it to an IAM role, then delete the root access key.
select k.account_id, k.arn, 'access_key_' || k.slot,
       'the root user of account ' || k.account_id || ' has an active access key (slot ' || k.slot || ')'
         || coalesce(', last rotated ' || strftime(k.last_rotated, '%Y-%m-%d'), '')
         || coalesce(', last used ' || strftime(k.last_used_date, '%Y-%m-%d') || ' (' || k.last_used_service || ', ' || k.last_used_region || ')', ', never used'),
       json_object('credential_report', json_object('file_id', c.file_id, 'row', c.row_number, 'user', c.user_name), 'access_key', k.slot),
       c.generated_at, c.generated_at, null
from access_keys k
join credential_report c on c.account_id = k.account_id and c.arn = k.arn
where k.user_name = '<root_account>' and k.active
