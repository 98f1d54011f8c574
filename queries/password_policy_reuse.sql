-- id: password_policy_reuse
-- title: Password policy does not prevent reuse of the last 24 passwords
-- severity: medium
-- controls: CIS 1.9, IAM.16
-- rationale: Without reuse prevention a forced change can go back to a password that has already leaked.
-- remediation: aws iam update-account-password-policy --password-reuse-prevention 24 (with the other settings kept).
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
       'the password policy of account ' || po.account_id || ' prevents reuse of '
         || coalesce(po.password_reuse_prevention::varchar, 'no') || ' previous passwords; ' || p.password_reuse || ' are needed',
       json_object('password_policy', json_object('file_id', po.file_id, 'password_reuse_prevention', po.password_reuse_prevention)),
       null, null, null
from policy po, params p
where po.present and coalesce(po.password_reuse_prevention, 0) < p.password_reuse
