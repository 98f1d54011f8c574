-- Granted versus used: fills permission_usage and generated_policies for
-- every IAM user and role of the authorization details, from the statements
-- in force on it and its successful CloudTrail calls in the window (params).
-- Statements are separated by lines holding only ';' so run.go can name the
-- one that fails. IAM compares action names without regard to case.
--
-- What is evaluated: Allow with Action or NotAction, from inline and managed
-- policies, direct and through groups; a permissions boundary intersects; a
-- Deny without Condition on Resource * subtracts. A statement with a
-- Condition grants, marked conditional. Resources are not evaluated.

-- The users and roles of the export.
create or replace temp table pu_principals as
select arn as principal_arn, account_id, 'user' as principal_type from iam_users
union all
select arn, account_id, 'role' from iam_roles
;
-- Every statement in force on each of them: identity policies and boundary.
create or replace temp table pu_statements as
select distinct pr.principal_arn, a.is_boundary, a.policy_ref, s.statement_index, s.effect,
       s.actions, s.not_actions,
       s.resources,
       coalesce(s.condition is not null and s.condition::varchar not in ('{}', 'null'), false) as conditional
from pu_principals pr
join policy_attachments a on a.principal_arn = pr.principal_arn
join policy_statements s on s.policy_ref = a.policy_ref
;
-- Principals whose boundary document is in the case: only those are limited
-- by it (a boundary whose policy the export lacks cannot be evaluated).
create or replace temp table pu_bounded as
select distinct principal_arn from pu_statements where is_boundary
;
-- Denies that subtract: no Condition, on every resource.
create or replace temp table pu_denies as
select principal_arn, actions, not_actions from pu_statements
where effect = 'Deny' and not conditional and list_contains(resources, '*')
;
-- Whether a subtracting Deny removes a whole granted pattern: one of its
-- actions covers the pattern, or, for NotAction, none of its exceptions
-- overlaps the pattern (a Deny NotAction s3:GetObject leaves s3:* standing,
-- cut down to what the action-level checks below let through).
create or replace temp macro pu_deny_covers_pattern(actions, not_actions, pattern) as
    case when actions is not null then coalesce(list_bool_or(list_transform(actions, lambda a: iam_like(pattern, a))), false)
         when not_actions is not null then not coalesce(list_bool_or(list_transform(not_actions,
             lambda e: iam_like(pattern, e) or iam_like(e, pattern))), false)
         else false end
;
-- The service a pattern or action belongs to; * for a pattern over all.
create or replace temp macro pu_service(pattern) as
    case when split_part(pattern, ':', 1) in ('', '*') or pattern not like '%:%' then '*'
         else lower(split_part(pattern, ':', 1)) end
;
-- Granted patterns: each Allow pattern of the identity policies, cut down to
-- the boundary (a pattern inside a boundary pattern stays; a boundary pattern
-- inside it takes its place), and dropped when a Deny covers it whole.
-- NotAction statements grant everything but their list: pattern * with
-- not_actions kept, so actions can be tested against it.
create or replace temp table pu_patterns as
with allow as (
    select principal_arn, policy_ref, conditional, unnest(actions) as pattern, null::varchar[] as except_actions
    from pu_statements where not is_boundary and effect = 'Allow' and actions is not null
    union all
    select principal_arn, policy_ref, conditional, '*', not_actions
    from pu_statements where not is_boundary and effect = 'Allow' and not_actions is not null
),
boundary as (
    select principal_arn, unnest(coalesce(actions, ['*'])) as pattern, not_actions
    from pu_statements where is_boundary and effect = 'Allow'
),
bounded as (
    select a.principal_arn, a.policy_ref, a.conditional, a.pattern, a.except_actions from allow a
    where a.principal_arn not in (select principal_arn from pu_bounded)
    union all
    select a.principal_arn, a.policy_ref, a.conditional,
           case when iam_like(a.pattern, b.pattern) then a.pattern else b.pattern end,
           case when iam_like(a.pattern, b.pattern) or (a.except_actions is null and b.not_actions is null) then a.except_actions
                else list_concat(coalesce(a.except_actions, []), coalesce(b.not_actions, [])) end
    from allow a join boundary b on b.principal_arn = a.principal_arn
    where (iam_like(a.pattern, b.pattern) or iam_like(b.pattern, a.pattern))
      and (b.not_actions is null or not coalesce(list_bool_or(list_transform(b.not_actions, lambda x: iam_like(a.pattern, x))), false))
)
select principal_arn, pattern, pu_service(pattern) as service,
       -- what the pattern is called in the report: NotAction statements by their list
       case when except_actions is null then pattern
            when pattern = '*' then 'NotAction ' || array_to_string(list_sort(except_actions), ', ')
            else pattern || ' except ' || array_to_string(list_sort(except_actions), ', ') end as label,
       except_actions, bool_and(conditional) as conditional, list(distinct policy_ref order by policy_ref) as policy_refs
