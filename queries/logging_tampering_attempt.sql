-- id: logging_tampering_attempt
-- title: Attempt to stop, delete or narrow logging refused or failed
-- severity: medium
-- controls: CIS 4.5
-- attack: TA0005/T1562.008, TA0005/T1562.001
-- needs: cloudtrail
-- rationale: A refused or failed StopLogging, DeleteTrail, UpdateTrail, PutEventSelectors or threat-detection shutdown shows someone tried to blind the defenders; the attempt matters even though logging survived, and it is often followed by a try with other credentials.
-- remediation: Find who made the call and why; if nobody expected it, treat the credential as compromised and look for the same call by other principals.
with e as (
    select e.recipient_account_id as account_id, e.principal_arn, e.user_name, e.event_id, e.event_time, e.event_source, e.event_name,
           e.aws_region, e.source_ip, e.access_key_id, e.error_code,
           logging_target(e.request_parameters) as target
    from events e, params p
    where e.error_code is not null and e.event_time between p.since and p.until
      and (is_tampering(e.event_source, e.event_name, e.request_parameters)
        -- a refused call may not log its parameters: any refused change of a trail's configuration counts
        or (e.event_source = 'cloudtrail.amazonaws.com' and e.event_name in ('StopLogging', 'DeleteTrail', 'PutEventSelectors', 'PutAdvancedEventSelectors'))
        -- an UpdateTrail narrows logging when it moves the logs or turns off regions, global events or validation;
        -- one that fails while setting up CloudWatch Logs or encryption is configuration work
        or (e.event_source = 'cloudtrail.amazonaws.com' and e.event_name = 'UpdateTrail'
            and (e.request_parameters is null or json_extract_string(e.request_parameters, '$.s3BucketName') is not null
              or json_extract_string(e.request_parameters, '$.isMultiRegionTrail') = 'false'
              or json_extract_string(e.request_parameters, '$.includeGlobalServiceEvents') = 'false'
              or json_extract_string(e.request_parameters, '$.enableLogFileValidation') = 'false'))
        or (e.event_source = 'guardduty.amazonaws.com' and e.event_name in ('DeleteDetector', 'UpdateDetector')))
)
select account_id, principal_arn, split_part(event_source, '.', 1) || ':' || event_name,
       count(*) || ' ' || event_name || ' attempt(s) by ' || coalesce(principal_arn, unnamed_actors(list(user_name))) || ' that failed ('
         || string_agg(distinct error_code, ', ' order by error_code) || ')'
         || coalesce(' on ' || string_agg(distinct target, ', ' order by target), '')
         || ' in ' || string_agg(distinct aws_region, ', ' order by aws_region)
         || ' from ' || string_agg(distinct source_ip, ', ' order by source_ip),
       json_object('event_ids', list(event_id order by event_time, event_id), 'access_key_ids', list(distinct access_key_id order by access_key_id)),
       min(event_time), max(event_time), count(*)
from e
group by account_id, principal_arn, event_source, event_name
