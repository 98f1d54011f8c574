-- id: iam_user_password_with_federation
-- title: IAM user with a console password in an account that uses federation
-- severity: low
-- controls: CIS 1.21
-- needs: credential_report, cloudtrail
-- rationale: Where people already sign in through SAML or IAM Identity Center, IAM users with passwords are a second, unmanaged way in that joiner-mover-leaver processes miss.
-- remediation: Move the person to the identity provider and delete the login profile; keep IAM users only for break-glass, with MFA.
with federated as (
    select e.recipient_account_id as account_id, count(*) as n, list(e.event_id order by e.event_time, e.event_id)[1:20] as sample
    from events e, params p
    where e.event_time between p.since and p.until
      and (e.identity_type in ('SAMLUser', 'IdentityCenterUser')
           or (e.event_name = 'ConsoleLogin' and json_extract_string(e.additional_event_data, '$.SamlProviderArn') is not null)
           or e.session_issuer_arn like '%/AWSReservedSSO\_%' escape '\'
           or (e.event_name = 'AssumeRoleWithSAML' and e.error_code is null))
    group by e.recipient_account_id
)
select c.account_id, c.arn, null,
       c.user_name || ' has a console password in account ' || c.account_id || ', where ' || f.n
         || ' federated or Identity Center events show people signing in through an identity provider',
       json_object('credential_report', json_object('file_id', c.file_id, 'row', c.row_number, 'user', c.user_name), 'federated_event_ids', f.sample),
       null, null, null
from credential_report c
join federated f on f.account_id = c.account_id
where c.user_name <> '<root_account>' and c.password_enabled
