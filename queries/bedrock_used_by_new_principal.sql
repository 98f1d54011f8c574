-- id: bedrock_used_by_new_principal
-- title: Bedrock model access enabled, or models invoked by a principal new to Bedrock
-- severity: high
-- controls: -
-- attack: TA0040/T1496.004
-- needs: cloudtrail
-- rationale: Stolen credentials are sold for LLM access ("LLMjacking"): the buyer enables model access (use-case form, model agreements) and invokes models on the victim's bill. Enabling access is a rare administrative act; invocations by a principal that never used Bedrock in the case's first baseline hours are new.
-- remediation: Confirm with the model's owners; if unexpected, revoke the model agreements, deny bedrock:* to the principal and rotate its credentials; check invocation logging for what was asked.
with calls as (
    select e.recipient_account_id as account_id, e.principal_arn, e.event_id, e.event_time, e.event_name, e.source_ip, e.aws_region,
           e.event_name in ('PutUseCaseForModelAccess', 'CreateFoundationModelAgreement', 'PutFoundationModelEntitlement') as enables,
           e.event_name in ('InvokeModel', 'InvokeModelWithResponseStream', 'Converse', 'ConverseStream') as invokes,
           json_extract_string(e.request_parameters, '$.modelId') as model
    from events e, params p
    where e.event_source = 'bedrock.amazonaws.com' and e.error_code is null and e.event_time between p.since and p.until
),
principals as (
    select c.account_id, c.principal_arn,
           bool_or(c.enables) as enabled,
           -- the first Bedrock call of the principal anywhere in the case, against the case's start
           (select min(x.event_time) from events x where x.event_source = 'bedrock.amazonaws.com' and x.principal_arn = c.principal_arn)
               >= any_value(s.first_event) + to_hours(any_value(p.baseline_hours)) as newcomer
    from calls c
    join account_spans s using (account_id)
    cross join params p
    group by c.account_id, c.principal_arn
)
select c.account_id, c.principal_arn, null,
       coalesce(c.principal_arn, 'an unknown principal')
         || case when bool_or(c.enables) then ' enabled model access (' || string_agg(distinct c.event_name, ', ' order by c.event_name) filter (where c.enables) || ')' else '' end
         || case when bool_or(c.enables) and bool_or(c.invokes) then ' and' else '' end
         || case when bool_or(c.invokes) then ' invoked ' || count(*) filter (where c.invokes) || ' time(s) '
                 || coalesce(string_agg(distinct c.model, ', ' order by c.model) filter (where c.invokes), 'a model') else '' end
         || ' in ' || string_agg(distinct c.aws_region, ', ' order by c.aws_region) || ' from ' || string_agg(distinct c.source_ip, ', ' order by c.source_ip)
         || case when any_value(pr.newcomer) then '; no Bedrock use by it in the first ' || any_value(p.baseline_hours) || ' hours of the case' else '' end
         || baseline_note(any_value(s.first_event), any_value(s.baseline_end), any_value(p.baseline_hours)),
       json_object('event_ids', list(c.event_id order by c.event_time, c.event_id) filter (where c.enables or c.invokes),
                   'baseline', baseline_evidence(any_value(s.first_event), any_value(s.baseline_end), any_value(p.baseline_hours))),
       min(c.event_time) filter (where c.enables or c.invokes), max(c.event_time) filter (where c.enables or c.invokes),
       count(*) filter (where c.enables or c.invokes)
from calls c
join principals pr on pr.account_id = c.account_id and pr.principal_arn is not distinct from c.principal_arn
join account_spans s on s.account_id = c.account_id
cross join params p
where pr.enabled or pr.newcomer
group by c.account_id, c.principal_arn
having count(*) filter (where c.enables or c.invokes) > 0
