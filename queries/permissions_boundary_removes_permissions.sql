-- id: permissions_boundary_removes_permissions
-- title: Permissions boundary removes permissions the principal's policies grant
-- severity: low
-- controls: -
-- needs: authorization_details
-- rationale: When a boundary cuts what the attached policies grant, the policies overstate the principal's access and calls fail with AccessDenied; reviews of the policies alone are wrong.
-- remediation: Align the policies with the boundary (remove what it never lets through), or widen the boundary if the access is needed.
with stmts as (
    select a.principal_arn, a.is_boundary, a.policy_ref, s.effect, s.actions
    from policy_attachments a
    join policy_statements s using (policy_ref)
    where a.principal_type in ('user', 'role') and s.effect = 'Allow' and s.actions is not null
),
bounded as (
    select distinct principal_arn, policy_ref as boundary_ref from stmts where is_boundary
),
granted as (
    select distinct s.principal_arn, unnest(s.actions) as pattern
    from stmts s
    where not s.is_boundary and s.principal_arn in (select principal_arn from bounded)
),
cut as (
    -- a granted pattern the boundary does not let through
    select g.principal_arn, g.pattern
    from granted g
    where g.pattern <> '*'
      and not exists (select 1 from stmts b, unnest(b.actions) as t (bp)
                      where b.principal_arn = g.principal_arn and b.is_boundary and iam_like(g.pattern, t.bp))
),
denied as (
    select c.principal_arn, list(distinct e.event_id order by e.event_id) as ids
    from cut c
    join events e on e.principal_arn = c.principal_arn and is_denied(e.error_code) and iam_like(e.iam_action, c.pattern)
    cross join params p
    where e.event_time between p.since and p.until
    group by c.principal_arn
)
select coalesce(u.account_id, r.account_id), c.principal_arn, any_value(b.boundary_ref),
       coalesce(u.user_name, r.role_name) || '''s policies grant ' || string_agg(c.pattern, ', ' order by c.pattern)
         || ' but the permissions boundary ' || regexp_replace(any_value(b.boundary_ref), '^.*/', '') || ' does not allow '
         || case when count(*) = 1 then 'it' else 'them' end
         || coalesce('; ' || len(any_value(d.ids)) || ' call(s) in the window were refused', ''),
       json_object('boundary', any_value(b.boundary_ref), 'removed_patterns', list(c.pattern order by c.pattern),
                   'denied_event_ids', coalesce(any_value(d.ids), [])),
       null, null, null
from cut c
join bounded b using (principal_arn)
left join denied d using (principal_arn)
left join iam_users u on u.arn = c.principal_arn
left join iam_roles r on r.arn = c.principal_arn
group by c.principal_arn, u.account_id, r.account_id, u.user_name, r.role_name
