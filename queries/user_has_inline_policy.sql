-- id: user_has_inline_policy
-- title: IAM user with an inline policy
-- severity: low
-- controls: CIS 1.15, IAM.2
-- needs: authorization_details
-- rationale: Permissions written into one user are invisible to reviews of groups and roles and outlive the need they were written for.
-- remediation: Move the permissions to a group (or a role) that the user joins; delete the inline policy.
select u.account_id, u.arn, null,
       u.user_name || ' has inline policies: ' || string_agg(a.policy_name, ', ' order by a.policy_name),
       json_object('policy_refs', list(a.policy_ref order by a.policy_ref)),
       null, null, null
from iam_users u
join policy_attachments a on a.principal_arn = u.arn
where a.inline and a.via_group_arn is null and not a.is_boundary
group by u.account_id, u.arn, u.user_name
