-- id: trail_bucket_lifecycle_expiry
-- title: Lifecycle rule deletes a trail's logs within days
-- severity: critical
-- controls: CIS 3.1
-- attack: TA0005/T1562.008, TA0005/T1070
-- needs: cloudtrail
-- rationale: A lifecycle rule that expires the objects of the bucket a trail delivers to erases the audit log a few days later without any delete call in the trail; it is how an intruder destroys the record of what they did.
-- remediation: Remove or lengthen the rule at once (GetBucketLifecycleConfiguration to see it), copy the logs that remain, and find who set it; protect the bucket with Object Lock or a retention policy.
select account_id, principal_arn, 'arn:aws:s3:::' || bucket,
       'lifecycle rule(s) ' || string_agg(distinct '"' || rule_id || '"', ', ' order by '"' || rule_id || '"') || ' on trail bucket ' || bucket
         || ' delete objects after ' || min(days) || ' day(s), set by ' || coalesce(principal_arn, unnamed_actors(list(user_name)))
         || ' from ' || string_agg(distinct source_ip, ', ' order by source_ip),
       json_object('event_ids', list(distinct event_id order by event_id)),
       min(event_time), max(event_time), count(distinct event_id)
from short_lifecycle_rules, params p
where trail_bucket and event_time between p.since and p.until
group by account_id, principal_arn, bucket
