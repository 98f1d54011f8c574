-- Risk categories: for each user and role that is not an administrator, the
-- actions of each category (risk_actions, from risk.go) it may call on every
-- resource, with the statements that grant them and their use in the window.
-- Runs after evaluator.sql and permission_usage.sql and reads their tables:
-- iam_decide and iam_administrators (the policy evaluator), pu_statements
-- (the statements in force), pu_patterns, pu_used, and the window's
-- per-day usage (usage_window_calls, usage.go).
-- Statements are separated by lines holding only ';'.

-- A statement on every resource: Resource "*", an ARN whose resource part is
-- only wildcards (arn:aws:s3:::*, arn:aws:secretsmanager:*:*:*,
-- arn:aws:kms:*:*:key/*), or NotResource.
create or replace temp macro risk_unscoped(resources, not_resources) as
    not_resources is not null
    or len(list_filter(coalesce(resources, []), lambda r: r = '*'
        or regexp_full_match(r, 'arn:[^:]+:s3:::\*(/\*)?')
        or (split_part(r, ':', 3) <> 's3' and regexp_full_match(r, 'arn:[^:]+:[^:]+:[^:]*:[^:]*:([a-z-]+[:/])?\*')))) > 0
;
-- Whether an action, or an action pattern, may name a write: its name does
-- not start with a reading verb (for a pattern: the part before its first
-- wildcard). Used where the action catalog does not know the service.
create or replace temp macro risk_verb_may_write(pattern) as
    not regexp_matches(lower(regexp_extract(split_part(pattern, ':', 2), '^[^*?]*')),
                       '^(get|list|describe|head|lookup|search|generate|simulate|decode|check|batchget|view|validate|query|select|retrieve|scan|read|estimate|evaluate|preview)')
    or pattern not like '%:%'
;
-- Users and roles judged: not administrators (the evaluator's
-- iam_administrators; full_admin_access reports them), not service-linked
-- roles (only their service assumes them).
create or replace temp table risk_principals as
select p.principal_arn, p.account_id, p.principal_type, coalesce(u.user_name, r.role_name) as name
from pu_principals p
left join iam_users u on u.arn = p.principal_arn
left join iam_roles r on r.arn = p.principal_arn
where coalesce(r.path, '') not like '/aws-service-role/%'
  and p.principal_arn not in (select principal_arn from iam_administrators)
;
-- The identity-policy Allow statements on every resource of those principals.
create or replace temp table risk_statements as
select s.principal_arn, s.policy_ref, s.statement_index, s.actions, s.not_actions, s.resources, s.conditional,
       s.policy_ref || '#' || s.statement_index as statement_ref
from pu_statements s
where not s.is_boundary and s.effect = 'Allow' and risk_unscoped(s.resources, s.not_resources)
  and s.principal_arn in (select principal_arn from risk_principals)
;
-- Listed categories: each listed action a statement on every resource
-- covers, asked of the policy evaluator (iam_decide) on that resource, so
-- that a Deny, the boundary and conditions that can no longer hold are
-- applied as AWS applies them; the statements are the evaluator's.
create or replace temp table risk_requests as
select distinct s.principal_arn, a.action, r.resource
from risk_statements s
cross join risk_actions a
cross join unnest(s.resources) as r(resource)
where statement_covers(s.actions, s.not_actions, a.action) and risk_unscoped([r.resource], null)
;
create or replace temp table risk_listed as
select d.principal_arn, a.category, a.action as item, a.action as pattern, null::varchar[] as except_actions,
       list_sort(list_distinct(flatten(list(d.allowed_by)))) as statements, bool_and(d.decision = 'conditional') as conditional,
       a.logged
from iam_decide('risk_requests') d
join risk_actions a on a.action = d.action
where d.decision <> 'denied'
group by d.principal_arn, a.category, a.action, a.logged
;
-- Infrastructure modification: the granted patterns (after boundary and
-- Deny, from pu_patterns) that a statement on every resource grants and that
-- may name a write: by the action catalog where it knows the service, else
-- by the verb.
create or replace temp table risk_catalog as
select lower(service) as service, lower(action) as action,
       bool_or(access_level in ('Write', 'Permissions management', 'Tagging')) as write
from action_catalog
group by 1, 2
;
create or replace temp table risk_infra as
with unscoped as (
    select p.principal_arn, p.pattern, p.except_actions, p.label, p.service,
           list(distinct s.statement_ref order by s.statement_ref) as statements, bool_and(s.conditional) as conditional
    from pu_patterns p
    join risk_statements s on s.principal_arn = p.principal_arn
    -- AWS's read-only managed policies (ReadOnlyAccess, AmazonS3ReadOnlyAccess,
    -- job-function/ViewOnlyAccess, SecurityAudit) grant Read and List actions
    -- only, whatever verbs their patterns start with
    where not regexp_full_match(s.policy_ref, 'arn:[^:]+:iam::aws:policy/(.*/)?([A-Za-z0-9]*ReadOnly(Access)?|ViewOnlyAccess|SecurityAudit)')
      and ((p.except_actions is null and list_contains(list_transform(s.actions, lambda x: lower(x)), lower(p.pattern)))
           or (p.except_actions is not null and s.not_actions is not null
               and list_sort(list_distinct(list_transform(s.not_actions, lambda x: lower(x)))) = p.except_actions))
    group by p.principal_arn, p.pattern, p.except_actions, p.label, p.service
),
writes as (
    select u.principal_arn, u.pattern, u.except_actions,
           case when u.service in (select service from risk_catalog) then count(c.action) > 0
                else risk_verb_may_write(u.pattern) end as writes
    from unscoped u
    left join risk_catalog c on c.service = u.service and c.write and iam_like(c.action, u.pattern)
    group by u.principal_arn, u.pattern, u.except_actions, u.service
)
select u.principal_arn, 'infrastructure_modification' as category, u.label as item, u.pattern, u.except_actions,
       u.statements, u.conditional, 'management' as logged
