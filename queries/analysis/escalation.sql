-- Privilege escalation (issue #14), step one: who can do which method of
-- esc_methods (escalation_methods.tsv) on which target, with the policy
-- evaluator (evaluator.sql). Statements are separated by lines holding only
-- ';'. Every user and role that is no administrator is a caller; the edges
-- it has are in esc_edges: caller, method, target (NULL for a method that
-- needs none), admin (doing it makes the caller an administrator),
-- conditional, and the statements that grant it.

create or replace temp table esc_callers as
select p.arn, p.account_id, p.principal_type, p.name
from iam_principals p
where p.principal_type in ('user', 'role') and not p.service_linked
  and p.arn not in (select principal_arn from iam_administrators)
;
-- Roles a caller may become: their service principals and instance profile.
-- Service-linked roles are not: only their service assumes them, and their
-- trust and policies cannot be changed.
create or replace temp table esc_roles as
select r.arn, r.account_id,
       coalesce(json_array_length(r.instance_profiles), 0) > 0 as has_profile,
       coalesce(list(distinct lower(t.principal_value)) filter (where t.principal_kind = 'Service' and t.effect = 'Allow'
           and not t.not_principal and iam_actions_cover(t.actions, t.not_actions, 'sts:AssumeRole')), []) as services
from iam_roles r
left join role_trust t on t.role_arn = r.arn
where not coalesce(r.path like '/aws-service-role/%', false)
group by r.arn, r.account_id, r.instance_profiles
;
-- Every action a method needs, on at least one resource, asked once per
-- caller: a method is tried on targets only where the caller has all of them
-- somewhere (sts:AssumeRole apart: a trust policy naming the caller needs no
-- grant).
create or replace temp table esc_any_requests as
select c.arn as principal_arn, q.action, null::varchar as resource
from esc_callers c
cross join (select distinct action from esc_requirements) q
;
create or replace temp table esc_any as
select principal_arn, action, decision, allowed_by
from iam_decide('esc_any_requests')
where decision <> 'denied'
;
-- Trust: the roles whose trust policy admits each caller, explicitly (its
-- own ARN: no identity permission needed, in the same account) or as one
-- of every principal of its account or of any account (the caller's
-- policies must allow sts:AssumeRole on the role too). A role session ARN
-- admits sessions of that name only; conditions are not evaluated.
create or replace temp table esc_trust as
select t.role_arn, c.arn as caller,
       bool_or(t.principal_value = c.arn) as explicit,
       bool_and(coalesce(t.condition::varchar not in ('{}', 'null'), false)
                or starts_with(t.principal_value, 'arn:aws:sts::')) as conditional,
       list(distinct t.role_arn || '#trust#' || t.statement_index) as statements
from role_trust t
join esc_callers c
  on t.principal_value = c.arn
  or t.principal_value in ('arn:aws:iam::' || c.account_id || ':root', c.account_id, '*')
  or t.principal_kind = '*'
  or (c.principal_type = 'role' and starts_with(t.principal_value, 'arn:aws:sts::' || c.account_id || ':assumed-role/' || c.name || '/'))
where t.effect = 'Allow' and not t.not_principal and t.principal_kind in ('AWS', '*')
  and iam_actions_cover(t.actions, t.not_actions, 'sts:AssumeRole')
  and t.role_arn <> c.arn
group by t.role_arn, c.arn
;
-- (caller, method, target) whose actions are all granted somewhere; target NULL
-- for a method without one. Targets: users and groups of the caller's
-- account, roles trusted by the method's service (with an instance profile
-- where it needs one).
create or replace temp table esc_candidates as
with fit as (
    select c.arn as caller, c.account_id, c.principal_type, m.*
    from esc_callers c
    join esc_methods m on m.caller in ('any', c.principal_type)
    where not exists (
        select 1 from esc_requirements q
        where q.method = m.method and not (q.action = 'sts:AssumeRole' and q.resource_kind = 'target')
          and not exists (select 1 from esc_any a where a.principal_arn = c.arn and a.action = q.action))
)
select f.caller, f.method, null::varchar as target from fit f where f.target is null
union all
select f.caller, f.method, u.arn from fit f join iam_users u on u.account_id = f.account_id and u.arn <> f.caller where f.target = 'user'
union all
select f.caller, f.method, g.arn from fit f join iam_groups g on g.account_id = f.account_id
where f.target = 'group' and not exists (select 1 from group_members m where m.user_arn = f.caller and m.group_arn = g.arn)
union all
select f.caller, f.method, r.arn from fit f join esc_roles r on r.account_id = f.account_id and r.arn <> f.caller
where f.target = 'role'
  and (f.service is null or list_contains(r.services, f.service))
  and (not f.profile or r.has_profile)
  -- a method that assumes its target: only roles whose trust admits the caller
  and (not exists (select 1 from esc_requirements q where q.method = f.method and q.action = 'sts:AssumeRole' and q.resource_kind = 'target')
       or exists (select 1 from esc_trust t where t.role_arn = r.arn and t.caller = f.caller))
