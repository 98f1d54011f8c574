-- id: bucket_data_destruction
-- title: Bucket data destroyed or held to ransom (versioning suspended, mass deletion, foreign key)
-- severity: high
-- controls: -
-- attack: TA0040/T1485, TA0040/T1486, TA0040/T1490
-- needs: cloudtrail
-- rationale: S3 ransomware suspends versioning (so nothing can be restored), deletes objects in bulk, or rewrites them encrypted with a KMS key of an account the attacker owns; each of these is rare in normal operation. Principals that already deleted in bulk from the bucket in the first baseline hours of a case are routine and not reported for deletion.
-- remediation: Re-enable versioning, stop the principal (deny s3:* on the bucket), restore from versions or backups, and check which objects now use a foreign key; enable Object Lock on buckets that must survive this.
with writes as (
    select e.recipient_account_id as account_id, e.principal_arn, e.event_id, e.event_time, e.event_name, e.source_ip, e.request_parameters,
           -- the account of the KMS key an object is written under, read only where the
           -- parameters can name one: the key's name, or a \u escape that could spell it
           case when e.event_name in ('PutObject', 'CopyObject')
                     and (contains(e.request_parameters, 'kms-key-id') or contains(e.request_parameters, '\u'))
                then principal_account(json_extract_string(e.request_parameters, '$."x-amz-server-side-encryption-aws-kms-key-id"'))
           end as key_account
    from events e, params p
    where e.event_source = 's3.amazonaws.com' and e.error_code is null and e.event_time between p.since and p.until
      and e.event_name in ('PutBucketVersioning', 'PutObject', 'CopyObject', 'DeleteObject', 'DeleteObjects')
),
acted as (
    select w.account_id, w.principal_arn, w.event_id, w.event_time, w.source_ip, w.request_parameters,
           case
               when w.event_name = 'PutBucketVersioning' and json_extract_string(w.request_parameters, '$.VersioningConfiguration.Status') = 'Suspended'
                   then 'versioning suspended'
               when w.key_account <> w.account_id and w.key_account not in (select account_id from case_accounts)
                   then 'objects encrypted with a KMS key of account ' || w.key_account
               when w.event_name in ('DeleteObject', 'DeleteObjects') then 'deletion'
           end as act
    from writes w
    -- most writes are objects stored under no foreign key: the account test runs on the few that are
    where w.event_name not in ('PutObject', 'CopyObject') or w.key_account <> w.account_id
),
changes as (
    select a.account_id, a.principal_arn, a.event_id, a.event_time, a.source_ip, a.act,
           json_extract_string(a.request_parameters, '$.bucketName') as bucket
    from acted a
    where a.act is not null
),
deletions as (
    select c.*,
           count(*) over (partition by c.account_id, c.principal_arn, c.bucket order by c.event_time
                          range between current row and to_minutes(p.bulk_minutes) following) >= p.delete_burst as opens_burst
    from changes c, params p
    where c.act = 'deletion'
),
bulk as (
    select d.*
    from (
        select d.*,
               bool_or(d.opens_burst) over (partition by d.account_id, d.principal_arn, d.bucket order by d.event_time
                                            range between to_minutes(p.bulk_minutes) preceding and current row) as in_burst,
               s.long_enough and min(d.event_time) over (partition by d.account_id, d.principal_arn, d.bucket) < s.first_event + to_hours(p.baseline_hours) as established
        from deletions d
        join account_spans s using (account_id)
        cross join params p
    ) d
    where d.in_burst and not d.established
),
acts as (
    select account_id, principal_arn, event_id, event_time, source_ip, bucket, act from changes where act is not null and act <> 'deletion'
    union all
    select account_id, principal_arn, event_id, event_time, source_ip, bucket, 'bulk deletion' from bulk
)
select account_id, principal_arn, 'arn:aws:s3:::' || bucket,
       'bucket ' || bucket || ': ' || string_agg(distinct act, ', ' order by act)
         || case when count(*) filter (where act = 'bulk deletion') > 0
                 then ' (' || count(*) filter (where act = 'bulk deletion') || ' deletion calls within ' || max(p.bulk_minutes) || ' minutes)' else '' end
         || ' by ' || coalesce(principal_arn, 'an unknown principal') || ' from ' || string_agg(distinct source_ip, ', ' order by source_ip)
         -- only bulk deletion is judged against the baseline
         || case when count(*) filter (where act = 'bulk deletion') > 0
                 then baseline_note(any_value(s.first_event), any_value(s.baseline_end), max(p.baseline_hours)) else '' end,
       json_object('event_ids', list(event_id order by event_time, event_id),
                   'baseline', case when count(*) filter (where act = 'bulk deletion') > 0
                                    then baseline_evidence(any_value(s.first_event), any_value(s.baseline_end), max(p.baseline_hours)) end),
       min(event_time), max(event_time), count(*)
from acts
join account_spans s using (account_id)
cross join params p
group by account_id, principal_arn, bucket
