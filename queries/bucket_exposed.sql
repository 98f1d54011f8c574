-- id: bucket_exposed
-- title: Bucket opened to another account or to everyone
-- severity: high
-- controls: -
-- attack: TA0010/T1537, TA0005/T1562.007
-- needs: cloudtrail
-- rationale: A bucket policy that allows an account outside the case (or any principal, with no condition that limits who), an ACL granting AllUsers or AuthenticatedUsers, or Block Public Access removed lets someone outside read or write the data without any credential of yours; attackers add such a statement to exfiltrate or keep access.
-- remediation: Remove the statement or grant (the policy is in the event), restore Block Public Access, and read the bucket's data-event or access logs for reads by the named account; accounts the case holds or --trusted-accounts names are not reported.
with policies as (
    select e.recipient_account_id as account_id, e.principal_arn, e.event_id, e.event_time, e.source_ip,
           json_extract_string(e.request_parameters, '$.bucketName') as bucket,
           json_doc(json_extract(e.request_parameters, '$.bucketPolicy')) as doc
    from events e, params p
    where e.event_source = 's3.amazonaws.com' and e.event_name = 'PutBucketPolicy' and e.error_code is null
      and e.event_time between p.since and p.until
),
grants as (
    select po.account_id, po.principal_arn, po.event_id, po.event_time, po.source_ip, po.bucket, st.stmt, pr.principal
    from policies po
    cross join unnest(json_items(json_extract(po.doc, '$.Statement'))) as st(stmt)
    cross join unnest(statement_principals(json_extract(st.stmt, '$.Principal'))) as pr(principal)
    where json_extract_string(st.stmt, '$.Effect') = 'Allow'
),
exposed as (
    -- everyone, unless a condition names who may use the grant
    select account_id, principal_arn, event_id, event_time, source_ip, bucket, 'everyone (policy Principal *)' as grantee
    from grants
    where principal = 'AWS:*'
      and len(list_filter(condition_keys(json_extract(stmt, '$.Condition')), lambda k: k in (
          'aws:principalorgid', 'aws:principalorgpaths', 'aws:principalaccount', 'aws:principalarn', 'aws:sourcevpce',
          'aws:sourcevpc', 'aws:sourceip', 'aws:sourcearn', 'aws:sourceaccount', 'aws:userid', 'aws:username'))) = 0
    union all
    select g.account_id, g.principal_arn, g.event_id, g.event_time, g.source_ip, g.bucket,
           'account ' || principal_account(substr(g.principal, 5))
    from grants g, params p
    where g.principal like 'AWS:%' and g.principal <> 'AWS:*'
      and principal_account(substr(g.principal, 5)) not in (select account_id from case_accounts)
      and not list_contains(p.trusted_accounts, principal_account(substr(g.principal, 5)))
    union all
    -- ACLs for the AllUsers or AuthenticatedUsers groups, in the grant list or as a canned ACL
    select e.recipient_account_id, e.principal_arn, e.event_id, e.event_time, e.source_ip,
           json_extract_string(e.request_parameters, '$.bucketName'),
           case when e.request_parameters::varchar like '%AuthenticatedUsers%' or e.request_parameters::varchar like '%authenticated-read%'
                then 'every AWS account (ACL AuthenticatedUsers)' else 'everyone (ACL AllUsers)' end
    from events e, params p
    -- list_contains, unlike in (...), is tested inside the scan of events, so the parameters of other S3 calls are never read
    where e.event_source = 's3.amazonaws.com' and list_contains(['PutBucketAcl', 'PutObjectAcl'], e.event_name) and e.error_code is null
      and e.event_time between p.since and p.until
      and (e.request_parameters::varchar like '%acs.amazonaws.com/groups/global/AllUsers%'
        or e.request_parameters::varchar like '%acs.amazonaws.com/groups/global/AuthenticatedUsers%'
        or list_has_any(json_strings(json_extract(e.request_parameters, '$."x-amz-acl"')), ['public-read', 'public-read-write', 'authenticated-read']))
    union all
    -- Block Public Access removed or switched off, for a bucket or the whole account
    select e.recipient_account_id, e.principal_arn, e.event_id, e.event_time, e.source_ip,
           coalesce(json_extract_string(e.request_parameters, '$.bucketName'), 'all buckets of the account'),
           'anyone a policy or ACL names (Block Public Access ' || case when e.event_name like 'Delete%' then 'deleted' else 'turned off' end || ')'
    from events e, params p
    where e.event_source in ('s3.amazonaws.com', 's3control.amazonaws.com') and e.error_code is null
      and e.event_time between p.since and p.until
      -- the two names first, tested inside the scan (see the ACLs above)
      and list_contains(['DeletePublicAccessBlock', 'PutPublicAccessBlock'], e.event_name)
      and (e.event_name = 'DeletePublicAccessBlock'
        or (e.event_name = 'PutPublicAccessBlock' and list_contains(list_transform(
               ['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'],
               lambda k: json_extract_string(e.request_parameters, '$.PublicAccessBlockConfiguration.' || k)), 'false')))
)
select account_id, principal_arn, 'arn:aws:s3:::' || bucket,
       'bucket ' || bucket || ' opened to ' || string_agg(distinct grantee, ', ' order by grantee)
         || ' by ' || coalesce(principal_arn, 'an unknown principal') || ' from ' || string_agg(distinct source_ip, ', ' order by source_ip),
       json_object('event_ids', list(distinct event_id order by event_id), 'grantees', list(distinct grantee order by grantee)),
       min(event_time), max(event_time), count(distinct event_id)
from exposed
group by account_id, principal_arn, bucket