from unscoped u
join writes w on w.principal_arn = u.principal_arn and w.pattern = u.pattern and w.except_actions is not distinct from u.except_actions
where w.writes
;
-- The first successful call of each action by each judged principal: the
-- event that proves its use (at equal times, the smallest event id).
create or replace temp table risk_first_calls as
select principal_arn, lower(iam_action) as action, arg_min(first_call, (first_used, first_call)) as event_id
from usage_window_calls
where calls > 0 and principal_arn in (select principal_arn from risk_principals)
  and lower(iam_action) not in (select lower(iam_action) from actions_needing_no_permission)
group by 1, 2
;
create or replace temp table risk_grants as
with items as (
    select principal_arn, category, item, pattern, except_actions, statements, conditional, logged from risk_listed
    union all
    select principal_arn, category, item, pattern, except_actions, statements, conditional, logged from risk_infra
),
used as (
    -- listed actions: the action itself; patterns: the write actions they cover
    select i.principal_arn, i.category, i.item, u.action, u.calls, u.first_used, u.last_used
    from items i
    join pu_used u on u.principal_arn = i.principal_arn and u.calls > 0
     and pu_pattern_covers(i.pattern, i.except_actions, u.action)
    left join risk_catalog c on c.action = lower(u.action)
    where i.category <> 'infrastructure_modification' or coalesce(c.write, risk_verb_may_write(u.action))
),
use_by_item as (
    select u.principal_arn, u.category, u.item,
           list(u.action || ' (' || u.calls || case when u.calls = 1 then ' call)' else ' calls)' end order by u.action) as used_actions,
           sum(u.calls) as calls, min(u.first_used) as first_used, max(u.last_used) as last_used,
           list(f.event_id order by f.event_id) filter (where f.event_id is not null) as event_ids
    from used u
    left join risk_first_calls f on f.principal_arn = u.principal_arn and f.action = lower(u.action)
    group by u.principal_arn, u.category, u.item
),
trail_accounts as (
    select distinct e.recipient_account_id as account_id from events e, params p where e.event_time between p.since and p.until
),
-- the services whose data events the case holds, per account
data_sources as (
    select distinct e.recipient_account_id as account_id, split_part(e.event_source, '.', 1) as service
    from events e, params p
    where e.event_time between p.since and p.until and not coalesce(e.management_event, true)
)
select rp.account_id, i.principal_arn, rp.principal_type, rp.name, i.category, i.item, i.statements, i.conditional,
       coalesce(ub.used_actions, []::varchar[]) as used_actions, coalesce(ub.calls, 0) as calls, ub.first_used, ub.last_used,
       coalesce(ub.event_ids, []::varchar[]) as event_ids,
       rp.account_id in (select account_id from trail_accounts) as cloudtrail,
       -- whether the case could show its use: not_logged, no_data_events, or null when it could
       case when i.logged = 'none' then 'not_logged'
            when i.logged = 'data' and not exists (select 1 from data_sources d where d.account_id = rp.account_id
                                                     and d.service = split_part(i.item, ':', 1)) then 'no_data_events' end as unseen
