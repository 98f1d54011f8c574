-- id: lambda_changed_by_new_principal
-- title: Lambda function's code or configuration changed by a principal new to it
-- severity: medium
-- controls: -
-- attack: TA0003/T1525, TA0004/T1546
-- needs: cloudtrail
-- rationale: Functions are deployed by the same pipeline again and again; new code, layers, environment or role set by a principal that never created or changed the function before is how an intruder plants code that runs with the function's role. Changes in an account's first baseline hours teach who deploys and are not reported, unless the account's events cover less than that.
-- remediation: Compare the deployed code and configuration with the pipeline's last release; if it is not theirs, redeploy from source, rotate what the function's role can reach, and find whose credentials made the change.
with changes as (
    select e.recipient_account_id as account_id, e.principal_arn, e.event_id, e.event_time, e.event_name, e.source_ip, e.aws_region,
           regexp_extract(coalesce(json_extract_string(e.request_parameters, '$.functionName'), ''), '([^:]+)$', 1) as function_name
    from events e
    where e.event_source = 'lambda.amazonaws.com' and e.error_code is null
      and (e.event_name like 'CreateFunction%' or e.event_name like 'UpdateFunctionCode%' or e.event_name like 'UpdateFunctionConfiguration%')
      and e.event_name not like 'CreateFunctionUrlConfig%'
),
firsts as (
    -- each principal's first change of each function in the case: later ones are routine for it
    select c.*, min(c.event_time) over (partition by c.account_id, c.function_name) as function_first_seen
    from changes c
    qualify row_number() over (partition by c.account_id, c.function_name, c.principal_arn order by c.event_time, c.event_id) = 1
)
select f.account_id, f.principal_arn, 'arn:aws:lambda:' || f.aws_region || ':' || f.account_id || ':function:' || f.function_name,
       'function ' || f.function_name || ' changed (' || f.event_name || ') by ' || coalesce(f.principal_arn, 'an unknown principal')
         || ' from ' || f.source_ip || ', which had not created or changed it in the case before'
         || '; baseline: the account''s events from ' || strftime(s.first_event, '%Y-%m-%d %H:%M') || ' to the change'
         || case when f.event_time - s.first_event < to_hours(p.baseline_hours)
                 then ' (' || greatest(1, date_diff('minute', s.first_event, f.event_time)) || ' minutes, shorter than '
                      || p.baseline_hours || ' hours: too short to judge whether this principal changes it routinely)'
                 else '' end,
       json_object('event_ids', [f.event_id], 'baseline', baseline_evidence(s.first_event, f.event_time, p.baseline_hours)),
       f.event_time, f.event_time, 1
from firsts f
join account_spans s using (account_id)
cross join params p
-- a creation is the function's first change, not a change by a newcomer
where f.event_name not like 'CreateFunction%' and f.event_time between p.since and p.until
  -- the account's first baseline hours teach who deploys; an account with fewer hours than that is judged anyway, and says so
  and not (s.long_enough and f.event_time < s.first_event + to_hours(p.baseline_hours))
