-- id: password_policy_character_classes
-- title: Password policy does not require every character class
-- severity: low
-- controls: IAM.7, IAM.11, IAM.12, IAM.13, IAM.14
-- rationale: Security Hub expects upper and lower case letters, numbers and symbols to be required.
-- remediation: Require uppercase, lowercase, numbers and symbols in the account password policy.
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
select account_id, null, null,
       'the password policy of account ' || account_id || ' does not require '
         || concat_ws(', ', case when not coalesce(require_uppercase_characters, false) then 'uppercase letters (IAM.11)' end,
                            case when not coalesce(require_lowercase_characters, false) then 'lowercase letters (IAM.12)' end,
                            case when not coalesce(require_symbols, false) then 'symbols (IAM.13)' end,
                            case when not coalesce(require_numbers, false) then 'numbers (IAM.14)' end),
       json_object('password_policy', json_object('file_id', file_id, 'require_uppercase_characters', require_uppercase_characters,
                   'require_lowercase_characters', require_lowercase_characters, 'require_symbols', require_symbols, 'require_numbers', require_numbers)),
       null, null, null
from policy
where present and not (coalesce(require_uppercase_characters, false) and coalesce(require_lowercase_characters, false)
                       and coalesce(require_symbols, false) and coalesce(require_numbers, false))
