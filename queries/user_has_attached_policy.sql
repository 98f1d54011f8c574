-- id: user_has_attached_policy
-- title: IAM user with managed policies attached directly
-- severity: low
-- controls: CIS 1.15, IAM.2
-- needs: authorization_details
-- rationale: Policies attached to users one by one drift apart; group membership keeps permissions reviewable.
-- remediation: Attach the policy to a group for the user's job and add the user to it; detach it from the user.
select u.account_id, u.arn, null,
       u.user_name || ' has managed policies attached directly: ' || string_agg(a.policy_name, ', ' order by a.policy_name),
       json_object('policy_refs', list(a.policy_ref order by a.policy_ref)),
       null, null, null
from iam_users u
join policy_attachments a on a.principal_arn = u.arn
where not a.inline and a.via_group_arn is null and not a.is_boundary
group by u.account_id, u.arn, u.user_name
