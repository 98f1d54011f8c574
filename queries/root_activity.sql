-- id: root_activity
-- title: Root user made API calls
-- severity: high
-- controls: CIS 1.7, CIS 4.3
-- attack: TA0001/T1078.004
-- needs: cloudtrail
-- rationale: Root activity cannot be limited by any policy and is not tied to a person; outside a handful of account tasks it should not happen at all.
-- remediation: Review what the root sessions did and from where; move the work to IAM roles and lock the root credentials away.
with e as (
    select e.recipient_account_id as account_id, e.principal_arn, e.event_id, e.event_time, e.event_name,
           e.event_source, e.source_ip, e.user_agent, e.error_code
    from events e, params p
    where e.identity_type = 'Root' and e.event_name <> 'ConsoleLogin'
      and coalesce(e.access_key_id, '') not like 'AKIA%'
      and coalesce(e.event_type, '') not in ('AwsServiceEvent', 'AwsConsoleSignIn')
      and e.event_time between p.since and p.until
)
select account_id, any_value(principal_arn), null,
       count(*) || ' API calls by the root user (' || count(error_code) || ' refused or failed) from '
         || string_agg(distinct source_ip, ', ' order by source_ip)
         || '; calls: ' || string_agg(distinct event_name, ', ' order by event_name)
         || '; user agents: ' || string_agg(distinct user_agent, ' | ' order by user_agent),
       json_object('event_ids', list(event_id order by event_time, event_id)),
       min(event_time), max(event_time), count(*)
from e
group by account_id
