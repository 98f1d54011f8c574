-- id: empty_group
-- title: Group with no members
-- severity: low
-- controls: -
-- needs: authorization_details
-- rationale: An empty group with policies is a ready-made set of permissions anyone able to add users to groups can hand out.
-- remediation: Delete the group, or detach its policies until it is needed.
select g.account_id, g.arn, null,
       'group ' || g.group_name || ' has no members'
         || coalesce(' but carries ' || (select string_agg(a.policy_name || case when a.inline then ' (inline)' else '' end, ', ' order by a.policy_name)
                                        from policy_attachments a where a.principal_arn = g.arn), ''),
       json_object('authorization_details', json_object('group_arn', g.arn, 'file_id', g.file_id)),
       null, null, null
from iam_groups g
where not exists (select 1 from group_members m where m.group_arn = g.arn)
