-- id: user_in_no_group
-- title: IAM user in no group
-- severity: low
-- controls: CIS 1.15
-- needs: authorization_details
-- rationale: A user outside every group gets permissions one by one, which is how exceptions accumulate.
-- remediation: Put the user in the group for their job, or delete the user if nobody needs it.
select u.account_id, u.arn, null,
       u.user_name || ' is in no group',
       json_object('authorization_details', json_object('user_arn', u.arn, 'file_id', u.file_id)),
       null, null, null
from iam_users u
where not exists (select 1 from group_members g where g.user_arn = u.arn)
