-- id: cloudshell_full_access_attached
-- title: AWSCloudShellFullAccess attached to a user, group or role
-- severity: medium
-- controls: CIS 1.22, IAM.27
-- needs: authorization_details
-- rationale: AWSCloudShellFullAccess lets its holder upload and download files to a CloudShell environment and reach the internet from it: a ready channel to move data out of the account.
-- remediation: Detach AWSCloudShellFullAccess; give the few who need CloudShell a policy that denies cloudshell:PutFileUpload and cloudshell:GetFileDownload.
select split_part(a.principal_arn, ':', 5), a.principal_arn, a.policy_ref,
       a.principal_type || ' ' || regexp_replace(a.principal_arn, '^.*/', '') || ' has AWSCloudShellFullAccess attached'
         || case when a.principal_type = 'group'
                 then ' (' || (select count(*) from group_members m where m.group_arn = a.principal_arn) || ' member(s))' else '' end,
       json_object('policy_ref', a.policy_ref, 'principal_type', a.principal_type,
                   'members', case when a.principal_type = 'group'
                                   then (select list(m.user_arn order by m.user_arn) from group_members m where m.group_arn = a.principal_arn) end),
       null, null, null
from policy_attachments a
where not a.is_boundary and a.via_group_arn is null
  and regexp_full_match(a.policy_ref, 'arn:[^:]+:iam::aws:policy/AWSCloudShellFullAccess')
