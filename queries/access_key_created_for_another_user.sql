-- id: access_key_created_for_another_user
-- title: Access key created for another user
-- severity: high
-- controls: CIS 4.4
-- attack: TA0003/T1098.001
-- needs: cloudtrail
-- rationale: Creating a key for someone else gives the caller a second identity to act as; it is the classic persistence step after a credential is stolen.
-- remediation: Confirm the change with both users; if unexplained, deactivate the new key and investigate the caller's credentials.
with e as (
    select e.recipient_account_id as account_id, e.principal_arn, e.user_name, e.event_id, e.event_time, e.source_ip, e.access_key_id,
           json_extract_string(e.request_parameters, '$.userName') as target,
           json_extract_string(e.response_elements, '$.accessKey.accessKeyId') as new_key
    from events e, params p
    where e.event_source = 'iam.amazonaws.com' and e.event_name = 'CreateAccessKey' and e.error_code is null
      and e.event_time between p.since and p.until
      and json_extract_string(e.request_parameters, '$.userName') is not null
      and json_extract_string(e.request_parameters, '$.userName') <> coalesce(case when e.identity_type = 'IAMUser' then e.user_name end, '')
),
used as (
    select u.access_key_id, list(u.event_id order by u.event_time, u.event_id) as ids
    from events u
    where u.access_key_id in (select new_key from e)
    group by u.access_key_id
)
select e.account_id, e.principal_arn, coalesce(any_value(t.arn), 'arn:aws:iam::' || e.account_id || ':user/' || e.target),
       count(*) || ' access key(s) created for ' || e.target || ' (' || coalesce(string_agg(distinct e.new_key, ', ' order by e.new_key), 'key id not logged')
         || ') by ' || coalesce(e.principal_arn, unnamed_actors(list(e.user_name))) || ' from ' || string_agg(distinct e.source_ip, ', ' order by e.source_ip)
         || coalesce(' with key ' || string_agg(distinct e.access_key_id, ', ' order by e.access_key_id), ''),
       json_object('event_ids', list(distinct e.event_id order by e.event_id), 'caller_access_key_ids', list(distinct e.access_key_id order by e.access_key_id),
                   'new_access_key_ids', list(distinct e.new_key order by e.new_key),
                   'new_key_event_ids', flatten(list(distinct u.ids))),
       min(e.event_time), max(e.event_time), count(distinct e.event_id)
from e
left join iam_users t on t.account_id = e.account_id and t.user_name = e.target
left join used u on u.access_key_id = e.new_key
group by e.account_id, e.principal_arn, e.target
