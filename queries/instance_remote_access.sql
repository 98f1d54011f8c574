-- id: instance_remote_access
-- title: Commands or sessions on several instances, or by a principal new to it
-- severity: medium
-- controls: -
-- attack: TA0002/T1651, TA0008/T1021.007
-- needs: cloudtrail
-- rationale: SSM SendCommand and StartSession, and EC2 Instance Connect or serial-console keys, run code or open a shell on instances with their roles; one principal reaching several instances within minutes, or a principal that never did it before in the case, is how intruders spread and steal instance credentials. Principals already doing it in the first baseline hours of a case are routine and not reported.
-- remediation: Read the commands (SSM command history, session logs) and confirm the principal was meant to run them; if not, end its sessions and rotate the credentials of the instances it reached.
with calls as (
    select e.recipient_account_id as account_id, e.principal_arn, e.event_id, e.event_time, e.event_name, e.source_ip, e.error_code,
           t.instance
    from events e
    cross join params p
    cross join unnest(case
        when e.event_name = 'SendCommand' then coalesce(nullif(json_extract_string(e.request_parameters, '$.instanceIds[*]'), []),
                                                        ['targets ' || coalesce(json_extract(e.request_parameters, '$.targets')::varchar, '?')])
        when e.event_name = 'StartSession' then [json_extract_string(e.request_parameters, '$.target')]
        else [json_extract_string(e.request_parameters, '$.instanceId')]
    end) as t(instance)
    where e.event_time between p.since and p.until
      -- implied by the pairs below: a test of one column that DuckDB hands to the scan (an in-list it
      -- does not), which then reads the JSON of these calls alone instead of every event's
      and list_contains(['SendCommand', 'StartSession', 'SendSSHPublicKey', 'SendSerialConsoleSSHPublicKey'], e.event_name)
      and ((e.event_source = 'ssm.amazonaws.com' and e.event_name in ('SendCommand', 'StartSession'))
        or (e.event_source = 'ec2-instance-connect.amazonaws.com' and e.event_name in ('SendSSHPublicKey', 'SendSerialConsoleSSHPublicKey')))
),
counted as (
    select c.*,
           count(distinct c.instance) over (partition by c.account_id, c.principal_arn order by c.event_time
                                            range between current row and to_minutes(p.burst_minutes) following) >= p.instances_burst as opens_burst
    from calls c, params p
),
marked as (
    select c.*,
           bool_or(c.opens_burst) over (partition by c.account_id, c.principal_arn order by c.event_time
                                        range between to_minutes(p.burst_minutes) preceding and current row) as in_burst,
           -- a principal's first such call after the baseline: the case holds at least baseline_hours before it
           c.event_time = min(c.event_time) over (partition by c.account_id, c.principal_arn)
               and c.event_time >= s.first_event + to_hours(p.baseline_hours) as first_after_baseline
    from counted c
    join account_spans s using (account_id)
    cross join params p
),
reported as (
    -- established: the principal did it in the baseline of a case long enough to have one; its bursts are routine
    select m.*,
           bool_or(m.first_after_baseline) over (partition by m.account_id, m.principal_arn) as newcomer,
           s.long_enough and min(m.event_time) over (partition by m.account_id, m.principal_arn) < s.first_event + to_hours(p.baseline_hours) as established,
           s.long_enough, s.first_event, s.baseline_end
    from marked m
    join account_spans s using (account_id)
    cross join params p
)
select account_id, principal_arn, null,
       count(distinct instance) || ' instance(s) reached by ' || coalesce(principal_arn, 'an unknown principal') || ' with '
         || string_agg(distinct event_name, ', ' order by event_name)
         || ' between ' || strftime(min(event_time), '%Y-%m-%d %H:%M:%S') || ' and ' || strftime(max(event_time), '%Y-%m-%d %H:%M:%S')
         || ' from ' || string_agg(distinct source_ip, ', ' order by source_ip)
         || case when count(distinct event_id) filter (where error_code is not null) > 0
                 then ', ' || count(distinct event_id) filter (where error_code is not null) || ' of the calls failed' else '' end
         || case when bool_or(in_burst) then '; ' || max(p.instances_burst) || ' or more instances within ' || max(p.burst_minutes) || ' minutes' else '' end
         || case when bool_or(newcomer) then '; the principal made no such call in the ' || max(p.baseline_hours) || ' or more hours of the case before' else '' end
         || baseline_note(min(first_event), min(baseline_end), max(p.baseline_hours)),
       json_object('event_ids', list(distinct event_id order by event_id), 'instances', list(distinct instance order by instance),
                   'baseline', baseline_evidence(min(first_event), min(baseline_end), max(p.baseline_hours))),
       min(event_time), max(event_time), count(distinct event_id)
from reported, params p
where (in_burst and not established) or (newcomer and first_after_baseline)
group by account_id, principal_arn
