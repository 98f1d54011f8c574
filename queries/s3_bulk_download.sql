-- id: s3_bulk_download
-- title: Bulk download of objects from one bucket
-- severity: high
-- controls: -
-- attack: TA0009/T1530
-- needs: cloudtrail
-- rationale: Hundreds of GetObject calls by one principal on one bucket within an hour is what exfiltration looks like in S3 data events.
-- remediation: Confirm the job with the data owner; if unknown, revoke the principal's sessions and review what was read (the object keys are in the events).
with g as (
    select e.recipient_account_id as account_id, e.principal_arn, json_extract_string(e.request_parameters, '$.bucketName') as bucket,
           e.event_id, e.event_time, e.source_ip
    from events e, params p
    where e.event_source = 's3.amazonaws.com' and e.event_name = 'GetObject' and e.error_code is null
      and e.principal_arn is not null and e.event_time between p.since and p.until
),
counted as (
    select g.*,
           count(*) over (partition by g.account_id, g.principal_arn, g.bucket order by g.event_time
                          range between current row and to_minutes(p.bulk_minutes) following) >= p.bulk_objects as opens_bulk
    from g, params p
),
bulk as (
    select c.*
    from (
        select c.*,
               bool_or(c.opens_bulk) over (partition by c.account_id, c.principal_arn, c.bucket order by c.event_time
                                           range between to_minutes(p.bulk_minutes) preceding and current row) as in_bulk
        from counted c, params p
    ) c
    where c.in_bulk
)
select account_id, principal_arn, 'arn:aws:s3:::' || bucket,
       count(*) || ' objects read from ' || bucket || ' by ' || principal_arn || ' between '
         || strftime(min(event_time), '%Y-%m-%d %H:%M:%S') || ' and ' || strftime(max(event_time), '%Y-%m-%d %H:%M:%S')
         || ' from ' || string_agg(distinct source_ip, ', ' order by source_ip),
       json_object('event_ids', list(event_id order by event_time, event_id)),
       min(event_time), max(event_time), count(*)
from bulk
group by account_id, principal_arn, bucket
