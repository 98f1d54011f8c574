-- id: root_access_key_used
-- title: Root user's access key used in CloudTrail
-- severity: critical
-- controls: CIS 1.4, CIS 1.7, CIS 4.3, IAM.4
-- attack: TA0001/T1078.004
-- needs: cloudtrail
-- rationale: API calls signed with a root access key come from a script or a person holding the account's most powerful long-lived credential.
-- remediation: Identify the caller from its source addresses and user agents, move it to an IAM role, and delete the root access key.
with e as (
    select e.recipient_account_id as account_id, e.principal_arn, e.access_key_id, e.event_id, e.event_time,
           e.event_name, e.source_ip, e.user_agent
    from events e, params p
    where e.identity_type = 'Root' and e.access_key_id like 'AKIA%'
      and e.event_time between p.since and p.until
)
select account_id, any_value(principal_arn), access_key_id,
       count(*) || ' API calls signed with the root access key ' || access_key_id
         || ' from ' || string_agg(distinct source_ip, ', ' order by source_ip)
         || '; calls: ' || string_agg(distinct event_name, ', ' order by event_name)
         || '; user agents: ' || string_agg(distinct user_agent, ' | ' order by user_agent),
       json_object('access_key_id', access_key_id, 'event_ids', list(event_id order by event_time, event_id)),
       min(event_time), max(event_time), count(*)
from e
group by account_id, access_key_id
