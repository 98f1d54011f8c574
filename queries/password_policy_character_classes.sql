-- id: password_policy_character_classes
-- title: Password policy does not require every character class
-- severity: low
-- controls: IAM.7, IAM.11, IAM.12, IAM.13, IAM.14
-- needs: password_policy
-- rationale: Security Hub expects upper and lower case letters, numbers and symbols to be required.
-- remediation: Require uppercase, lowercase, numbers and symbols in the account password policy.
select account_id, null, null,
       'the password policy of account ' || account_id || ' does not require '
         || concat_ws(', ', case when not coalesce(require_uppercase_characters, false) then 'uppercase letters (IAM.11)' end,
                            case when not coalesce(require_lowercase_characters, false) then 'lowercase letters (IAM.12)' end,
                            case when not coalesce(require_symbols, false) then 'symbols (IAM.13)' end,
                            case when not coalesce(require_numbers, false) then 'numbers (IAM.14)' end),
       json_object('password_policy', json_object('file_id', file_id, 'require_uppercase_characters', require_uppercase_characters,
                   'require_lowercase_characters', require_lowercase_characters, 'require_symbols', require_symbols, 'require_numbers', require_numbers)),
       null, null, null
from password_policy_in_force
where present and not (coalesce(require_uppercase_characters, false) and coalesce(require_lowercase_characters, false)
                       and coalesce(require_symbols, false) and coalesce(require_numbers, false))
