-- A group whose own policies give a member a path to administrator: a
-- member's path whose first step the group's policies alone grant. Joining
-- it (AddUserToGroup) is then an escalation; a group that makes its members
-- administrators outright is one already (esc_group_admin).
create or replace temp table esc_group_escalates as
with group_refs as (
    select principal_arn as group_arn, list(distinct policy_ref) as refs
    from policy_attachments
    where principal_type = 'group' and not is_boundary
    group by principal_arn
)
select g.group_arn, bool_and(r.conditional) as conditional
from group_refs g
join group_members m on m.group_arn = g.group_arn
join esc_reach r on r.start = m.user_arn and r.admin
where list_has_all(g.refs, list_transform(r.path[1].policy_statements, lambda s: regexp_replace(s, '#[0-9]+$', '')))
  and len(r.path[1].policy_statements) > 0
group by g.group_arn
;
insert into esc_reach
select r.start, r.node, true, r.conditional or x.conditional, r.hops, r.path
from esc_reach r
join esc_group_escalates x on x.group_arn = r.node
where not r.admin
;
-- Privilege escalation, last step: for each caller that reaches an
-- administrator (esc_reach rows with admin), the best path (unconditional
-- before conditional, fewer hops, then by its text), whether every path
-- needs a condition, and the methods of all its paths' first hops.
create or replace temp table esc_paths as
select start as principal_arn,
       bool_and(conditional) as conditional,
       arg_min(path, (conditional, hops, path::varchar)) as path,
       list_sort(list_distinct(list(path[1].method))) as methods,
       list_sort(list_distinct(list(path[1].method) filter (where not conditional))) as unconditional_methods
from esc_reach
where admin
group by start
;
-- How a path reads: "AssumeRole on role b, then PassExistingRoleToCloudFormation on role c".
create or replace temp macro esc_path_text(path) as
    array_to_string(list_transform(path, lambda h: h.method
        || coalesce(' on ' || regexp_extract(h."to", ':(user|role|group)/', 1) || ' ' || regexp_replace(h."to", '^.*[:/]', ''), '')
        || case when h.conditional then ' (only under a condition)' else '' end), ', then ')
;
