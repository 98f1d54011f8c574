-- id: unusual_instances_launched
-- title: GPU, very large or many instances launched or attempted
-- severity: high
-- controls: -
-- attack: TA0040/T1496.001, TA0002/T1578.002
-- needs: cloudtrail
-- rationale: Intruders with EC2 rights launch GPU or very large instances, or many at once, to mine or train on the victim's bill, often in a region the account does not use; refused attempts show the intent as well.
-- remediation: Terminate instances nobody asked for, check every region for others, and find whose credentials launched them; limit instance types and regions with a service control policy.
with launches as (
    select e.recipient_account_id as account_id, e.principal_arn, e.event_id, e.event_time, e.aws_region, e.source_ip, e.error_code,
           coalesce(json_extract_string(e.request_parameters, '$.instanceType'),
                    json_extract_string(e.request_parameters, '$.launchTemplate.instanceType'), '') as instance_type,
           coalesce(try_cast(json_extract_string(e.request_parameters, '$.instancesSet.items[0].maxCount') as integer), 1) as max_count
    from events e, params p
    where e.event_source = 'ec2.amazonaws.com' and e.event_name = 'RunInstances' and e.event_time between p.since and p.until
),
judged as (
    select l.*,
           -- accelerated (GPU, inference, training, FPGA) families, bare metal and the largest sizes
           regexp_matches(l.instance_type, '^(p[0-9]|g[0-9]|inf[0-9]|trn[0-9]|dl[0-9]|f[0-9]|vt[0-9]|u-)')
             or regexp_matches(l.instance_type, '\.(metal.*|(24|32|48|56|96|112)xlarge)$') as unusual_type,
           sum(l.max_count) over (partition by l.account_id, l.principal_arn order by l.event_time
                                  range between to_minutes(p.burst_minutes) preceding and current row) >= p.launch_burst as many,
           -- the account's first event in this region came after its baseline
           (select min(x.event_time) from events x where x.recipient_account_id = l.account_id and x.aws_region = l.aws_region)
               >= (select min(x.event_time) from events x where x.recipient_account_id = l.account_id) + to_hours(p.baseline_hours) as new_region
    from launches l, params p
)
select account_id, principal_arn, aws_region,
       sum(max_count) || ' instance(s) requested by ' || coalesce(principal_arn, 'an unknown principal') || ' in ' || aws_region
         || ' (' || string_agg(distinct instance_type, ', ' order by instance_type) || ')'
         || ' in ' || count(*) || ' call(s)'
         || case when count(*) filter (where error_code is not null) > 0
                 then ', ' || count(*) filter (where error_code is not null) || ' refused or failed (' || string_agg(distinct error_code, ', ' order by error_code) || ')' else '' end
         || case when bool_or(new_region) then '; a region new to the account' else '' end
         || ' from ' || string_agg(distinct source_ip, ', ' order by source_ip)
         || baseline_note(any_value(s.first_event), any_value(s.baseline_end), any_value(p.baseline_hours)),
       json_object('event_ids', list(event_id order by event_time, event_id),
                   'baseline', baseline_evidence(any_value(s.first_event), any_value(s.baseline_end), any_value(p.baseline_hours))),
       min(event_time), max(event_time), count(*)
from judged
join account_spans s using (account_id)
cross join params p
where unusual_type or many
group by account_id, principal_arn, aws_region
