-- id: root_console_login_without_mfa
-- title: Root user signed in to the console without MFA
-- severity: critical
-- controls: CIS 1.5, CIS 1.7, CIS 4.2, CIS 4.3, IAM.9
-- attack: TA0001/T1078.004
-- needs: cloudtrail
-- rationale: A successful root sign-in without MFA means the account's most powerful identity is protected by a password alone, and it is being used.
-- remediation: Confirm with the account owner who signed in; rotate the root password, enable MFA and review everything the session did.
with e as (
    select e.recipient_account_id as account_id, e.principal_arn, e.event_id, e.event_time, e.source_ip, e.user_agent
    from events e, params p
    where e.event_name = 'ConsoleLogin' and e.identity_type = 'Root'
      and e.console_login = 'Success' and not coalesce(e.mfa_used, false)
      and e.event_time between p.since and p.until
)
select account_id, any_value(principal_arn), null,
       count(*) || ' root console sign-in(s) without MFA from ' || string_agg(distinct source_ip, ', ' order by source_ip)
         || '; user agents: ' || string_agg(distinct user_agent, ' | ' order by user_agent),
       json_object('event_ids', list(event_id order by event_time, event_id)),
       min(event_time), max(event_time), count(*)
from e
group by account_id
