-- id: support_role_missing
-- title: No role holds AWSSupportAccess to manage incidents with AWS Support
-- severity: low
-- controls: CIS 1.17, IAM.18
-- needs: authorization_details
-- rationale: Without a role holding AWSSupportAccess, raising a case with AWS Support during an incident needs root or a broader identity than the task calls for.
-- remediation: Create a role that the account's operators may assume and attach arn:aws:iam::aws:policy/AWSSupportAccess to it.
with accounts as (
    select account_id from iam_users
    union select account_id from iam_roles
    union select account_id from iam_groups
    union select account_id from evidence_files where kind = 'authorization_details' and status = 'loaded' and account_id is not null
),
holders as (
    select split_part(a.principal_arn, ':', 5) as account_id, a.principal_arn, a.principal_type
    from policy_attachments a
    where not a.is_boundary and a.via_group_arn is null
      and regexp_full_match(a.policy_ref, 'arn:[^:]+:iam::aws:policy/AWSSupportAccess')
),
roles as (
    select account_id, count(*) as roles from iam_roles group by account_id
),
files as (
    select account_id, list(distinct file_id order by file_id) as file_ids
    from (select account_id, file_id from iam_users union all select account_id, file_id from iam_roles
          union all select account_id, file_id from iam_groups
          union all select account_id, file_id from evidence_files where kind = 'authorization_details' and status = 'loaded')
    group by account_id
)
select a.account_id, null, 'arn:aws:iam::aws:policy/AWSSupportAccess',
       'no role of account ' || a.account_id || ' has AWSSupportAccess attached'
         || coalesce(' (held only by ' || (select string_agg(h.principal_type || ' ' || h.principal_arn, ', ' order by h.principal_arn)
                                            from holders h where h.account_id = a.account_id) || ')', '')
         || case when coalesce(r.roles, 0) = 0 then '; the authorization details list no roles for this account: if the export was filtered, export it again with roles' else '' end,
       json_object('roles_in_export', coalesce(r.roles, 0),
                   'other_holders', (select list(h.principal_arn order by h.principal_arn) from holders h where h.account_id = a.account_id),
                   'file_ids', f.file_ids),
       null, null, null
from accounts a
left join roles r using (account_id)
left join files f using (account_id)
where a.account_id is not null and a.account_id <> ''
  and not exists (select 1 from holders h where h.account_id = a.account_id and h.principal_type = 'role')
