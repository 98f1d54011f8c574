-- id: new_user_given_admin
-- title: New IAM user created and given administrator rights by someone else
-- severity: high
-- controls: CIS 1.16, IAM.2
-- attack: TA0003/T1136.003, TA0003/T1098.003
-- needs: cloudtrail
-- rationale: Creating a user and attaching AdministratorAccess or IAMFullAccess (or an inline policy allowing everything) to it directly builds a second, all-powerful identity that survives the loss of the first; new staff get rights through groups and roles, not like this.
-- remediation: Delete the user's keys and password, detach the policies, and find who created it and what the new user did with the keys named in the evidence (new_access_key_ids).
with created as (
    select e.recipient_account_id as account_id, e.principal_arn, e.event_id, e.event_time, e.source_ip,
           json_extract_string(e.request_parameters, '$.userName') as user_name
    from events e, params p
    where e.event_source = 'iam.amazonaws.com' and e.event_name = 'CreateUser' and e.error_code is null
      and e.event_time between p.since and p.until
),
admin_grants as (
    select e.recipient_account_id as account_id, e.principal_arn, e.event_id, e.event_time,
           json_extract_string(e.request_parameters, '$.userName') as user_name,
           coalesce(json_extract_string(e.request_parameters, '$.policyArn'), 'inline ' || json_extract_string(e.request_parameters, '$.policyName')) as policy
    from events e
    -- list_contains, unlike in (...), is tested inside the scan of events, so the parameters of other IAM calls are never read
    where e.event_source = 'iam.amazonaws.com' and e.error_code is null and list_contains(['AttachUserPolicy', 'PutUserPolicy'], e.event_name)
      and ((e.event_name = 'AttachUserPolicy'
            and regexp_matches(json_extract_string(e.request_parameters, '$.policyArn'), ':policy/(AdministratorAccess|IAMFullAccess)$'))
        or (e.event_name = 'PutUserPolicy'
            and len(list_filter(json_items(json_extract(json_doc(json_extract(e.request_parameters, '$.policyDocument')), '$.Statement')),
                    lambda s: grants_all(json_extract_string(s, '$.Effect'), json_strings(json_extract(s, '$.Action')), json_strings(json_extract(s, '$.Resource'))))) > 0))
),
credentials as (
    select e.recipient_account_id as account_id, e.event_id, json_extract_string(e.request_parameters, '$.userName') as user_name,
           json_extract_string(e.response_elements, '$.accessKey.accessKeyId') as new_key
    from events e
    where e.event_source = 'iam.amazonaws.com' and list_contains(['CreateAccessKey', 'CreateLoginProfile'], e.event_name) and e.error_code is null
)
select c.account_id, c.principal_arn, 'arn:aws:iam::' || c.account_id || ':user/' || c.user_name,
       'user ' || c.user_name || ' created by ' || coalesce(c.principal_arn, 'an unknown principal') || ' from ' || c.source_ip
         || ' and given ' || string_agg(distinct g.policy, ', ' order by g.policy)
         || ' by ' || string_agg(distinct coalesce(g.principal_arn, 'an unknown principal'), ', ' order by coalesce(g.principal_arn, 'an unknown principal'))
         || case when count(k.event_id) > 0 then '; ' || count(distinct k.event_id) || ' access key(s) or password created for it' else '' end,
       json_object('event_ids', list_sort(list_distinct(list_concat([any_value(c.event_id)], list(g.event_id), coalesce(list(k.event_id) filter (where k.event_id is not null), [])))),
                   'new_access_key_ids', coalesce(list(distinct k.new_key order by k.new_key) filter (where k.new_key is not null), [])),
       min(c.event_time), max(g.event_time), 1 + count(distinct g.event_id) + count(distinct k.event_id)
from created c
join admin_grants g on g.account_id = c.account_id and g.user_name = c.user_name and g.event_time >= c.event_time
left join credentials k on k.account_id = c.account_id and k.user_name = c.user_name
-- someone else: not the new user acting on itself
where coalesce(g.principal_arn, '') <> 'arn:aws:iam::' || c.account_id || ':user/' || c.user_name
group by c.account_id, c.principal_arn, c.user_name, c.source_ip
