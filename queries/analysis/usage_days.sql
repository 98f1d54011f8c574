-- The per-day usage aggregate: each UTC day's calls folded to one row per
-- principal and action (usage_calls) and each day's events counted per
-- principal (usage_activity), kept in the case between analyses so that
-- permission_usage.sql and generated_policies.sql read a few rows per day
-- instead of every event. usage.go refolds only the days whose events
-- changed since the last fold (usage_days says what each day held) and
-- reads the days at the edges of the window, which it only partly covers,
-- from events. The schema (ingest/schema.sql) creates the tables in a new
-- case; they are created here too, alike, in cases written before them.
-- They are analysis, not evidence: an import of an export does not merge them.
--
-- Sums over days are exact: counts are of distinct calls, and the copies of
-- one call (a cross-account call is logged in both accounts under one
-- sharedEventID) carry the eventTime of the call itself, so a call never
-- spans two days (every copy pair of the corpus agrees).
-- The UTC day of a time, from its epoch: as fast as reading the column.
create or replace temp macro usage_day(t) as
    date '1970-01-01' + (epoch_us(t) // 86400000000 - (epoch_us(t) % 86400000000 < 0)::bigint)::integer
;
create table if not exists usage_days (
    day         date primary key,
    events      bigint not null,        -- events of the day when it was folded
    first_event timestamptz not null,
    last_event  timestamptz not null
)
;
create table if not exists usage_calls (
    day           date not null,
    principal_arn varchar not null,
    iam_action    varchar not null,
    calls         bigint not null,      -- distinct successful calls
    denied        bigint not null,      -- distinct calls refused for lack of permission
    first_used    timestamptz,          -- of the successful calls
    last_used     timestamptz,
    regions       varchar[],            -- of the successful calls, distinct, sorted; NULL when none
    source_ips    varchar[],
    unscoped      boolean,              -- a successful call named no resource
    arn_count     bigint not null,      -- distinct ARNs the successful calls named (usage_named_arns)
    arns          varchar[],            -- those ARNs, sorted, when at most 50; NULL above
    first_call    varchar               -- event_id of the first successful call (the smallest event_id at the first time)
)
;
create table if not exists usage_activity (
    day           date not null,
    principal_arn varchar not null,
    events        bigint not null
)
;
-- The resources a call names, for the generated policy: S3 objects widened
-- to their bucket, credentials and sessions left out.
create or replace temp macro usage_named_arns(resources) as
    list_filter(list_transform(coalesce(json_extract_string(resources, '$[*].ARN'), []),
                               lambda r: regexp_replace(r, '^(arn:[^:]+:s3:::[^/]+)/.+$', '\1/*')),
                lambda r: r is not null and r not like '%:accessKey/%' and r not like '%:assumed-role/%')
;
-- Whether an event is a call that may count as use: of a user or role, of
-- an action, successful or refused for lack of permission, sign-ins left
-- out. Actions that need no permission are left out where the fold is read,
-- so that a change to that list needs no refold.
create or replace temp macro usage_call(principal_arn, iam_action, event_type, error_code) as
    regexp_matches(principal_arn, '^arn:[^:]+:iam::[0-9]{12}:(user|role)/')
    and iam_action is not null
    and coalesce(lower(event_type), '') <> 'awsconsolesignin' -- sign-in events are not use
    and (error_code is null or is_denied(error_code))
;
-- What tells one call: a cross-account call is logged in both accounts,
-- under one sharedEventID.
create or replace temp macro usage_call_id(shared_event_id, event_id, account_id) as
    coalesce(shared_event_id, event_id || '/' || account_id)
;
-- The calls that may count as use, from lo (inclusive) to hi (exclusive).
create or replace temp macro usage_call_events(lo, hi) as table
select usage_day(e.event_time) as day, e.event_id, e.principal_arn, e.iam_action, e.event_time, e.aws_region, e.source_ip,
       e.error_code, e.resources, usage_call_id(e.shared_event_id, e.event_id, e.recipient_account_id) as call_id
from events e
where e.event_time >= lo and e.event_time < hi
  and usage_call(e.principal_arn, e.iam_action, e.event_type, e.error_code)
;
-- The fold of the calls from lo to hi, one row per day, principal and action.
create or replace temp macro usage_fold(lo, hi) as table
with calls as not materialized (
    select day, event_id, principal_arn, iam_action, event_time, aws_region, source_ip, error_code, resources, call_id
    from usage_call_events(lo, hi)
),
folded as (
    select day, principal_arn, iam_action,
           count(distinct call_id) filter (where error_code is null) as calls,
           count(distinct call_id) filter (where error_code is not null) as denied,
           min(event_time) filter (where error_code is null) as first_used,
           max(event_time) filter (where error_code is null) as last_used,
           list(distinct aws_region order by aws_region) filter (where error_code is null and aws_region is not null) as regions,
           list(distinct source_ip order by source_ip) filter (where error_code is null and source_ip is not null) as source_ips,
           bool_or(resources is null or json_array_length(resources) = 0) filter (where error_code is null) as unscoped,
           arg_min(event_id, (event_time, event_id)) filter (where error_code is null) as first_call
    from calls
    group by all
),
-- the named ARNs one row per distinct ARN, listed only up to 50
arns as (
    select distinct day, principal_arn, iam_action, unnest(usage_named_arns(resources)) as arn
    from calls
    where error_code is null
),
arn_counts as (
    select day, principal_arn, iam_action, count(*) as arn_count from arns group by all
),
arn_lists as (
    select a.day, a.principal_arn, a.iam_action, list(a.arn order by a.arn) as arns
    from arns a
    semi join arn_counts k on k.day = a.day and k.principal_arn = a.principal_arn and k.iam_action = a.iam_action
     and k.arn_count <= 50
    group by all
)
select f.day, f.principal_arn, f.iam_action, f.calls, f.denied, f.first_used, f.last_used, f.regions, f.source_ips,
       f.unscoped, coalesce(k.arn_count, 0), l.arns, f.first_call
from folded f
left join arn_counts k using (day, principal_arn, iam_action)
left join arn_lists l using (day, principal_arn, iam_action)
;
-- Every event of a principal from lo to hi, counted per day.
create or replace temp macro usage_activity_fold(lo, hi) as table
select usage_day(event_time) as day, principal_arn, count(*) as events
from events
where event_time >= lo and event_time < hi and principal_arn is not null
group by all
;
-- What each day holds now: compared with usage_days to find the days to refold.
create or replace temp table usage_days_now as
select usage_day(event_time) as day, count(*) as events, min(event_time) as first_event, max(event_time) as last_event
from events
group by all
