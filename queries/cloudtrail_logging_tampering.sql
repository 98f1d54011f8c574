-- id: cloudtrail_logging_tampering
-- title: Logging or threat detection stopped or deleted
-- severity: critical
-- controls: CIS 3.1, CIS 4.5
-- rationale: Stopping or deleting a trail, deleting flow logs, stopping AWS Config or disabling GuardDuty blinds the defenders; attackers do it right before the actions they want unseen.
-- remediation: Re-enable the logging at once, find who made the call and with which credentials, and treat the rest of that session as hostile.
with tamper (event_source, event_name) as (
    values
        ('cloudtrail.amazonaws.com', 'StopLogging'), ('cloudtrail.amazonaws.com', 'DeleteTrail'),
        ('cloudtrail.amazonaws.com', 'DeleteEventDataStore'),
        ('cloudtrail.amazonaws.com', 'StopEventDataStoreIngestion'),
        ('ec2.amazonaws.com', 'DeleteFlowLogs'),
        ('guardduty.amazonaws.com', 'DeleteDetector'), ('guardduty.amazonaws.com', 'UpdateDetector'),
        ('guardduty.amazonaws.com', 'DisassociateFromMasterAccount'), ('guardduty.amazonaws.com', 'DisassociateFromAdministratorAccount'),
        ('guardduty.amazonaws.com', 'StopMonitoringMembers'), ('guardduty.amazonaws.com', 'DeleteMembers'),
        ('config.amazonaws.com', 'StopConfigurationRecorder'), ('config.amazonaws.com', 'DeleteConfigurationRecorder'),
        ('config.amazonaws.com', 'DeleteDeliveryChannel')
),
e as (
    select e.recipient_account_id as account_id, e.principal_arn, e.event_id, e.event_time, e.event_source, e.event_name,
           e.aws_region, e.source_ip, e.access_key_id,
           logging_target(e.request_parameters) as target
    from events e
    join tamper t using (event_source, event_name)
    cross join params p
    where e.error_code is null and e.event_time between p.since and p.until
      -- UpdateDetector only tampers when it disables the detector
      and (e.event_name <> 'UpdateDetector' or json_extract_string(e.request_parameters, '$.enable') = 'false')
)
select account_id, principal_arn, split_part(event_source, '.', 1) || ':' || event_name,
       count(*) || ' successful ' || event_name || ' call(s) by ' || coalesce(principal_arn, 'an unknown principal')
         || coalesce(' on ' || string_agg(distinct target, ', ' order by target), '')
         || ' in ' || string_agg(distinct aws_region, ', ' order by aws_region)
         || ' from ' || string_agg(distinct source_ip, ', ' order by source_ip)
         || coalesce(' with key ' || string_agg(distinct access_key_id, ', ' order by access_key_id), ''),
       json_object('event_ids', list(event_id order by event_time, event_id), 'access_key_ids', list(distinct access_key_id order by access_key_id)),
       min(event_time), max(event_time), count(*)
from e
group by account_id, principal_arn, event_source, event_name
