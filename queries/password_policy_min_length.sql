-- id: password_policy_min_length
-- title: Password policy allows passwords shorter than 14 characters
-- severity: medium
-- controls: CIS 1.8, IAM.15
-- rationale: Length is what makes a password hard to guess; CIS asks for at least 14 characters.
-- remediation: aws iam update-account-password-policy --minimum-password-length 14 (with the other settings kept).
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
       'the password policy of account ' || po.account_id || ' requires ' || coalesce(po.minimum_password_length::varchar, 'no minimum (IAM default 8)')
         || ' characters; at least ' || p.password_min_length || ' are needed',
       json_object('password_policy', json_object('file_id', po.file_id, 'minimum_password_length', po.minimum_password_length)),
       null, null, null
from policy po, params p
where po.present and coalesce(po.minimum_password_length, 0) < p.password_min_length
