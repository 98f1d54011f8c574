-- id: user_near_group_limit
-- title: IAM user near the limit of 10 groups
-- severity: low
-- controls: -
-- needs: authorization_details
-- rationale: A user in eight or more groups has accumulated roles over time; the hard limit of 10 also blocks the next legitimate change.
-- remediation: Review the user's groups against their current job and remove the ones no longer needed.
select u.account_id, u.arn, null,
       u.user_name || ' is in ' || count(*) || ' groups (limit 10): ' || string_agg(coalesce(g.group_name, regexp_replace(g.group_arn, '^.*/', '')), ', ' order by g.group_arn),
       json_object('group_arns', list(g.group_arn order by g.group_arn)),
       null, null, null
from iam_users u
join group_members g on g.user_arn = u.arn
cross join params p
group by u.account_id, u.arn, u.user_name, p.group_limit_warn
having count(*) >= p.group_limit_warn