from items i
join risk_principals rp using (principal_arn)
left join use_by_item ub using (principal_arn, category, item)
;
-- The finding rows of one category, one per principal: what the rules
-- risk_<category> select.
create or replace temp macro risk_findings(cat) as table
with g as (
    select account_id, principal_arn, principal_type, name, category, item, statements, conditional, used_actions, calls,
           first_used, last_used, event_ids, cloudtrail,
           case when not cloudtrail then 'not_assessed' when calls > 0 then 'used' when unseen is null then 'unused' else unseen end as use
    from risk_grants where category = cat
)
select any_value(account_id) as account_id, principal_arn, null::varchar as resource,
       any_value(name) || ' (' || any_value(principal_type) || ') may '
         || case category when 'data_exfiltration' then 'read stored data or secrets'
                     when 'credentials_exposure' then 'obtain credentials'
                     when 'resource_exposure' then 'open resources to other principals'
                     else 'change infrastructure' end
         || ' on every resource with '
         || array_to_string(list_slice(list(item || case when conditional then ' (only under a condition)' else '' end order by item), 1, 10), ', ')
         || case when count(*) > 10 then ' and ' || (count(*) - 10) || ' more (the evidence lists them)' else '' end
         || ', granted by ' || array_to_string(list_sort(list_distinct(flatten(list(list_transform(statements, lambda s: regexp_replace(s, '^.*/', '')))))), ', ')
         || case when not bool_and(cloudtrail) then '; use not assessed: the case holds no CloudTrail of account ' || any_value(account_id) || ' in the window'
                 else coalesce('; granted and used: ' || array_to_string(list_sort(list_distinct(flatten(list(used_actions) filter (where use = 'used')))), ', '), '')
                   || coalesce('; granted, never used: ' || array_to_string(list_slice(list(item order by item) filter (where use = 'unused'), 1, 10), ', ')
                               || case when count(*) filter (where use = 'unused') > 10
                                       then ' and ' || (count(*) filter (where use = 'unused') - 10) || ' more' else '' end, '')
                   || coalesce('; use not visible in the case''s CloudTrail: '
                               || string_agg(item || case use when 'not_logged' then ' (never logged)' else ' (no ' || split_part(item, ':', 1) || ' data events)' end, ', ' order by item)
                                    filter (where use in ('not_logged', 'no_data_events')), '') end as detail,
       json_object('category', category,
                   'granted', list(json_object('action', item, 'statements', statements, 'conditional', conditional,
                                               'use', use, 'calls', case when use in ('used', 'unused') then calls end) order by item),
                   'policy_statements', list_sort(list_distinct(flatten(list(statements)))),
                   'cloudtrail_assessed', bool_and(cloudtrail),
                   'event_ids', list_sort(list_distinct(flatten(list(event_ids))))) as evidence,
       min(first_used) as first_seen, max(last_used) as last_seen, case when sum(calls) > 0 then sum(calls) end as event_count
from g
group by principal_arn, category
