-- A least-privilege policy per user and role, from its successful calls in
-- the window, run after the rules (it reads their findings) on the temporary
-- tables of permission_usage.sql. Two variants per principal: without the
-- events that back a high or critical finding (their evidence.event_ids:
-- an attacker's StopLogging or bulk GetObject is no need of the principal),
-- and with them (credtrail policy --include-incident-activity).
--
-- For a principal of the export: the actions it used that its policies
-- grant. An action some unconditional statement grants on every resource
-- goes into a statement of its service: on the resources its calls named
-- when all of them named some (at most 50), else on *. Any other action
-- keeps the resources and Condition of the statement that grants it (the
-- first by policy and position), so the policy is never wider than the
-- grant it replaces. For a user or role the export lacks: every action it
-- used, as for an unconditional grant (basis 'use').

-- The events that back a high or critical finding.
create or replace temp table gp_incident as
with refs as (
    select finding_id, rule_id, severity, unnest(json_extract_string(evidence, '$.event_ids[*]')) as event_id
    from findings
    where severity in ('high', 'critical') and json_type(evidence, '$.event_ids') = 'ARRAY'
)
select distinct finding_id, rule_id, severity, event_id from refs where event_id is not null
;
-- The successful calls of the window that back such a finding. The events
-- are found by id first, then told to be calls: the other way round tests
-- every event of the window (2.7 s at 10M events).
create or replace temp table gp_incident_calls as
with incident_events as materialized (
    select e.event_id, e.principal_arn, e.iam_action, e.event_time, e.event_type, e.error_code, e.shared_event_id, e.recipient_account_id
    from events e
    semi join gp_incident i using (event_id)
    cross join params p
    where e.event_time between p.since and p.until
)
select c.event_id, c.principal_arn, c.iam_action, usage_day(c.event_time) as day,
       usage_call_id(c.shared_event_id, c.event_id, c.recipient_account_id) as call_id, i.finding_id, i.rule_id, i.severity
from incident_events c
join gp_incident i using (event_id)
where usage_call(c.principal_arn, c.iam_action, c.event_type, c.error_code) and c.error_code is null
  and lower(c.iam_action) not in (select lower(iam_action) from actions_needing_no_permission)
;
-- The days of each principal and action that hold such calls: the variant
-- without incident activity folds them again without those calls; the
-- other days it takes from the window's per-day folds.
create or replace temp table gp_touched as
select distinct day, principal_arn, iam_action from gp_incident_calls
;
create or replace temp table gp_clean as
with touched_events as materialized (
    -- the events of those days, principals and actions first, as above
    select e.event_id, e.principal_arn, e.iam_action, e.event_time, e.event_type, e.error_code, e.resources
    from events e
    semi join gp_touched t on t.day = usage_day(e.event_time) and t.principal_arn = e.principal_arn and t.iam_action = e.iam_action
    cross join params p
    where e.event_time between p.since and p.until
),
calls as materialized (
    select usage_day(c.event_time) as day, c.principal_arn, c.iam_action, c.resources
    from touched_events c
    where usage_call(c.principal_arn, c.iam_action, c.event_type, c.error_code) and c.error_code is null
      and c.event_id not in (select event_id from gp_incident)
),
folded as (
    select day, principal_arn, iam_action, bool_or(resources is null or json_array_length(resources) = 0) as unscoped
    from calls group by all
),
arns as (
    select distinct day, principal_arn, iam_action, unnest(usage_named_arns(resources)) as arn from calls
),
arn_lists as (
    select day, principal_arn, iam_action, count(*) as arn_count,
           case when count(*) <= 50 then list(arn order by arn) end as arns
    from arns group by all
)
select f.day, f.principal_arn, f.iam_action, f.unscoped, coalesce(a.arn_count, 0) as arn_count, a.arns
from folded f left join arn_lists a using (day, principal_arn, iam_action)
;
-- The successful calls per variant, principal and action, from the per-day
-- folds: whether one named no resource, and the ARNs they named, listed
-- only where there are at most 50 (more make the statement unscoped).
create or replace temp table gp_used as
with days as (
    select true as incident_activity, principal_arn, iam_action, unscoped, arn_count, arns
    from usage_window_calls
    where calls > 0
    union all
    select false, w.principal_arn, w.iam_action, w.unscoped, w.arn_count, w.arns
    from usage_window_calls w
    anti join gp_touched t using (day, principal_arn, iam_action)
    where w.calls > 0
    union all
    select false, principal_arn, iam_action, unscoped, arn_count, arns from gp_clean
),
merged as (
    select incident_activity, principal_arn, iam_action as action, bool_or(unscoped) as unscoped_calls,
           bool_or(arn_count > 50) as many,
           list_sort(list_distinct(flatten(list(arns) filter (where arns is not null)))) as arns
    from days
    where lower(iam_action) not in (select lower(iam_action) from actions_needing_no_permission)
    group by all
)
select incident_activity, principal_arn, action, pu_service(action) as service,
       case when many then 51 else coalesce(len(arns), 0) end as arn_count,
       case when not many and coalesce(len(arns), 0) <= 50 then coalesce(arns, []::varchar[]) else []::varchar[] end as resource_arns,
       unscoped_calls
from merged
;
create or replace temp table gp_pairs as
select distinct u.principal_arn, u.action
from gp_used u semi join pu_principals p using (principal_arn)
;
create or replace temp table gp_granted as
select principal_arn, action from pu_grant_check('gp_pairs') where granted
;
delete from generated_policies
;
insert into generated_policies
with acts as (
    select u.incident_activity, u.principal_arn, u.service, u.action, u.resource_arns,
           not u.unscoped_calls and u.arn_count between 1 and 50 as scoped,
           pr.principal_arn is null as use_only
    from gp_used u
    left join pu_principals pr using (principal_arn)
    left join gp_granted g using (principal_arn, action)
    where pr.principal_arn is null or g.principal_arn is not null
),
granting as (
    select a.incident_activity, a.principal_arn, a.action, st.policy_ref, st.statement_index,
           not st.conditional and list_contains(st.resources, '*') as free
    from acts a
    join pu_statements st on st.principal_arn = a.principal_arn and not st.is_boundary and st.effect = 'Allow'
     and statement_covers(st.actions, st.not_actions, a.action)
),
chosen as (
    select a.*, g.free, case when g.free then null else g.policy_ref end as policy_ref,
           case when g.free then null else g.statement_index end as statement_index
    from acts a
    join granting g on g.incident_activity = a.incident_activity and g.principal_arn = a.principal_arn and g.action = a.action
    qualify row_number() over (partition by a.incident_activity, a.principal_arn, a.action order by g.free desc, g.policy_ref, g.statement_index) = 1
    union all
    select a.*, true, null, null from acts a where a.use_only
),
stmts as (
    select incident_activity, principal_arn, service, free, scoped and free as scoped, policy_ref, statement_index,
           list(distinct action order by action) as actions,
           list_sort(list_distinct(flatten(list(resource_arns)))) as arns
    from chosen group by incident_activity, principal_arn, service, free, scoped and free, policy_ref, statement_index
),
shaped as (
    select st.incident_activity, st.principal_arn, st.service, st.free, st.scoped, st.policy_ref, st.statement_index, st.actions,
           regexp_replace(upper(st.service[1]) || st.service[2:], '[^A-Za-z0-9]', '', 'g')
             || case when not st.free then 'AsGranted' when st.scoped and len(st.arns) <= 50 then 'Resources' else 'AllResources' end as base,
           case when not st.free then ps.resources
                when st.scoped and len(st.arns) <= 50 then st.arns end as resources,
           case when not st.free then ps.not_resources end as not_resources,
           case when not st.free and ps.condition is not null and ps.condition::varchar not in ('{}', 'null') then ps.condition end as condition
    from stmts st
    left join policy_statements ps on ps.policy_ref = st.policy_ref and ps.statement_index = st.statement_index
),
numbered as (
    select *, row_number() over (partition by incident_activity, principal_arn, base order by service, scoped desc, policy_ref, statement_index) as n
    from shaped
),
statements as (
    select incident_activity, principal_arn, service, free, scoped, policy_ref, statement_index, len(actions) as n_actions,
           json_merge_patch(
               json_object('Sid', base || case when n > 1 then n::varchar else '' end, 'Effect', 'Allow', 'Action', to_json(actions)),
               case when not_resources is not null then json_object('NotResource', to_json(not_resources))
                    when resources is not null then json_object('Resource', to_json(resources))
                    else json_object('Resource', '*') end,
               coalesce(json_object('Condition', condition), '{}')) as statement
    from numbered
),
policies as (
    select s.incident_activity, s.principal_arn, sum(s.n_actions)::integer as actions,
           json_object('Version', '2012-10-17',
                       'Statement', list(s.statement order by s.service, s.free desc, s.scoped desc, s.policy_ref, s.statement_index)) as policy
    from statements s
    group by s.incident_activity, s.principal_arn
),
-- The events of each principal the default variant leaves out, per
-- finding and action, and whether the action is in that policy anyway
-- (used outside the incident too). Both variants carry the list.
excluded_calls as (
    select c.principal_arn, c.finding_id, c.rule_id, c.severity, c.iam_action as action, count(distinct c.call_id) as events
    from gp_incident_calls c
    group by all
),
excluded as (
    select x.principal_arn,
           to_json(list(json_object('finding_id', x.finding_id, 'rule_id', x.rule_id, 'severity', x.severity,
                                    'action', x.action, 'events', x.events, 'in_policy', a.action is not null)
                        order by x.severity = 'critical' desc, x.rule_id, x.finding_id, x.action)) as excluded
    from excluded_calls x
    left join (select distinct principal_arn, action from acts where not incident_activity) a
      on a.principal_arn = x.principal_arn and a.action = x.action
    group by x.principal_arn
)
select p.principal_arn, coalesce(pr.account_id, split_part(p.principal_arn, ':', 5)), p.incident_activity,
       case when pr.principal_arn is null then 'use' else 'granted' end, p.actions, p.policy,
       coalesce(x.excluded, '[]'::json)
from policies p
left join pu_principals pr using (principal_arn)
left join excluded x using (principal_arn)
