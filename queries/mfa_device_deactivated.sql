-- id: mfa_device_deactivated
-- title: MFA device deactivated or deleted
-- severity: medium
-- controls: CIS 4.4
-- attack: TA0005/T1556.006, TA0003/T1556.006
-- needs: cloudtrail
-- rationale: Removing a user's MFA device is needed before a password-only takeover; it is rarely routine.
-- remediation: Confirm with the user; re-enrol MFA and check the user's sign-ins since the change.
with e as (
    select e.recipient_account_id as account_id, e.principal_arn, e.user_name, e.event_id, e.event_time, e.event_name, e.source_ip,
           coalesce(json_extract_string(e.request_parameters, '$.userName'), json_extract_string(e.request_parameters, '$.serialNumber')) as target
    from events e, params p
    -- list_contains, unlike in (...), is tested inside the scan of events, so the parameters of other IAM calls are never read
    where e.event_source = 'iam.amazonaws.com' and list_contains(['DeactivateMFADevice', 'DeleteVirtualMFADevice'], e.event_name)
      and e.error_code is null and e.event_time between p.since and p.until
)
select account_id, principal_arn, target,
       string_agg(distinct event_name, ' and ' order by event_name) || ' (' || count(*) || ' call(s)) for ' || coalesce(target, 'an unnamed device')
         || ' by ' || coalesce(principal_arn, unnamed_actors(list(user_name))) || ' from ' || string_agg(distinct source_ip, ', ' order by source_ip),
       json_object('event_ids', list(event_id order by event_time, event_id)),
       min(event_time), max(event_time), count(*)
from e
group by account_id, principal_arn, target
