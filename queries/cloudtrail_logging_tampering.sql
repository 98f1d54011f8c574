-- id: cloudtrail_logging_tampering
-- title: Logging or threat detection stopped, deleted or blinded
-- severity: critical
-- controls: CIS 3.1, CIS 4.5
-- attack: TA0005/T1562.008, TA0005/T1562.001
-- needs: cloudtrail
-- rationale: Stopping or deleting a trail, turning off its management events, deleting flow logs or DNS query logs, or disabling AWS Config, GuardDuty, Security Hub, Access Analyzer or Macie blinds the defenders; attackers do it right before the actions they want unseen.
-- remediation: Re-enable the logging at once, find who made the call and with which credentials, and treat the rest of that session as hostile.
with e as (
    select e.recipient_account_id as account_id, e.principal_arn, e.user_name, e.event_id, e.event_time, e.event_source, e.event_name,
           e.aws_region, e.source_ip, e.access_key_id,
           logging_target(e.request_parameters) as target
    from events e, params p
    where e.error_code is null and e.event_time between p.since and p.until
      and is_tampering(e.event_source, e.event_name, e.request_parameters)
)
select account_id, principal_arn, split_part(event_source, '.', 1) || ':' || event_name,
       count(*) || ' successful ' || event_name || ' call(s) by ' || coalesce(principal_arn, unnamed_actors(list(user_name)))
         || coalesce(' on ' || string_agg(distinct target, ', ' order by target), '')
         || ' in ' || string_agg(distinct aws_region, ', ' order by aws_region)
         || ' from ' || string_agg(distinct source_ip, ', ' order by source_ip)
         || coalesce(' with key ' || string_agg(distinct access_key_id, ', ' order by access_key_id), ''),
       json_object('event_ids', list(event_id order by event_time, event_id), 'access_key_ids', list(distinct access_key_id order by access_key_id)),
       min(event_time), max(event_time), count(*)
from e
group by account_id, principal_arn, event_source, event_name
