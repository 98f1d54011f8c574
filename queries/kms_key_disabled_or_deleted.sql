-- id: kms_key_disabled_or_deleted
-- title: KMS key scheduled for deletion or disabled
-- severity: high
-- controls: CIS 4.7
-- attack: TA0040/T1485, TA0040/T1486
-- needs: cloudtrail
-- rationale: Data encrypted under a deleted KMS key is lost for good, and a disabled key stops every service that needs it; attackers schedule deletion or disable keys to destroy data or hold it to ransom.
-- remediation: Cancel the deletion (CancelKeyDeletion) or enable the key within the waiting period, and find who made the call.
with e as (
    select e.recipient_account_id as account_id, e.principal_arn, e.event_id, e.event_time, e.event_name, e.source_ip,
           coalesce(json_extract_string(e.request_parameters, '$.keyId'), json_extract_string(e.response_elements, '$.keyId'), '?') as key_id,
           try_cast(json_extract_string(e.request_parameters, '$.pendingWindowInDays') as integer) as window_days
    from events e, params p
    -- list_contains, unlike in (...), is tested inside the scan of events, so the parameters of the other KMS calls are never read
    where e.event_source = 'kms.amazonaws.com' and list_contains(['ScheduleKeyDeletion', 'DisableKey'], e.event_name) and e.error_code is null
      and e.event_time between p.since and p.until
)
select account_id, principal_arn, key_id,
       string_agg(distinct event_name, ', ' order by event_name) || ' of key ' || key_id
         || coalesce(' (deletion in ' || min(window_days) || ' days)', '')
         || ' by ' || coalesce(principal_arn, 'an unknown principal') || ' from ' || string_agg(distinct source_ip, ', ' order by source_ip),
       json_object('event_ids', list(event_id order by event_time, event_id)),
       min(event_time), max(event_time), count(*)
from e
group by account_id, principal_arn, key_id
