-- id: console_user_without_ip_condition
-- title: Console user whose policies have no source-address condition
-- severity: low
-- controls: -
-- needs: credential_report, authorization_details
-- rationale: When access is meant to come only from --trusted-cidrs, a console user whose policies never test aws:SourceIp can act from anywhere with a stolen password.
-- remediation: Add a Deny with NotIpAddress aws:SourceIp for the trusted networks (or use Identity Center with network controls).
with console as (
    select c.account_id, c.arn, c.user_name, c.file_id, c.row_number from credential_report c, params p
    where p.trusted_cidrs is not null and c.user_name <> '<root_account>' and c.password_enabled
),
with_ip as (
    select distinct a.principal_arn
    from policy_attachments a
    join policy_statements s using (policy_ref)
    where list_contains(condition_keys(s.condition), 'aws:sourceip')
)
select c.account_id, c.arn, null,
       c.user_name || ' has a console password and no policy of theirs tests aws:SourceIp',
       json_object('credential_report', json_object('file_id', c.file_id, 'row', c.row_number, 'user', c.user_name)),
       null, null, null
from console c
where c.arn not in (select principal_arn from with_ip)
