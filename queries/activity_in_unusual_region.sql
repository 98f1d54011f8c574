-- id: activity_in_unusual_region
-- title: Activity in a region outside the allowed or usual ones
-- severity: medium
-- controls: -
-- rationale: Attackers work in regions nobody watches; calls in a region outside --allowed-regions (by default: a region with under 1% of the account's activity, or first used by the account more than 24 hours after its first event in the window) deserve a look.
-- remediation: Confirm the workload in that region; if unknown, review the principal's calls there and block unused regions with an SCP.
with e as (
    select e.recipient_account_id as account_id, e.aws_region as region, e.principal_arn, e.event_id, e.event_time, e.event_name, e.source_ip
    from events e, params p
    where e.principal_arn is not null and e.aws_region is not null and coalesce(e.identity_type, '') <> 'AWSService'
      and e.event_time between p.since and p.until
),
share as (
    select account_id, region, count(*) as n, count(*) / sum(count(*)) over (partition by account_id) as share
    from e
    group by account_id, region
),
first_seen as (
    -- when the account first shows activity in the region, and in any region
    select account_id, region, min(event_time) as first_time,
           min(min(event_time)) over (partition by account_id) as account_first
    from e
    group by account_id, region
),
unusual as (
    select s.account_id, s.region, s.share, f.first_time,
           f.first_time > f.account_first + to_hours(p.baseline_hours) as new_region
    from share s
    join first_seen f using (account_id, region)
    cross join params p
    where case when p.allowed_regions is not null then not list_contains(p.allowed_regions, s.region)
               else s.share < p.rare_region_share or f.first_time > f.account_first + to_hours(p.baseline_hours) end
)
select e.account_id, e.principal_arn, e.region,
       count(*) || ' call(s) by ' || e.principal_arn || ' in ' || e.region || ' ('
         || case when p.allowed_regions is not null then 'not in --allowed-regions'
                 else round(100 * any_value(u.share), 2) || '% of the account''s activity'
                      || case when any_value(u.new_region) then '; no activity of the account in this region before '
                              || strftime(any_value(u.first_time), '%Y-%m-%d %H:%M:%S') else '' end end
         || ') from ' || string_agg(distinct e.source_ip, ', ' order by e.source_ip)
         || ': ' || string_agg(distinct e.event_name, ', ' order by e.event_name),
       json_object('event_ids', list(e.event_id order by e.event_time, e.event_id)),
       min(e.event_time), max(e.event_time), count(*)
from e
join unusual u on u.account_id = e.account_id and u.region = e.region
cross join params p
group by e.account_id, e.principal_arn, e.region, p.allowed_regions
