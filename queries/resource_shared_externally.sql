-- id: resource_shared_externally
-- title: AMI or snapshot shared with another account or made public
-- severity: high
-- controls: -
-- attack: TA0010/T1537
-- needs: cloudtrail
-- rationale: Adding another account (or "all") to an AMI's launch permission, an EBS snapshot's volume permission or an RDS snapshot's restore attribute hands a full copy of the disk or database to that account; it is the quickest way to take data out of AWS without a download.
-- remediation: Remove the permission at once (ModifyImageAttribute / ModifySnapshotAttribute / ModifyDBSnapshotAttribute), find out whose account it is, and treat the data as copied; accounts the case holds or --trusted-accounts names are not reported.
with shares as (
    select e.recipient_account_id as account_id, e.principal_arn, e.user_name, e.event_id, e.event_time, e.event_name, e.source_ip,
           case e.event_name
               when 'ModifyImageAttribute' then 'image ' || json_extract_string(e.request_parameters, '$.imageId')
               when 'ModifySnapshotAttribute' then 'snapshot ' || json_extract_string(e.request_parameters, '$.snapshotId')
               when 'ModifyDBSnapshotAttribute' then 'db-snapshot ' || json_extract_string(e.request_parameters, '$.dBSnapshotIdentifier')
               else 'db-cluster-snapshot ' || json_extract_string(e.request_parameters, '$.dBClusterSnapshotIdentifier')
           end as target,
           case e.event_name
               when 'ModifyImageAttribute' then list_concat(
                   json_extract_string(e.request_parameters, '$.launchPermission.add.items[*].userId'),
                   json_extract_string(e.request_parameters, '$.launchPermission.add.items[*].group'))
               when 'ModifySnapshotAttribute' then list_concat(
                   json_extract_string(e.request_parameters, '$.createVolumePermission.add.items[*].userId'),
                   json_extract_string(e.request_parameters, '$.createVolumePermission.add.items[*].group'))
               else case when lower(json_extract_string(e.request_parameters, '$.attributeName')) = 'restore'
                         then json_extract_string(e.request_parameters, '$.valuesToAdd[*]') end
           end as grantees
    from events e, params p
    where e.error_code is null and e.event_time between p.since and p.until
      -- the four names first as a list_contains, which DuckDB tests inside the scan of events (an in-list or an or it does not),
      -- so the parameters of other calls are never read
      and list_contains(['ModifyImageAttribute', 'ModifySnapshotAttribute', 'ModifyDBSnapshotAttribute', 'ModifyDBClusterSnapshotAttribute'], e.event_name)
      and ((e.event_source = 'ec2.amazonaws.com' and e.event_name in ('ModifyImageAttribute', 'ModifySnapshotAttribute'))
        or (e.event_source = 'rds.amazonaws.com' and e.event_name in ('ModifyDBSnapshotAttribute', 'ModifyDBClusterSnapshotAttribute')))
),
external as (
    select s.account_id, s.principal_arn, s.user_name, s.event_id, s.event_time, s.event_name, s.source_ip, s.target, g.grantee,
           case when lower(g.grantee) = 'all' then 'everyone (public)' else 'account ' || g.grantee end as label
    from shares s
    cross join unnest(s.grantees) as g(grantee)
    cross join params p
    where g.grantee is not null
      and (lower(g.grantee) = 'all'
        or (g.grantee not in (select account_id from case_accounts) and not list_contains(p.trusted_accounts, g.grantee)))
)
select account_id, principal_arn, target,
       target || ' shared with ' || string_agg(distinct label, ', ' order by label)
         || ' by ' || coalesce(principal_arn, unnamed_actors(list(user_name))) || ' from ' || string_agg(distinct source_ip, ', ' order by source_ip),
       json_object('event_ids', list(distinct event_id order by event_id), 'grantees', list(distinct grantee order by grantee)),
       min(event_time), max(event_time), count(distinct event_id)
from external
group by account_id, principal_arn, target
