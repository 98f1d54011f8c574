-- Granted versus used: fills permission_usage for
-- every IAM user and role of the authorization details, from the statements
-- in force on it and its successful CloudTrail calls in the window (params).
-- Statements are separated by lines holding only ';' so run.go can name the
-- one that fails. IAM compares action names without regard to case.
--
-- Whether an action is granted is the policy evaluator's decision
-- (evaluator.sql, iam_decide) on at least one resource: identity policies,
-- direct and through groups, the permissions boundary, explicit Deny on
-- Resource *; a statement under a Condition grants, marked conditional.

-- The users and roles of the export.
create or replace temp table pu_principals as
select arn as principal_arn, account_id, 'user' as principal_type from iam_users
union all
select arn, account_id, 'role' from iam_roles
;
-- Every statement in force on each of them: identity policies and boundary,
-- as the policy evaluator (evaluator.sql) expands them; a statement whose
-- condition cannot hold at the evaluation time grants nothing.
create or replace temp table pu_statements as
select distinct st.principal_arn, st.is_boundary, st.policy_ref, st.statement_index, st.effect,
       st.actions, st.not_actions,
       st.resources, st.not_resources,
       coalesce(st.resources, list_transform(st.not_resources, lambda r: 'NotResource ' || r)) as resource_labels,
       st.cond_state = 'conditional' as conditional
from iam_statements st
join pu_principals pr on pr.principal_arn = st.principal_arn
where st.cond_state <> 'never'
;
-- A Deny that subtracts: no Condition, on every resource.
create or replace temp macro pu_subtracts(effect, conditional, resources) as
    effect = 'Deny' and not conditional and list_contains(resources, '*')
;
-- Principals whose boundary document is in the case: only those are limited
-- by it (a boundary whose policy the export lacks cannot be evaluated; the
-- findings say so).
create or replace temp table pu_bounded as
select distinct principal_arn from pu_statements where is_boundary
;
-- The service a pattern or action belongs to; * for a pattern whose service
-- part is or holds a wildcard.
create or replace temp macro pu_service(pattern) as
    case when pattern not like '%:%' or regexp_matches(split_part(pattern, ':', 1), '^$|[*?]') then '*'
         else lower(split_part(pattern, ':', 1)) end
;
-- Whether pattern outer certainly covers every action pattern inner covers:
-- inner is an action outer matches, or outer is a prefix followed by * that
-- inner starts with, or they are the same. Anything else counts as not
-- covered: only whole removals are decided on patterns.
create or replace temp macro pu_contains(outer_p, inner_p) as
    case when not regexp_matches(inner_p, '[*?]') then iam_like(inner_p, outer_p)
         when regexp_full_match(outer_p, '[^*?]*\*') then starts_with(lower(inner_p), lower(rtrim(outer_p, '*')))
         else lower(outer_p) = lower(inner_p) end
;
-- Whether two patterns may share an action; true when unsure.
create or replace temp macro pu_overlaps(p, q) as
    iam_like(p, q) or iam_like(q, p)
    or (regexp_matches(p, '[*?]') and regexp_matches(q, '[*?]')
        and (pu_service(p) = '*' or pu_service(q) = '*' or pu_service(p) = pu_service(q)))
;
-- Whether a pattern covers an action, but for the exceptions of its
-- NotAction statement.
create or replace temp macro pu_pattern_covers(pattern, except_actions, action) as
    iam_like(action, pattern)
    and (except_actions is null or not coalesce(list_bool_or(list_transform(except_actions, lambda x: iam_like(action, x))), false))
;
-- The grant check as a table function of (principal_arn, action) pairs:
-- the evaluator's decision on at least one resource.
create or replace temp macro pu_grant_check(pairs) as table
    with requests as (
        select principal_arn, action, null::varchar as resource from query_table(pairs)
    )
    select principal_arn, action, decision <> 'denied' as granted from iam_decide('requests')
