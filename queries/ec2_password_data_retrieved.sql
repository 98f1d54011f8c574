-- id: ec2_password_data_retrieved
-- title: Windows instance passwords retrieved on several instances, or by a principal new to it
-- severity: high
-- controls: -
-- attack: TA0006/T1552.005, TA0006/T1555
-- needs: cloudtrail
-- rationale: GetPasswordData returns the encrypted Administrator password of a Windows instance; one principal asking for it on several instances within minutes (refused or not), or a principal that never did it in the first baseline hours of the case, is an intruder harvesting local administrator passwords. Principals already doing it in that baseline are routine.
-- remediation: Find whose credentials made the calls; rotate the Administrator passwords of the instances named (instances in the evidence) and remove ec2:GetPasswordData from principals that do not need it.
with calls as (
    select e.recipient_account_id as account_id, e.principal_arn, e.event_id, e.event_time, e.source_ip, e.error_code,
           json_extract_string(e.request_parameters, '$.instanceId') as instance
    from events e, params p
    where e.event_source = 'ec2.amazonaws.com' and e.event_name = 'GetPasswordData' and e.event_time between p.since and p.until
),
marked as (
    select c.*,
           count(distinct c.instance) over (partition by c.account_id, c.principal_arn order by c.event_time
                                            range between current row and to_minutes(p.burst_minutes) following) >= p.instances_burst as opens_burst,
           min(c.event_time) over (partition by c.account_id, c.principal_arn) as principal_first,
           s.first_event, s.long_enough, s.baseline_end
    from calls c
    join account_spans s using (account_id)
    cross join params p
),
judged as (
    select m.*,
           bool_or(m.opens_burst) over (partition by m.account_id, m.principal_arn order by m.event_time
                                        range between to_minutes(p.burst_minutes) preceding and current row) as in_burst,
           m.long_enough and m.principal_first < m.first_event + to_hours(p.baseline_hours) as established,
           m.principal_first >= m.first_event + to_hours(p.baseline_hours) as newcomer
    from marked m, params p
)
select account_id, principal_arn, null,
       count(*) || ' GetPasswordData call(s) by ' || coalesce(principal_arn, 'an unknown principal') || ' on ' || count(distinct instance) || ' instance(s)'
         || case when count(*) filter (where error_code is not null) > 0
                 then ', ' || count(*) filter (where error_code is not null) || ' refused or failed (' || string_agg(distinct error_code, ', ' order by error_code) || ')' else '' end
         || ' from ' || string_agg(distinct source_ip, ', ' order by source_ip)
         || case when bool_or(newcomer) then '; no such call by it in the first ' || max(p.baseline_hours) || ' hours of the case' else '' end
         || baseline_note(min(first_event), min(baseline_end), max(p.baseline_hours)),
       json_object('event_ids', list(event_id order by event_time, event_id), 'instances', list(distinct instance order by instance),
                   'baseline', baseline_evidence(min(first_event), min(baseline_end), max(p.baseline_hours))),
       min(event_time), max(event_time), count(*)
from judged, params p
where (in_burst and not established) or newcomer
group by account_id, principal_arn