from bounded bd
anti join pu_denies d on d.principal_arn = bd.principal_arn and pu_deny_covers_pattern(d.actions, d.not_actions, bd.pattern)
group by all
;
-- Whether an action is granted to a principal: some granted pattern covers it
-- and no subtracting Deny does. Applied to the used actions and, with an
-- action catalog, to every action of the catalog.
create or replace temp macro pu_pattern_covers(pattern, except_actions, action) as
    iam_like(action, pattern)
    and (except_actions is null or not coalesce(list_bool_or(list_transform(except_actions, lambda x: iam_like(action, x))), false))
;
-- What each principal did in the window. Use is a successful call (no error
-- code) of an action that needs a permission; refused attempts are counted
-- apart and are not use. Roles are matched through the session issuer
-- (events.principal_arn), so every session of a role counts for the role.
create or replace temp table pu_activity as
select e.principal_arn, count(*) as events
from events e cross join params p
where e.event_time between p.since and p.until
  and e.principal_arn in (select principal_arn from pu_principals)
group by 1
;
create or replace temp table pu_used as
with ev as (
    select e.principal_arn, e.iam_action, e.event_time, e.aws_region, e.source_ip, e.error_code, e.resources
    from events e cross join params p
    where e.event_time between p.since and p.until
      and e.principal_arn in (select principal_arn from pu_principals)
      and e.iam_action is not null
      and lower(e.iam_action) not in (select lower(iam_action) from actions_needing_no_permission)
      and coalesce(lower(e.event_type), '') <> 'awsconsolesignin' -- sign-in events are not use
      and (e.error_code is null or is_denied(e.error_code))
)
select principal_arn, iam_action as action, pu_service(iam_action) as service,
       count(*) filter (where error_code is null) as calls,
       count(*) filter (where error_code is not null) as denied,
       min(event_time) filter (where error_code is null) as first_used,
       max(event_time) filter (where error_code is null) as last_used,
       list(distinct aws_region order by aws_region) filter (where error_code is null and aws_region is not null) as regions,
       list(distinct source_ip order by source_ip) filter (where error_code is null and source_ip is not null) as source_ips,
       -- resources named by the calls, for the generated policy: S3 objects
       -- widened to their bucket, credentials and sessions left out
       list_distinct(flatten(list(list_filter(
           list_transform(coalesce(json_extract_string(resources, '$[*].ARN'), []),
                          lambda r: regexp_replace(r, '^(arn:[^:]+:s3:::[^/]+)/.+$', '\1/*')),
           lambda r: r is not null and r not like '%:accessKey/%' and r not like '%:assumed-role/%'))
         filter (where error_code is null))) as resource_arns,
       coalesce(bool_or(resources is null or json_array_length(resources) = 0) filter (where error_code is null), false) as unscoped_calls
from ev
group by 1, 2
;
-- Each used (or refused) action against the grants: granted when a granted
-- pattern covers it and no subtracting Deny does.
create or replace temp table pu_used_grants as
with covered as (
    select u.principal_arn, u.action from pu_used u
    semi join pu_patterns g on g.principal_arn = u.principal_arn and pu_pattern_covers(g.pattern, g.except_actions, u.action)
    anti join pu_denies d on d.principal_arn = u.principal_arn and statement_covers(d.actions, d.not_actions, u.action)
)
select u.*, c.action is not null as granted
from pu_used u
left join covered c using (principal_arn, action)
;
-- With an action catalog: every catalog action each granted pattern covers.
create or replace temp table pu_catalog as
select distinct service, action from action_catalog
;
create or replace temp table pu_catalog_grants as
select g.principal_arn, g.pattern, g.label, c.service, c.action
from pu_patterns g
join pu_catalog c on (g.service = '*' or c.service = g.service)
anti join pu_denies d on d.principal_arn = g.principal_arn and statement_covers(d.actions, d.not_actions, c.action)
where pu_pattern_covers(g.pattern, g.except_actions, c.action)
;
delete from permission_usage
;
delete from generated_policies
;
-- Pattern rows: each granted pattern, and each used action no pattern grants.
insert into permission_usage
select pr.account_id, pr.principal_arn, pr.principal_type, 'pattern', g.service, g.label,
       case when a.principal_arn is null then 'no_evidence'
            when count(u.action) filter (where u.granted and u.calls > 0) > 0 then 'used' else 'unused' end,
       true, g.conditional,
       case when g.service in (select service from pu_catalog) or (g.service = '*' and (select count(*) from pu_catalog) > 0)
            then coalesce(any_value(c.n), 0) end,
       coalesce(list(distinct u.action order by u.action) filter (where u.granted and u.calls > 0), []),
       coalesce(sum(u.calls) filter (where u.granted), 0), coalesce(sum(u.denied), 0),
       min(u.first_used) filter (where u.granted), max(u.last_used) filter (where u.granted),
       list_sort(list_distinct(flatten(list(u.regions) filter (where u.granted and u.regions is not null)))),
       list_slice(list_sort(list_distinct(flatten(list(u.source_ips) filter (where u.granted and u.source_ips is not null)))), 1, 20),
       g.policy_refs