;
-- Grants are decided per action by the evaluator (iam_decide). Patterns are what the
-- report shows: each Allow pattern of the identity policies (NotAction
-- statements as * with their exceptions), kept unless the boundary or a Deny
-- certainly removes all of it, and labelled with the boundary patterns that
-- cut it down.
create or replace temp table pu_patterns as
with allow as (
    select principal_arn, policy_ref, conditional, unnest(actions) as pattern, null::varchar[] as except_actions,
           resource_labels as res
    from pu_statements where not is_boundary and effect = 'Allow' and actions is not null
    union all
    select principal_arn, policy_ref, conditional, '*',
           list_sort(list_distinct(list_transform(not_actions, lambda x: lower(x)))), resource_labels
    from pu_statements where not is_boundary and effect = 'Allow' and not_actions is not null
),
boundary as (
    select principal_arn, unnest(coalesce(actions, ['*'])) as pattern, not_actions
    from pu_statements where is_boundary and effect = 'Allow'
),
-- the parts of each pattern the boundary lets through: the pattern itself
-- when a boundary pattern contains it, else each boundary pattern it
-- contains, else (overlap not decided) the pattern
pieces as (
    select a.*, a.pattern as piece, []::varchar[] as cut_to from allow a
    where a.principal_arn not in (select principal_arn from pu_bounded)
    union all
    select a.*,
           case when pu_contains(b.pattern, a.pattern) or not pu_contains(a.pattern, b.pattern) then a.pattern else b.pattern end,
           case when pu_contains(a.pattern, b.pattern) and not pu_contains(b.pattern, a.pattern) then [b.pattern] else []::varchar[] end
    from allow a join boundary b on b.principal_arn = a.principal_arn
    where pu_overlaps(a.pattern, b.pattern)
      -- a piece inside an exception of the boundary statement is no piece
      and not coalesce(list_bool_or(list_transform(b.not_actions, lambda e: pu_contains(e, a.pattern) or pu_contains(e, b.pattern))), false)
),
kept as (
    select pc.* from pieces pc
    -- a piece a subtracting Deny covers whole grants nothing
    anti join pu_statements d
      on d.principal_arn = pc.principal_arn and pu_subtracts(d.effect, d.conditional, d.resources)
     and case when d.actions is not null then coalesce(list_bool_or(list_transform(d.actions, lambda x: pu_contains(x, pc.piece))), false)
              else not coalesce(list_bool_or(list_transform(d.not_actions, lambda x: pu_overlaps(x, pc.piece))), false) end
    -- nor one inside an exception of its own NotAction statement
    where not coalesce(list_bool_or(list_transform(pc.except_actions, lambda e: pu_contains(e, pc.piece))), false)
)
select principal_arn,
       min(pattern) as pattern, pu_service(min(pattern)) as service, except_actions,
       -- the report's name for it: NotAction statements by their exceptions,
       -- and the boundary patterns a wider grant is cut down to
       case when except_actions is null then min(pattern)
            else 'NotAction ' || array_to_string(except_actions, ', ') end
         || case when len(list_distinct(flatten(list(cut_to)))) > 0 and not bool_or(len(cut_to) = 0)
                 then ' (boundary: ' || array_to_string(list_sort(list_distinct(flatten(list(cut_to)))), ', ') || ')' else '' end as label,
       bool_and(conditional) as conditional, list(distinct policy_ref order by policy_ref) as policy_refs,
       list_sort(list_distinct(flatten(list(res)))) as resources
from kept
group by principal_arn, lower(pattern), except_actions
;
-- What each principal did in the window. Use is a successful call (no error
-- code) of an action that needs a permission; refused attempts are counted
-- apart and are not use. Roles are matched through the session issuer
-- (events.principal_arn), so every session of a role counts for the role.
create or replace temp table pu_activity as
select principal_arn, sum(events)::bigint as events
from usage_window_activity
where principal_arn in (select principal_arn from pu_principals)
group by 1
;
-- Every call of the window folded to one row per principal and action, so
-- what follows grows with principals x actions, not with events: the sum of
-- the window's per-day folds (usage.go, usage_days.sql).
create or replace temp table pu_used as
select principal_arn, iam_action as action, pu_service(iam_action) as service,
       sum(calls)::bigint as calls, sum(denied)::bigint as denied,
       min(first_used) as first_used, max(last_used) as last_used,
       list_sort(list_distinct(flatten(list(regions) filter (where regions is not null)))) as regions,
       list_sort(list_distinct(flatten(list(source_ips) filter (where source_ips is not null)))) as source_ips
from usage_window_calls
where principal_arn in (select principal_arn from pu_principals)
  and lower(iam_action) not in (select lower(iam_action) from actions_needing_no_permission)
