-- id: activity_in_unusual_region
-- title: Activity in a region outside the allowed or usual ones
-- severity: medium
-- controls: -
-- attack: TA0005/T1535
-- needs: cloudtrail
-- rationale: Attackers work in regions nobody watches; calls in a region outside --allowed-regions (by default: a region with under 1% of the account's activity, or first used by the account more than 24 hours after its first event in the window, unless it is the account's busiest region) deserve a look. Calls of global services (IAM, STS's global endpoint, sign-in, CloudFront, Route 53, Organizations, Support, ...) are logged in us-east-1 wherever the caller works, so they count for no region; one console session's calls fanned out over several regions are one finding.
-- remediation: Confirm the workload in that region; if unknown, review the principal's calls there and block unused regions with an SCP.
with e as not materialized (
    select e.recipient_account_id as account_id, e.aws_region as region, e.principal_arn, e.event_id, e.event_time, e.event_name, e.source_ip,
           -- the calls of one temporary credential (a console or role session) are one visit
           case when e.access_key_id like 'ASIA%' then e.access_key_id end as session_key
    from events e, params p
    where e.principal_arn is not null and e.aws_region is not null and coalesce(e.identity_type, '') <> 'AWSService'
      and e.event_time between p.since and p.until
      and not logs_in_global_region(e.event_source, e.aws_region)
),
-- The events are read twice, not held: once counted per account and region
-- (each region's share, its first call and the account's span follow from
-- those few rows), and once more for the events of the unusual regions.
regions as (
    select account_id, region, count(*) as n, min(event_time) as first_time, max(event_time) as last_time
    from e
    group by account_id, region
),
share as (
    select account_id, region, first_time, n / sum(n) over (partition by account_id) as share,
           n = max(n) over (partition by account_id) as busiest,
           -- when the account first shows activity in any region
           min(first_time) over (partition by account_id) as account_first
    from regions
),
unusual as (
    select s.account_id, s.region, s.share, s.first_time,
           s.first_time > s.account_first + to_hours(p.baseline_hours) as new_region
    from share s
    cross join params p
    where case when p.allowed_regions is not null then not list_contains(p.allowed_regions, s.region)
               -- a region that holds most of the account's activity is where it works, however late it began there
               else s.share < p.rare_region_share or (s.first_time > s.account_first + to_hours(p.baseline_hours) and not s.busiest) end
),
-- the baseline that tells a new region: the account's first baseline_hours of activity
account_window as (
    select r.account_id, min(r.first_time) as first_time,
           least(max(r.last_time), min(r.first_time) + to_hours(any_value(p.baseline_hours))) as baseline_end
    from regions r, params p
    group by r.account_id
),
-- per principal, visit (a session, else the region) and region
per_region as (
    select e.account_id, e.principal_arn, coalesce(e.session_key, e.region) as visit, e.session_key, e.region,
           round(100 * any_value(u.share), 2) || '%' as share_text,
           case when any_value(u.new_region) then strftime(any_value(u.first_time), '%Y-%m-%d %H:%M:%S') end as new_since,
           list(e.event_id order by e.event_time, e.event_id) as event_ids,
           list(distinct e.source_ip) as ips, list(distinct e.event_name) as names,
           min(e.event_time) as first_time, max(e.event_time) as last_time, count(*) as n
    from e
    join unusual u on u.account_id = e.account_id and u.region = e.region
    cross join params p
    -- implied by the join; it also keeps DuckDB from holding e for both reads as one common subplan
    where e.account_id is not null
    group by e.account_id, e.principal_arn, coalesce(e.session_key, e.region), e.session_key, e.region, p.allowed_regions
)
select r.account_id, r.principal_arn, string_agg(r.region, ', ' order by r.region),
       sum(r.n) || ' call(s) by ' || r.principal_arn
         || case when r.session_key is not null then ' in one session (temporary key ' || r.session_key || ')' else '' end
         || case when p.allowed_regions is not null then ' in ' || string_agg(r.region, ', ' order by r.region) || ' (not in --allowed-regions)'
                 when count(*) = 1 then ' in ' || any_value(r.region) || ' (' || any_value(r.share_text) || ' of the account''s activity'
                      || coalesce('; the account''s first call there at ' || any_value(r.new_since), '') || ')'
                 else ' in ' || count(*) || ' regions (share of the account''s activity): '
                      || string_agg(r.region || ' ' || r.share_text || coalesce(' (first call there at ' || r.new_since || ')', ''), ', ' order by r.region) end
         || ' from ' || array_to_string(list_sort(list_distinct(flatten(list(r.ips)))), ', ')
         || ': ' || array_to_string(list_sort(list_distinct(flatten(list(r.names)))), ', ')
         || case when p.allowed_regions is null then baseline_note(any_value(w.first_time), any_value(w.baseline_end), any_value(p.baseline_hours)) else '' end,
       json_object('event_ids', flatten(list(r.event_ids order by r.first_time, r.region)),
                   'baseline', case when p.allowed_regions is null
                                    then baseline_evidence(any_value(w.first_time), any_value(w.baseline_end), any_value(p.baseline_hours)) end),
       min(r.first_time), max(r.last_time), sum(r.n)
from per_region r
join account_window w on w.account_id = r.account_id
cross join params p
group by r.account_id, r.principal_arn, r.visit, r.session_key, p.allowed_regions
