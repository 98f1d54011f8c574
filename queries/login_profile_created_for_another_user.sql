-- id: login_profile_created_for_another_user
-- title: Console password set for another user
-- severity: high
-- controls: CIS 4.4
-- attack: TA0003/T1098.001
-- needs: cloudtrail
-- rationale: Giving another user a console password (CreateLoginProfile) or resetting theirs (UpdateLoginProfile) lets the caller sign in as that user.
-- remediation: Confirm the change with the user and their manager; if unexplained, remove the login profile and investigate the caller.
with e as (
    select e.recipient_account_id as account_id, e.principal_arn, e.user_name, e.event_id, e.event_time, e.event_name, e.source_ip, e.access_key_id,
           json_extract_string(e.request_parameters, '$.userName') as target
    from events e, params p
    -- list_contains, unlike in (...), is tested inside the scan of events, so the parameters of other IAM calls are never read
    where e.event_source = 'iam.amazonaws.com' and list_contains(['CreateLoginProfile', 'UpdateLoginProfile'], e.event_name) and e.error_code is null
      and e.event_time between p.since and p.until
      and json_extract_string(e.request_parameters, '$.userName') is not null
      and json_extract_string(e.request_parameters, '$.userName') <> coalesce(case when e.identity_type = 'IAMUser' then e.user_name end, '')
)
select e.account_id, e.principal_arn, coalesce(any_value(t.arn), 'arn:aws:iam::' || e.account_id || ':user/' || e.target),
       string_agg(distinct e.event_name, ' and ' order by e.event_name) || ' for ' || e.target || ' by '
         || coalesce(e.principal_arn, unnamed_actors(list(e.user_name))) || ' from ' || string_agg(distinct e.source_ip, ', ' order by e.source_ip)
         || coalesce(' with key ' || string_agg(distinct e.access_key_id, ', ' order by e.access_key_id), ''),
       json_object('event_ids', list(e.event_id order by e.event_time, e.event_id), 'caller_access_key_ids', list(distinct e.access_key_id order by e.access_key_id)),
       min(e.event_time), max(e.event_time), count(*)
from e
left join iam_users t on t.account_id = e.account_id and t.user_name = e.target
group by e.account_id, e.principal_arn, e.target