group by 1, 2
;
-- Each used (or refused) action against the grants.
create or replace temp table pu_used_grants as
select u.*, g.granted
from pu_used u
join pu_grant_check('pu_used') g using (principal_arn, action)
;
-- With an action catalog: every catalog action granted to each principal
-- (candidates from the patterns that may cover them, then the check).
create or replace temp table pu_catalog as
select lower(service) as service, min(action) as action from action_catalog group by lower(service), lower(action)
;
create or replace temp table pu_catalog_candidates as
select distinct g.principal_arn, c.action
from pu_patterns g join pu_catalog c on c.service = g.service
where pu_pattern_covers(g.pattern, g.except_actions, c.action)
union
select distinct g.principal_arn, c.action
from pu_patterns g cross join pu_catalog c
where g.service = '*' and pu_pattern_covers(g.pattern, g.except_actions, c.action)
;
create or replace temp table pu_catalog_grants as
select g.principal_arn, g.action, pu_service(g.action) as service
from pu_grant_check('pu_catalog_candidates') g
where g.granted
;
delete from permission_usage
;
-- Pattern rows: each granted pattern with the granted actions used that it
-- covers, and each used action nothing grants.
insert into permission_usage
with catalog_n as (
    select g.principal_arn, g.label, count(distinct c.action)::integer as n
    from pu_patterns g
    join pu_catalog_grants c on c.principal_arn = g.principal_arn and (g.service = '*' or c.service = g.service)
     and pu_pattern_covers(g.pattern, g.except_actions, c.action)
    group by all
)
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
       g.policy_refs, g.resources
from pu_patterns g
join pu_principals pr using (principal_arn)
left join pu_activity a using (principal_arn)
left join catalog_n c on c.principal_arn = g.principal_arn and c.label = g.label
left join pu_used_grants u on u.principal_arn = g.principal_arn and pu_pattern_covers(g.pattern, g.except_actions, u.action)
group by pr.account_id, pr.principal_arn, pr.principal_type, g.service, g.label, g.conditional, g.policy_refs, g.resources, a.principal_arn
;
insert into permission_usage
select pr.account_id, pr.principal_arn, pr.principal_type, 'pattern', u.service, u.action,
       'not_granted', false, null, null, [u.action], u.calls, u.denied, u.first_used, u.last_used,
       u.regions, list_slice(u.source_ips, 1, 20), [], []
from pu_used_grants u
join pu_principals pr using (principal_arn)
where not u.granted and u.calls > 0
;
-- Service rows: each service granted or used. Granted: a kept pattern names
-- it; for a pattern over every service, a granted catalog action or a granted
-- used action is in it.
insert into permission_usage
with granted as (
    select principal_arn, service, conditional, policy_refs, resources from pu_patterns where service <> '*'
    union all
    select g.principal_arn, s.service, g.conditional, g.policy_refs, g.resources
    from pu_patterns g
    join (select principal_arn, service from pu_catalog_grants
          union select principal_arn, service from pu_used_grants where granted) s
      on s.principal_arn = g.principal_arn
    where g.service = '*'
),
granted_svc as (
    select principal_arn, service, bool_and(conditional) as conditional,
           list_sort(list_distinct(flatten(list(policy_refs)))) as policy_refs,
           list_sort(list_distinct(flatten(list(resources)))) as resources
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
    select principal_arn, service, count(*) as n from pu_catalog_grants group by all
)
select pr.account_id, pr.principal_arn, pr.principal_type, 'service', s.service,
       null,
       case when a.principal_arn is null then 'no_evidence'
            when g.service is null then 'not_granted'
            when coalesce(u.calls, 0) > 0 then 'used' else 'unused' end,
       g.service is not null, g.conditional,
       case when g.service in (select service from pu_catalog) then coalesce(c.n, 0) end,
       coalesce(u.used_actions, []), coalesce(u.calls, 0), coalesce(u.denied, 0), u.first_used, u.last_used,
       u.regions, u.source_ips, coalesce(g.policy_refs, []), coalesce(g.resources, [])
from (select principal_arn, service from granted_svc
      union select principal_arn, service from used_svc where calls > 0) s
join pu_principals pr using (principal_arn)
left join pu_activity a using (principal_arn)
left join granted_svc g using (principal_arn, service)
left join used_svc u using (principal_arn, service)
left join catalog_svc c using (principal_arn, service)
;
