-- id: unused_actions
-- title: Granted actions never used in the services a principal uses
-- severity: low
-- controls: -
-- needs: authorization_details, cloudtrail
-- rationale: Within the services a principal does use, the actions and patterns its policies grant but it never calls are the part of its access a least-privilege policy would drop.
-- remediation: Narrow the policies to the actions used; credtrail policy CASE --principal ARN prints a policy built from them.
with svc as (
    select principal_arn, service, used_actions
    from permission_usage where level = 'service' and calls > 0
),
per as (
    select p.account_id, p.principal_arn,
           list(distinct p.pattern order by p.pattern) filter (where p.status = 'unused' and not regexp_matches(p.pattern, '[*?]')) as actions,
           list(distinct p.pattern order by p.pattern) filter (where p.status = 'unused' and regexp_matches(p.pattern, '[*?]')) as patterns,
           sum(p.granted_actions) filter (where s.service is not null) as catalog_granted
    from permission_usage p
    join svc s on s.principal_arn = p.principal_arn and s.service = p.service
    where p.level = 'pattern' and p.granted and p.service <> '*'
    group by all
),
used as (
    select principal_arn, list_sort(list_distinct(flatten(list(used_actions)))) as used_actions,
           min(first_used) as first_used, max(last_used) as last_used, sum(calls) as calls
    from permission_usage where level = 'service' and calls > 0
    group by all
)
select p.account_id, p.principal_arn, null,
       'in the services it uses, '
         || case when len(p.actions) > 0 then 'granted actions never called: ' || array_to_string(p.actions, ', ') || '; ' else '' end
         || case when len(p.patterns) > 0 then 'granted patterns that matched no call: ' || array_to_string(p.patterns, ', ') || '; ' else '' end
         || 'actions used: ' || array_to_string(u.used_actions, ', ')
         || coalesce('; its permissions boundary ' || bm.permissions_boundary_arn || ' is not in the export, so it is not applied', '')
         || usage_window_note(),
       json_object('authorization_details', json_object('principal_arn', p.principal_arn),
                   'unused_actions', coalesce(p.actions, []), 'unused_patterns', coalesce(p.patterns, []),
                   'used_actions', u.used_actions),
       u.first_used, u.last_used, u.calls
from per p
join used u using (principal_arn)
left join usage_boundary_missing bm using (principal_arn)
where len(p.actions) > 0 or len(p.patterns) > 0
