-- id: organization_leave_attempt
-- title: Account tried to leave its AWS organization
-- severity: high
-- controls: -
-- attack: TA0005/T1666
-- needs: cloudtrail
-- rationale: An account that leaves its organization escapes the service control policies, the organization trail and the security tooling the management account runs; nobody does it in normal operation, and a refused attempt shows the intent.
-- remediation: If the account left, invite it back and restore the controls; either way find whose credentials made the call and what else they did.
select e.recipient_account_id, e.principal_arn, 'organizations:LeaveOrganization',
       count(*) || ' LeaveOrganization call(s) by ' || coalesce(e.principal_arn, unnamed_actors(list(e.user_name)))
         || case when count(*) filter (where e.error_code is null) > 0 then ', ' || count(*) filter (where e.error_code is null) || ' succeeded' else '' end
         || case when count(*) filter (where e.error_code is not null) > 0
                 then ', ' || count(*) filter (where e.error_code is not null) || ' refused or failed ('
                      || string_agg(distinct e.error_code, ', ' order by e.error_code) || ')' else '' end
         || ' from ' || string_agg(distinct e.source_ip, ', ' order by e.source_ip),
       json_object('event_ids', list(e.event_id order by e.event_time, e.event_id)),
       min(e.event_time), max(e.event_time), count(*)
from events e, params p
where e.event_source = 'organizations.amazonaws.com' and e.event_name = 'LeaveOrganization'
  and e.event_time between p.since and p.until
group by e.recipient_account_id, e.principal_arn
