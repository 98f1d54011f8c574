-- id: console_login_without_mfa
-- title: IAM user signed in to the console without MFA
-- severity: medium
-- controls: CIS 4.2
-- attack: TA0001/T1078.004
-- needs: cloudtrail
-- rationale: Each successful console sign-in without MFA is a session opened with a password alone.
-- remediation: Require MFA for the user; review the sessions from unexpected addresses.
with e as (
    select e.recipient_account_id as account_id, e.principal_arn, e.event_id, e.event_time, e.source_ip
    from events e, params p
    where e.event_name = 'ConsoleLogin' and e.identity_type = 'IAMUser'
      and e.console_login = 'Success' and not coalesce(e.mfa_used, false)
      and e.event_time between p.since and p.until
)
select account_id, principal_arn, null,
       count(*) || ' console sign-in(s) without MFA from ' || string_agg(distinct source_ip, ', ' order by source_ip),
       json_object('event_ids', list(event_id order by event_time, event_id)),
       min(event_time), max(event_time), count(*)
from e
group by account_id, principal_arn
