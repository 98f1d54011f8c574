-- id: role_unused
-- title: Role unused past the threshold
-- severity: low
-- controls: -
-- needs: authorization_details
-- rationale: A role whose last use (RoleLastUsed or CloudTrail) is older than the threshold is probably left over; its trust is still open.
-- remediation: Confirm with its owner, then delete the role or remove its trust.
with last_event as (
    select principal_arn, max(event_time) as t from events where identity_type = 'AssumedRole' group by principal_arn
)
select r.account_id, r.arn, null,
       r.role_name || ' was last used ' || strftime(greatest(r.role_last_used, l.t), '%Y-%m-%d')
         || ' (' || case when l.t is not null and l.t >= coalesce(r.role_last_used, l.t) then 'CloudTrail' else 'RoleLastUsed' end || '), '
         || date_diff('day', greatest(r.role_last_used, l.t), p.as_of) || ' days before ' || strftime(p.as_of, '%Y-%m-%d')
         || ' (threshold ' || p.unused_after_days || ')',
       json_object('authorization_details', json_object('role_arn', r.arn, 'file_id', r.file_id, 'role_last_used', r.role_last_used),
                   'last_cloudtrail_event', l.t),
       greatest(r.role_last_used, l.t), greatest(r.role_last_used, l.t), null
from iam_roles r
left join last_event l on l.principal_arn = r.arn
join account_params p on p.account_id = r.account_id
where greatest(r.role_last_used, l.t) < p.as_of - to_days(p.unused_after_days)
