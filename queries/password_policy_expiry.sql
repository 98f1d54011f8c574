-- id: password_policy_expiry
-- title: Password policy lets passwords live longer than 90 days
-- severity: low
-- controls: IAM.17
-- rationale: Security Hub IAM.17 expects passwords to expire within 90 days; CIS no longer requires expiry, so this is reported low, for the auditor to weigh.
-- remediation: Set --max-password-age 90 if your standard requires expiry; otherwise record the exception.
with accounts as (
    select account_id from credential_reports
    union select account_id from iam_users
    union select account_id from iam_roles
),
policy as (
    -- an export without an account id applies when the case holds one account
    select coalesce(pp.account_id, (select any_value(account_id) from accounts)) as account_id, pp.present,
           pp.minimum_password_length, pp.require_symbols, pp.require_numbers, pp.require_uppercase_characters,
           pp.require_lowercase_characters, pp.expire_passwords, pp.max_password_age, pp.password_reuse_prevention, pp.file_id
    from password_policy pp
    where pp.account_id is not null or (select count(*) from accounts) <= 1
    qualify row_number() over (partition by coalesce(pp.account_id, '') order by pp.file_id desc) = 1
)
select po.account_id, null, null,
       'the password policy of account ' || po.account_id || ' '
         || case when po.max_password_age is null or not coalesce(po.expire_passwords, po.max_password_age > 0) then 'never expires passwords'
                 else 'expires passwords after ' || po.max_password_age || ' days' end
         || ' (Security Hub IAM.17 expects ' || p.password_max_age_days || ' or fewer)',
       json_object('password_policy', json_object('file_id', po.file_id, 'expire_passwords', po.expire_passwords, 'max_password_age', po.max_password_age)),
       null, null, null
from policy po, params p
where po.present and (po.max_password_age is null or po.max_password_age = 0 or po.max_password_age > p.password_max_age_days)
