-- id: logging_configuration_changed
-- title: Trail or GuardDuty configuration changed
-- severity: medium
-- controls: CIS 4.5
-- attack: TA0005/T1562.008
-- needs: cloudtrail
-- rationale: Changing a trail (UpdateTrail), what it records (PutEventSelectors, PutInsightSelectors) or what GuardDuty reports (CreateFilter) can quietly narrow logging; each change should be explained.
-- remediation: Compare the new configuration with the intended one (requestParameters in the evidence); revert changes nobody asked for.
with tamper (event_source, event_name) as (
    values
        ('cloudtrail.amazonaws.com', 'UpdateTrail'), ('cloudtrail.amazonaws.com', 'PutEventSelectors'),
        ('cloudtrail.amazonaws.com', 'PutInsightSelectors'), ('cloudtrail.amazonaws.com', 'PutAdvancedEventSelectors'),
        ('guardduty.amazonaws.com', 'CreateFilter'), ('guardduty.amazonaws.com', 'UpdateFilter')
),
e as (
    select e.recipient_account_id as account_id, e.principal_arn, e.user_name, e.event_id, e.event_time, e.event_source, e.event_name,
           e.aws_region, e.source_ip, e.access_key_id,
           logging_target(e.request_parameters) as target
    from events e
    join tamper t using (event_source, event_name)
    cross join params p
    where e.error_code is null and e.event_time between p.since and p.until
      -- the names of tamper, tested inside the scan of events (which the join is not),
      -- so the parameters of other calls are never read
      and list_contains(['UpdateTrail', 'PutEventSelectors', 'PutInsightSelectors', 'PutAdvancedEventSelectors', 'CreateFilter', 'UpdateFilter'], e.event_name)
      -- selectors that turn management events off are tampering, reported by cloudtrail_logging_tampering
      and not is_tampering(e.event_source, e.event_name, e.request_parameters)
)
select account_id, principal_arn, split_part(event_source, '.', 1) || ':' || event_name,
       count(*) || ' ' || event_name || ' call(s) by ' || coalesce(principal_arn, unnamed_actors(list(user_name)))
         || coalesce(' on ' || string_agg(distinct target, ', ' order by target), '')
         || ' in ' || string_agg(distinct aws_region, ', ' order by aws_region)
         || ' from ' || string_agg(distinct source_ip, ', ' order by source_ip)
         || coalesce(' with key ' || string_agg(distinct access_key_id, ', ' order by access_key_id), ''),
       json_object('event_ids', list(event_id order by event_time, event_id), 'access_key_ids', list(distinct access_key_id order by access_key_id)),
       min(event_time), max(event_time), count(*)
from e
group by account_id, principal_arn, event_source, event_name
