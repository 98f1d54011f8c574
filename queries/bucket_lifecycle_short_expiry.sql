-- id: bucket_lifecycle_short_expiry
-- title: Lifecycle rule deletes a bucket's objects within days
-- severity: medium
-- controls: -
-- attack: TA0040/T1485
-- needs: cloudtrail
-- rationale: A lifecycle rule that expires objects after a few days destroys data later without any delete call in the trail; scratch buckets use it on purpose, but on a bucket of records or backups it is slow-motion destruction. Rules on trail buckets are reported by trail_bucket_lifecycle_expiry.
-- remediation: Confirm the bucket holds only scratch data; otherwise remove or lengthen the rule and find who set it.
select account_id, principal_arn, 'arn:aws:s3:::' || bucket,
       'lifecycle rule(s) ' || string_agg(distinct '"' || rule_id || '"', ', ' order by '"' || rule_id || '"') || ' on bucket ' || bucket
         || ' delete objects after ' || min(days) || ' day(s), set by ' || coalesce(principal_arn, unnamed_actors(list(user_name)))
         || ' from ' || string_agg(distinct source_ip, ', ' order by source_ip),
       json_object('event_ids', list(distinct event_id order by event_id)),
       min(event_time), max(event_time), count(distinct event_id)
from short_lifecycle_rules, params p
where not trail_bucket and event_time between p.since and p.until
group by account_id, principal_arn, bucket