from pu_patterns g
join pu_principals pr using (principal_arn)
left join pu_activity a using (principal_arn)
left join (select principal_arn, label, count(distinct action)::integer as n from pu_catalog_grants group by all) c
  on c.principal_arn = g.principal_arn and c.label = g.label
left join pu_used_grants u on u.principal_arn = g.principal_arn and pu_pattern_covers(g.pattern, g.except_actions, u.action)
group by pr.account_id, pr.principal_arn, pr.principal_type, g.service, g.label, g.conditional, g.policy_refs, a.principal_arn
;
insert into permission_usage
select pr.account_id, pr.principal_arn, pr.principal_type, 'pattern', u.service, u.action,
       'not_granted', false, null, null, [u.action], u.calls, u.denied, u.first_used, u.last_used,
       u.regions, list_slice(u.source_ips, 1, 20), []
from pu_used_grants u
join pu_principals pr using (principal_arn)
where not u.granted and u.calls > 0
;
-- Service rows: each service granted (by a pattern naming it, or, for a
-- pattern over every service, each service of the catalog or used) or used.
insert into permission_usage
with granted as (
    select principal_arn, service, bool_and(conditional) as conditional,
           list_distinct(flatten(list(policy_refs))) as policy_refs
    from pu_patterns where service <> '*' group by all
    union all
    -- over every service: the catalog's services it covers and the services used
    select g.principal_arn, s.service, bool_and(g.conditional), list_distinct(flatten(list(g.policy_refs)))
    from pu_patterns g
    join (select principal_arn, service from pu_catalog_grants
          union select principal_arn, service from pu_used_grants where granted) s
      on s.principal_arn = g.principal_arn
    where g.service = '*'
    group by all
),
granted_svc as (
    select principal_arn, service, bool_and(conditional) as conditional,
           list_sort(list_distinct(flatten(list(policy_refs)))) as policy_refs
    from granted group by all
),
used_svc as (
    select principal_arn, service,
           list(action order by action) filter (where calls > 0) as used_actions,
           sum(calls) as calls, sum(denied) as denied, min(first_used) as first_used, max(last_used) as last_used,
           list_sort(list_distinct(flatten(list(regions) filter (where regions is not null)))) as regions,
           list_slice(list_sort(list_distinct(flatten(list(source_ips) filter (where source_ips is not null)))), 1, 20) as source_ips
    from pu_used group by all
),
catalog_svc as (
    select principal_arn, service, count(distinct action) as n from pu_catalog_grants group by all
)
select pr.account_id, pr.principal_arn, pr.principal_type, 'service', s.service,
       null,
       case when a.principal_arn is null then 'no_evidence'
            when g.service is null then 'not_granted'
            when coalesce(u.calls, 0) > 0 then 'used' else 'unused' end,
       g.service is not null, g.conditional,
       case when g.service in (select service from pu_catalog) then coalesce(c.n, 0) end,
       coalesce(u.used_actions, []), coalesce(u.calls, 0), coalesce(u.denied, 0), u.first_used, u.last_used,
       u.regions, u.source_ips, coalesce(g.policy_refs, [])
from (select principal_arn, service from granted_svc
      union select principal_arn, service from used_svc where calls > 0) s
join pu_principals pr using (principal_arn)
left join pu_activity a using (principal_arn)
left join granted_svc g using (principal_arn, service)
left join used_svc u using (principal_arn, service)
left join catalog_svc c using (principal_arn, service)
;
-- A least-privilege policy per principal: the actions it used that its
-- policies grant, a statement per service for the actions whose calls all
-- named their resources (those resources, at most 50) and one on * for the rest.
insert into generated_policies
with acts as (
    select principal_arn, service, action, resource_arns,
           not unscoped_calls and len(resource_arns) > 0 as scoped
    from pu_used_grants
    where granted and calls > 0
),
stmts as (
    select principal_arn, service, scoped,
           list(distinct action order by action) as actions,
           list_sort(list_distinct(flatten(list(resource_arns)))) as arns
    from acts group by principal_arn, service, scoped
),
shaped as (
    select principal_arn, service, scoped, actions,
           regexp_replace(upper(service[1]) || service[2:], '[^A-Za-z0-9]', '', 'g')
             || case when scoped and len(arns) <= 50 then 'Resources' else 'AllResources' end as sid,
           case when scoped and len(arns) <= 50 then to_json(arns) else to_json('*') end as resource
    from stmts
),
statements as (
    select principal_arn, service, scoped, len(actions) as n,
           json_object('Sid', sid, 'Effect', 'Allow', 'Action', to_json(actions), 'Resource', resource) as statement
    from shaped
)
select s.principal_arn, any_value(pr.account_id), sum(s.n)::integer,
       json_object('Version', '2012-10-17', 'Statement', list(s.statement order by s.service, s.scoped desc))
from statements s
join pu_principals pr using (principal_arn)
group by s.principal_arn
