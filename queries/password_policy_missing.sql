-- id: password_policy_missing
-- title: Account has no password policy
-- severity: medium
-- controls: CIS 1.8, CIS 1.9, IAM.7
-- rationale: Without a password policy IAM accepts any password of 8 characters or more and lets users reuse them forever.
-- remediation: Set a policy: minimum length 14, reuse prevention 24, all character classes (aws iam update-account-password-policy).
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
       'account ' || account_id || ' has no password policy (the export says NoSuchEntity)',
       json_object('password_policy', json_object('file_id', file_id, 'present', present)),
       null, null, null
from policy
where not present
