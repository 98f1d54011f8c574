-- id: password_policy_min_length
-- title: Password policy allows passwords shorter than 14 characters
-- severity: medium
-- controls: CIS 1.8, IAM.15
-- needs: password_policy
-- rationale: Length is what makes a password hard to guess; CIS asks for at least 14 characters.
-- remediation: aws iam update-account-password-policy --minimum-password-length 14 (with the other settings kept).
select po.account_id, null, null,
       'the password policy of account ' || po.account_id || ' requires ' || coalesce(po.minimum_password_length::varchar, 'no minimum (IAM default 8)')
         || ' characters; at least ' || p.password_min_length || ' are needed',
       json_object('password_policy', json_object('file_id', po.file_id, 'minimum_password_length', po.minimum_password_length)),
       null, null, null
from password_policy_in_force po, params p
where po.present and coalesce(po.minimum_password_length, 0) < p.password_min_length
