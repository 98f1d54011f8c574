-- id: password_policy_expiry
-- title: Password policy lets passwords live longer than 90 days
-- severity: low
-- controls: IAM.17
-- needs: password_policy
-- rationale: Security Hub IAM.17 expects passwords to expire within 90 days; CIS no longer requires expiry, so this is reported low, for the auditor to weigh.
-- remediation: Set --max-password-age 90 if your standard requires expiry; otherwise record the exception.
select po.account_id, null, null,
       'the password policy of account ' || po.account_id || ' '
         || case when po.max_password_age is null or not coalesce(po.expire_passwords, po.max_password_age > 0) then 'never expires passwords'
                 else 'expires passwords after ' || po.max_password_age || ' days' end
         || ' (Security Hub IAM.17 expects ' || p.password_max_age_days || ' or fewer)',
       json_object('password_policy', json_object('file_id', po.file_id, 'expire_passwords', po.expire_passwords, 'max_password_age', po.max_password_age)),
       null, null, null
from password_policy_in_force po, params p
where po.present and (po.max_password_age is null or po.max_password_age = 0 or po.max_password_age > p.password_max_age_days)