;
-- The resources each requirement may be met on: one row per choice.
create or replace temp table esc_choices as
with customer_policies as (
    select a.principal_arn, a.policy_ref
    from policy_attachments a
    join iam_policies p on p.arn = a.policy_ref and not p.aws_managed
    where not a.inline and not a.is_boundary
)
select c.caller, c.method, c.target, q.action, q.resource_kind,
       case q.resource_kind when 'self' then c.caller when 'target' then c.target end as resource
from esc_candidates c
join esc_requirements q on q.method = c.method
where q.resource_kind in ('self', 'target')
union all
select c.caller, c.method, c.target, q.action, q.resource_kind, m.group_arn
from esc_candidates c
join esc_requirements q on q.method = c.method and q.resource_kind = 'own_group'
join group_members m on m.user_arn = c.caller
union all
-- AWS-managed policies (arn:aws:iam::aws:policy/...) cannot be written
select c.caller, c.method, c.target, q.action, q.resource_kind, p.policy_ref
from esc_candidates c
join esc_requirements q on q.method = c.method and q.resource_kind = 'own_policy'
join customer_policies p on p.principal_arn = c.caller
union all
select c.caller, c.method, c.target, q.action, q.resource_kind, p.policy_ref
from esc_candidates c
join esc_requirements q on q.method = c.method and q.resource_kind = 'target_policy'
join customer_policies p on p.principal_arn = c.target
;
create or replace temp table esc_decisions as
with requests as (
    select distinct caller as principal_arn, action, resource from esc_choices
)
select principal_arn, action, resource, decision, reason, allowed_by
from iam_decide('requests')
;
-- Each requirement of each candidate: met or not, conditionally or not.
create or replace temp table esc_satisfied as
with per_choice as (
    select ch.caller, ch.method, ch.target, ch.action, ch.resource_kind, ch.resource,
           case when ch.action = 'sts:AssumeRole' and ch.resource_kind = 'target' then
                    case when tr.role_arn is null then 'denied'
                         when tr.explicit and d.reason is distinct from 'explicit_deny' then
                              case when tr.conditional or d.decision = 'conditional' then 'conditional' else 'allowed' end
                         when d.decision = 'denied' then 'denied'
                         when tr.conditional or d.decision = 'conditional' then 'conditional'
                         else 'allowed' end
                else d.decision end as decision,
           list_concat(coalesce(d.allowed_by, []), case when ch.action = 'sts:AssumeRole' then coalesce(tr.statements, []) else [] end) as statements
    from esc_choices ch
    left join esc_decisions d on d.principal_arn = ch.caller and d.action = ch.action and d.resource = ch.resource
    left join esc_trust tr on ch.action = 'sts:AssumeRole' and ch.resource_kind = 'target' and tr.role_arn = ch.target and tr.caller = ch.caller
),
best as (
    -- a requirement is met on its best choice: allowed before conditional
    select caller, method, target, action, resource_kind,
           arg_min(decision, case decision when 'allowed' then 0 when 'conditional' then 1 else 2 end) as decision,
           arg_min(statements, case decision when 'allowed' then 0 when 'conditional' then 1 else 2 end) as statements
    from per_choice
    group by caller, method, target, action, resource_kind
)
select caller, method, target, action, resource_kind, decision, statements from best
union all
select a.principal_arn, c.method, c.target, q.action, 'any', a.decision, a.allowed_by
from esc_candidates c
join esc_requirements q on q.method = c.method and q.resource_kind = 'any'
join esc_any a on a.principal_arn = c.caller and a.action = q.action
;
-- Groups whose own policies make a member an administrator.
create or replace temp table esc_group_admin as
with requests as (
    select arn as principal_arn, '*' as action, '*' as resource from iam_principals where principal_type = 'group'
)
select principal_arn, decision from iam_decide('requests') where decision <> 'denied'
;
create or replace temp table esc_edges as
with met as (
    select s.caller, s.method, s.target,
           bool_or(s.decision = 'conditional') as conditional,
           list_sort(list_distinct(flatten(list(s.statements)))) as statements
    from esc_satisfied s
    join esc_requirements q on q.method = s.method and q.action = s.action and q.resource_kind = s.resource_kind
    group by s.caller, s.method, s.target
    having count(distinct q.action || '@' || q.resource_kind) filter (where s.decision <> 'denied')
         = (select count(*) from esc_requirements r where r.method = s.method)
)
select m.caller, m.method, m.target,
       e.gains = 'admin' or a.principal_arn is not null or g.principal_arn is not null as admin,
       m.conditional or coalesce(e.gains = 'target' and coalesce(a.decision, g.decision) = 'conditional', false) as conditional,
       m.statements
from met m
join esc_methods e on e.method = m.method
left join iam_administrators a on e.gains = 'target' and a.principal_arn = m.target
left join esc_group_admin g on e.gains = 'target' and g.principal_arn = m.target
;
-- Reach, hop one: each edge of each caller; run.go adds further hops.
create or replace temp table esc_reach as
select e.caller as start, e.target as node, e.admin, e.conditional, 1 as hops,
       [{'from': e.caller, 'method': e.method, 'to': e.target, 'conditional': e.conditional, 'policy_statements': e.statements}] as path
from esc_edges e
;
