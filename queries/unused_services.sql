-- id: unused_services
-- title: Granted services never used in the window
-- severity: low
-- controls: -
-- needs: authorization_details, cloudtrail
-- rationale: A service a principal's policies grant but its CloudTrail calls never touch is access nobody needs; if the principal's credentials leak, it is access an attacker gets for free.
-- remediation: Remove the unused services from the principal's policies; credtrail policy CASE --principal ARN prints a policy built from what it used.
with svc as (
    select account_id, principal_arn,
           list(service order by service) filter (where granted) as granted_svcs,
           list(service order by service) filter (where calls > 0) as used_svcs,
           list(service order by service) filter (where granted and status = 'unused') as unused_svcs,
           count(*) filter (where granted and calls > 0) as used_granted,
           bool_or(status = 'no_evidence') as no_evidence,
           sum(granted_actions) as catalog_actions,
           min(first_used) as first_used, max(last_used) as last_used, sum(calls) as calls
    from permission_usage where level = 'service'
    group by all
),
granted_used as (
    select principal_arn, len(list_distinct(flatten(list(used_actions)))) as used_actions
    from permission_usage where level = 'pattern' and granted
    group by all
),
every as (
    select principal_arn, string_agg(pattern, ', ' order by pattern) as patterns
    from permission_usage where level = 'pattern' and granted and service = '*'
    group by all
),
catalog as (select count(*) > 0 as present from action_catalog)
select s.account_id, s.principal_arn, null,
       case when e.principal_arn is not null and not c.present
            then 'grants every service (' || e.patterns || '); used ' || len(coalesce(s.used_svcs, [])) || ' in the window (calls without error): used '
                 || coalesce(array_to_string(s.used_svcs, ', '), 'none')
                 || '; without an action catalog the services it never uses cannot be listed'
            else 'granted ' || len(s.granted_svcs) || case when len(s.granted_svcs) = 1 then ' service' else ' services' end || ', used ' || len(coalesce(s.used_svcs, [])) || ' in the window (calls without error): used '
                 || coalesce(array_to_string(s.used_svcs, ', '), 'none') || '; granted but unused '
                 || array_to_string(list_slice(s.unused_svcs, 1, 60), ', ')
                 || case when len(s.unused_svcs) > 60 then ' and ' || (len(s.unused_svcs) - 60) || ' more' else '' end
                 || '; ' || round(100 * s.used_granted / len(s.granted_svcs))::integer || '% of the granted services used'
       end
         || case when c.present and s.catalog_actions is not null
                 then '; with the action catalog: grants ' || s.catalog_actions || ' actions, used ' || coalesce(gu.used_actions, 0) else '' end
         || coalesce('; its permissions boundary ' || bm.permissions_boundary_arn || ' is not in the export, so it is not applied', '')
         || usage_window_note(),
       json_object('authorization_details', json_object('principal_arn', s.principal_arn),
                   'granted_services', case when e.principal_arn is null or c.present then len(s.granted_svcs) end,
                   'used_granted_services', s.used_granted,
                   'share_used', case when e.principal_arn is null or c.present then round(s.used_granted / len(s.granted_svcs), 3) end,
                   'used_services', coalesce(s.used_svcs, []), 'unused_services', coalesce(s.unused_svcs, []),
                   'grants_every_service', e.patterns is not null, 'action_catalog', c.present,
                   'catalog_actions_granted', s.catalog_actions, 'actions_used', coalesce(gu.used_actions, 0)),
       s.first_used, s.last_used, s.calls
from svc s
left join every e using (principal_arn)
left join granted_used gu using (principal_arn)
left join usage_boundary_missing bm using (principal_arn)
cross join catalog c
where not s.no_evidence
  and (len(s.unused_svcs) > 0 or (e.principal_arn is not null and not c.present))
