-- The policy evaluator (issue #14): one answer, for every rule that asks,
-- to "may principal P do action A on resource R". Statements are separated
-- by lines holding only ';' so run.go can name the one that fails.
--
-- Interface (temporary objects, alive for the whole analysis):
--   iam_principals        every user, role and group: arn, account_id,
--                         principal_type (user, role, group), name, path,
--                         service_linked
--   iam_statements        every statement in force on each of them: the
--                         identity policies (inline and managed, direct and
--                         through groups) and, is_boundary, the permissions
--                         boundary; ${aws:username} resolved for users;
--                         cond_state: none / conditional / never (below)
--   iam_decide(t)         table macro over a table t with columns
--                         (principal_arn, action, resource): one row per
--                         distinct request with decision 'allowed',
--                         'conditional' (allowed only under a Condition) or
--                         'denied', reason (explicit_deny, not_allowed,
--                         outside_boundary, or null), and the statements
--                         that decided it as policy_ref#statement_index:
--                         allowed_by, boundary_by, denied_by, conditional_by.
--   iam_administrators    users and roles allowed '*' on '*' (decision
--                         allowed or conditional) with allowed_by
--
-- Requests: action is a name (iam:PassRole) or '*' for every action;
-- resource an ARN, an ARN pattern meaning every resource it matches
-- ('*': every resource), or NULL meaning "at least one resource". A
-- statement decides a request when its Action/NotAction covers the whole
-- action and its Resource/NotResource covers the whole resource; for NULL,
-- an Allow on any resource counts and a Deny only on Resource "*".
--
-- AWS's order, within one account: an explicit Deny of any identity policy
-- or of the boundary wins; else an identity Allow is needed; else, when the
-- principal has a permissions boundary whose document is in the case, the
-- boundary must allow it too. Conditions: a Deny under a condition, or an
-- Allow only under one, makes the answer 'conditional'; date conditions on
-- aws:CurrentTime, aws:EpochTime and aws:TokenIssueTime are judged at the
-- evaluation time (below): one that cannot hold then makes its statement
-- inert ('never'), one that holds anyway counts as no condition. Not
-- evaluated: SCPs, resource policies, session policies.

-- The time conditions are judged at: the analysis as-of time, else the
-- newest date the authorization details hold (the export was made after it).
create or replace temp table iam_eval_time as
select coalesce((select as_of from params),
                (select max(t) from (
                    select max(update_date) as t from iam_policies
                    union all select max(create_date) from iam_policies
                    union all select max(role_last_used) from iam_roles
                    union all select max(create_date) from iam_roles
                    union all select max(create_date) from iam_users
                    union all select max(create_date) from iam_groups))) as as_of
;
-- A condition value as a time: an ISO date or time, or epoch seconds.
create or replace temp macro iam_condition_time(v) as
    coalesce(try_cast(v as timestamptz), to_timestamp(try_cast(v as double)))
;
-- Each Condition, judged entry by entry (operator x key); all entries must hold.
create or replace temp table iam_condition_states as
with conds as (
    select distinct policy_ref, statement_index, condition
    from policy_statements
    where condition is not null and json_type(condition) = 'OBJECT' and condition::varchar <> '{}'
),
entries as (
    select c.policy_ref, c.statement_index, o.op,
           case when json_type(c.condition -> o.op) = 'OBJECT' then json_keys(c.condition -> o.op) else [null] end as keys,
           c.condition -> o.op as body
    from conds c
    cross join unnest(json_keys(c.condition)) as o(op)
),
pairs as (
    select e.policy_ref, e.statement_index, lower(regexp_replace(e.op, 'IfExists$', '')) as op, lower(k.key) as key,
           case when k.key is not null then json_strings(e.body -> k.key) end as vals
    from entries e
    cross join unnest(e.keys) as k(key)
),
judged as (
    select p.policy_ref, p.statement_index,
           case when p.key in ('aws:currenttime', 'aws:epochtime', 'aws:tokenissuetime')
                 and p.op in ('datelessthan', 'datelessthanequals', 'dategreaterthan', 'dategreaterthanequals')
                 and t.as_of is not null and len(p.vals) > 0
                 and len(list_filter(p.vals, lambda v: iam_condition_time(v) is null)) = 0
                then case when starts_with(p.op, 'datelessthan')
                          -- a token or a request of now is later than as_of
                          then case when list_bool_or(list_transform(p.vals, lambda v: iam_condition_time(v) > t.as_of)) then 'none' else 'never' end
                          else case when list_bool_or(list_transform(p.vals, lambda v: iam_condition_time(v) <= t.as_of)) then 'none' else 'never' end end
                else 'conditional' end as state
    from pairs p cross join iam_eval_time t
)
select policy_ref, statement_index,
       case when bool_or(state = 'never') then 'never' when bool_or(state = 'conditional') then 'conditional' else 'none' end as cond_state
from judged
group by policy_ref, statement_index
;
create or replace temp table iam_principals as
select arn, account_id, 'user' as principal_type, user_name as name, path, false as service_linked from iam_users
union all
select arn, account_id, 'role', role_name, path, coalesce(path like '/aws-service-role/%', false) from iam_roles
union all
select arn, account_id, 'group', group_name, path, false from iam_groups
;
create or replace temp table iam_statements as
select distinct a.principal_arn, a.principal_type, a.is_boundary, a.policy_ref, a.policy_name, a.inline, a.via_group_arn,
       s.statement_index, s.sid, s.effect, s.actions, s.not_actions,
       case when u.user_name is null then s.resources
            else list_transform(s.resources, lambda r: replace(r, '${aws:username}', u.user_name)) end as resources,
       case when u.user_name is null then s.not_resources
            else list_transform(s.not_resources, lambda r: replace(r, '${aws:username}', u.user_name)) end as not_resources,
       s.condition, coalesce(c.cond_state, 'none') as cond_state
from policy_attachments a
join policy_statements s on s.policy_ref = a.policy_ref
left join iam_users u on u.arn = a.principal_arn
left join iam_condition_states c on c.policy_ref = s.policy_ref and c.statement_index = s.statement_index
where a.principal_type in ('user', 'role', 'group')
;
-- Principals whose boundary document is in the case: only those are limited
-- by it (usage_boundary_missing names the others).
create or replace temp table iam_bounded as
select distinct principal_arn from iam_statements where is_boundary
;
-- ARN matching: case-sensitive, * any run of characters, ? one character.
create or replace temp macro iam_arn_like(value, pattern) as
    like_escape(value, replace(replace(replace(replace(replace(pattern, '\', '\\'), '%', '\%'), '_', '\_'), '*', '%'), '?', '_'), '\')
;
-- Whether a statement's Action / NotAction covers the whole of action.
create or replace temp macro iam_actions_cover(actions, not_actions, action) as
    case when actions is not null then coalesce(list_bool_or(list_transform(actions, lambda p: p = '*:*' or iam_like(action, p))), false)
         when not_actions is not null then not coalesce(list_bool_or(list_transform(not_actions,
             lambda p: p = '*:*' or iam_like(action, p) or iam_like(p, action))), false)
         else false end
;
-- Whether a statement's Resource / NotResource covers the whole of resource;
-- a NULL resource is "at least one": any Allow, a Deny on "*".
create or replace temp macro iam_resources_cover(effect, resources, not_resources, resource) as
    case when resource is null then
             case when effect = 'Allow' then coalesce(len(resources) > 0, false) or coalesce(not list_contains(not_resources, '*'), false)
                  else coalesce(list_contains(resources, '*'), false) end
         when resources is not null then coalesce(list_bool_or(list_transform(resources, lambda p: iam_arn_like(resource, p))), false)
         when not_resources is not null then not coalesce(list_bool_or(list_transform(not_resources,
             lambda p: iam_arn_like(resource, p) or iam_arn_like(p, resource))), false)
         else false end
;
create or replace temp macro iam_decide(requests) as table
with req as (
    select distinct principal_arn::varchar as principal_arn, action::varchar as action, resource::varchar as resource
    from query_table(requests)
),
hits as (
    select r.principal_arn, r.action, r.resource, s.is_boundary, s.effect, s.cond_state,
           s.policy_ref || '#' || s.statement_index as ref
    from req r
    join iam_statements s on s.principal_arn = r.principal_arn
    where s.cond_state <> 'never'
      and iam_actions_cover(s.actions, s.not_actions, r.action)
      and iam_resources_cover(s.effect, s.resources, s.not_resources, r.resource)
),
per as (
    select principal_arn, action, resource,
           bool_or(effect = 'Deny' and cond_state = 'none') as denied,
           bool_or(effect = 'Deny') as maybe_denied,
           bool_or(not is_boundary and effect = 'Allow') as allowed,
           bool_or(not is_boundary and effect = 'Allow' and cond_state = 'none') as allowed_always,
           bool_or(is_boundary and effect = 'Allow') as in_boundary,
           bool_or(is_boundary and effect = 'Allow' and cond_state = 'none') as in_boundary_always,
           list(distinct ref order by ref) filter (where effect = 'Allow' and not is_boundary) as allowed_by,
           list(distinct ref order by ref) filter (where effect = 'Allow' and is_boundary) as boundary_by,
           list(distinct ref order by ref) filter (where effect = 'Deny') as denied_by,
           list(distinct ref order by ref) filter (where cond_state = 'conditional') as conditional_by
    from hits
    group by principal_arn, action, resource
)
select r.principal_arn, r.action, r.resource,
       case when coalesce(p.denied, false) then 'denied'
            when not coalesce(p.allowed, false) then 'denied'
            when b.principal_arn is not null and not coalesce(p.in_boundary, false) then 'denied'
            when p.allowed_always and (b.principal_arn is null or p.in_boundary_always) and not p.maybe_denied then 'allowed'
            else 'conditional' end as decision,
       case when coalesce(p.denied, false) then 'explicit_deny'
            when not coalesce(p.allowed, false) then 'not_allowed'
            when b.principal_arn is not null and not coalesce(p.in_boundary, false) then 'outside_boundary' end as reason,
       coalesce(p.allowed_by, []::varchar[]) as allowed_by, coalesce(p.boundary_by, []::varchar[]) as boundary_by,
       coalesce(p.denied_by, []::varchar[]) as denied_by, coalesce(p.conditional_by, []::varchar[]) as conditional_by
from req r
left join per p on p.principal_arn = r.principal_arn and p.action = r.action and p.resource is not distinct from r.resource
left join iam_bounded b on b.principal_arn = r.principal_arn
;
create or replace temp table iam_admin_requests as
select arn as principal_arn, '*' as action, '*' as resource from iam_principals where principal_type in ('user', 'role')
;
create or replace temp table iam_administrators as
select principal_arn, decision, allowed_by
from iam_decide('iam_admin_requests')
where decision <> 'denied'
;
