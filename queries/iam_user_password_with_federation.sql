-- id: iam_user_password_with_federation
-- title: IAM user with a console password in an account that uses federation
-- severity: low
-- controls: CIS 1.21
-- needs: credential_report, cloudtrail
-- rationale: Where people already sign in through SAML or IAM Identity Center, IAM users with passwords are a second, unmanaged way in that joiner-mover-leaver processes miss.
-- remediation: Move the person to the identity provider and delete the login profile; keep IAM users only for break-glass, with MFA.
-- One test per part, so that each reads its own columns and then only the
-- few events that pass it (one scan testing all four read every event's
-- columns, the JSON of sign-ins too: most of the rule's time). union, not
-- union all: an event that passes two tests counts once.
with federated_events as (
    select e.rowid as event_row, e.recipient_account_id as account_id, e.event_id, e.event_time
    from events e
    where e.identity_type in ('SAMLUser', 'IdentityCenterUser')
    union
    select e.rowid, e.recipient_account_id, e.event_id, e.event_time
    from events e
    where e.event_name = 'ConsoleLogin' and json_extract_string(e.additional_event_data, '$.SamlProviderArn') is not null
    union
    select e.rowid, e.recipient_account_id, e.event_id, e.event_time
    from events e
    where e.session_issuer_arn like '%/AWSReservedSSO\_%' escape '\'
    union
    select e.rowid, e.recipient_account_id, e.event_id, e.event_time
    from events e
    where e.event_name = 'AssumeRoleWithSAML' and e.error_code is null
),
federated as (
    select f.account_id, count(*) as n, list(f.event_id order by f.event_time, f.event_id)[1:20] as sample
    from federated_events f, params p
    where f.event_time between p.since and p.until
    group by f.account_id
)
select c.account_id, c.arn, null,
       c.user_name || ' has a console password in account ' || c.account_id || ', where ' || f.n
         || ' federated or Identity Center events show people signing in through an identity provider',
       json_object('credential_report', json_object('file_id', c.file_id, 'row', c.row_number, 'user', c.user_name), 'federated_event_ids', f.sample),
       null, null, null
from credential_report c
join federated f on f.account_id = c.account_id
where c.user_name <> '<root_account>' and c.password_enabled
