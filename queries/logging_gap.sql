-- id: logging_gap
-- title: Hours without events in an account and region that otherwise log continuously
-- severity: medium
-- controls: CIS 3.1
-- attack: TA0005/T1562.008
-- needs: cloudtrail
-- rationale: A gap in an otherwise continuous trail means logging stopped, files were deleted, or the evidence is incomplete; either way the window is not covered.
-- remediation: Check the trail status and the S3 bucket for the missing hours (and CloudTrail-Digest files); say in the report that the gap is not covered.
with hours as (
    -- the hours with events, numbered from 1970: integer arithmetic, where date_trunc on a timestamptz
    -- takes ICU's calendar for every event (most of the rule's time); event times are after 1970
    -- (ingest keeps the years 2000-2100), so the division floors
    select e.recipient_account_id as account_id, e.aws_region as region, epoch_us(e.event_time) // 3600000000 as hour_number
    from events e, params p
    where e.event_time between p.since and p.until and e.aws_region is not null
    group by all
),
h as (
    select account_id, region, to_timestamp(hour_number * 3600) as hour
    from hours
),
coverage as (
    select account_id, region, count(*) as hours, date_diff('hour', min(hour), max(hour)) + 1 as span
    from h
    group by account_id, region
),
gaps as (
    select account_id, region, hour, lead(hour) over (partition by account_id, region order by hour) as next_hour
    from h
)
select g.account_id, null, g.region || ' ' || strftime(g.hour + interval 1 hour, '%Y-%m-%dT%H:00Z'),
       'no events in ' || g.account_id || '/' || g.region || ' from ' || strftime(g.hour + interval 1 hour, '%Y-%m-%d %H:00')
         || ' to ' || strftime(g.next_hour, '%Y-%m-%d %H:00') || ' (' || date_diff('hour', g.hour, g.next_hour) - 1 || ' hours), in a trail with events in '
         || c.hours || ' of its ' || c.span || ' hours',
       json_object('account_id', g.account_id, 'region', g.region, 'last_hour_before', g.hour, 'first_hour_after', g.next_hour),
       g.hour + interval 1 hour, g.next_hour, 0
from gaps g
join coverage c using (account_id, region)
cross join params p
where g.next_hour is not null
  and date_diff('hour', g.hour, g.next_hour) - 1 >= p.logging_gap_hours
  and c.hours >= p.logging_coverage * c.span
