-- id: password_policy_not_assessed
-- title: Password policy not assessed (no export in the case)
-- severity: info
-- controls: CIS 1.8, CIS 1.9, IAM.7, IAM.11, IAM.12, IAM.13, IAM.14, IAM.15, IAM.16, IAM.17
-- needs: -
-- rationale: Without the get-account-password-policy export the password controls can be neither passed nor failed; they are reported as not assessed.
-- remediation: Add the output of aws iam get-account-password-policy (or its NoSuchEntity error) to the case and analyze again.
with accounts as (
    select account_id from credential_reports
    union select account_id from iam_users
    union select account_id from iam_roles
)
select a.account_id, null, null,
       'no password policy export for account ' || a.account_id || ': CIS 1.8 and 1.9 and Security Hub IAM.7, IAM.11 to IAM.17 not assessed',
       json_object('account_id', a.account_id),
       null, null, null
from accounts a
where a.account_id is not null
  and not exists (select 1 from password_policy pp where pp.account_id = a.account_id
                  or (pp.account_id is null and (select count(*) from accounts) = 1))
