-- id: root_console_login
-- title: Root user signed in to the console with MFA
-- severity: medium
-- controls: CIS 1.7, CIS 4.3
-- attack: TA0001/T1078.004
-- needs: cloudtrail
-- rationale: Root sign-ins should be rare and explained even when MFA protects them; each one is worth confirming with the account owner.
-- remediation: Confirm the reason for each root sign-in; use IAM roles or Identity Center for everyday administration.
with e as (
    select e.recipient_account_id as account_id, e.principal_arn, e.event_id, e.event_time, e.source_ip, e.user_agent
    from events e, params p
    where e.event_name = 'ConsoleLogin' and e.identity_type = 'Root'
      and e.console_login = 'Success' and e.mfa_used
      and e.event_time between p.since and p.until
)
select account_id, any_value(principal_arn), null,
       count(*) || ' root console sign-in(s) with MFA from ' || string_agg(distinct source_ip, ', ' order by source_ip)
         || '; user agents: ' || string_agg(distinct user_agent, ' | ' order by user_agent),
       json_object('event_ids', list(event_id order by event_time, event_id)),
       min(event_time), max(event_time), count(*)
from e
group by account_id
