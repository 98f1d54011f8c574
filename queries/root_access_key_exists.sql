-- id: root_access_key_exists
-- title: Root user has an inactive access key
-- severity: medium
-- controls: CIS 1.4, IAM.4
-- needs: credential_report
-- rationale: An inactive root key is one API call (UpdateAccessKey) from being a working root credential; CIS asks that no root key exist at all.
-- remediation: Delete the root access key (root sign-in, Security credentials, Access keys).
select k.account_id, k.arn, 'access_key_' || k.slot,
       'the root user of account ' || k.account_id || ' has an inactive access key (slot ' || k.slot || ')'
         || coalesce(', last rotated ' || strftime(k.last_rotated, '%Y-%m-%d'), '')
         || coalesce(', last used ' || strftime(k.last_used_date, '%Y-%m-%d'), ', never used'),
       json_object('credential_report', json_object('file_id', c.file_id, 'row', c.row_number, 'user', c.user_name), 'access_key', k.slot),
       c.generated_at, c.generated_at, null
from access_keys k
join credential_report c on c.account_id = k.account_id and c.arn = k.arn
where k.user_name = '<root_account>' and not k.active
