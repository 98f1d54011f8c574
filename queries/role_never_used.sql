-- id: role_never_used
-- title: Role never used
-- severity: low
-- controls: -
-- needs: authorization_details
-- rationale: A role with no recorded use (RoleLastUsed empty, no session in CloudTrail) is standing access nobody needs.
-- remediation: Confirm with its owner, then delete the role; recreate it when a workload needs it.
with used as (
    select distinct principal_arn from events where identity_type = 'AssumedRole'
)
select r.account_id, r.arn, null,
       r.role_name || ' has never been used (RoleLastUsed empty, no session in CloudTrail), created '
         || coalesce(strftime(r.create_date, '%Y-%m-%d'), 'at an unknown time'),
       json_object('authorization_details', json_object('role_arn', r.arn, 'file_id', r.file_id)),
       r.create_date, null, null
from iam_roles r
where r.role_last_used is null and r.arn not in (select principal_arn from used where principal_arn is not null)
