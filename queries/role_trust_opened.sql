-- id: role_trust_opened
-- title: Role trust policy changed to trust another account, everyone or a new identity provider
-- severity: high
-- controls: -
-- attack: TA0003/T1098.003, TA0004/T1098.003
-- needs: cloudtrail
-- rationale: Rewriting a role's trust policy (UpdateAssumeRolePolicy) to let an account outside the case, any principal, or an identity provider created in the case assume it is a backdoor that survives key rotation and user deletion.
-- remediation: Restore the previous trust policy, look for AssumeRole calls on the role from the new principal, and find who made the change; accounts the case holds or --trusted-accounts names are not reported.
with updates as (
    select e.recipient_account_id as account_id, e.principal_arn, e.event_id, e.event_time, e.source_ip,
           json_extract_string(e.request_parameters, '$.roleName') as role_name,
           json_doc(json_extract(e.request_parameters, '$.policyDocument')) as doc
    from events e, params p
    where e.event_source = 'iam.amazonaws.com' and e.event_name = 'UpdateAssumeRolePolicy' and e.error_code is null
      and e.event_time between p.since and p.until
),
grants as (
    select u.account_id, u.principal_arn, u.event_id, u.event_time, u.source_ip, u.role_name, st.stmt, pr.principal
    from updates u
    cross join unnest(json_items(json_extract(u.doc, '$.Statement'))) as st(stmt)
    cross join unnest(statement_principals(json_extract(st.stmt, '$.Principal'))) as pr(principal)
    where json_extract_string(st.stmt, '$.Effect') = 'Allow'
),
new_providers as (
    select coalesce(json_extract_string(e.response_elements, '$.sAMLProviderArn'),
                    json_extract_string(e.response_elements, '$.openIDConnectProviderArn')) as provider, e.event_id
    from events e
    -- list_contains, unlike in (...), is tested inside the scan of events, so the parameters of other IAM calls are never read
    where e.event_source = 'iam.amazonaws.com' and list_contains(['CreateSAMLProvider', 'CreateOpenIDConnectProvider'], e.event_name) and e.error_code is null
),
opened as (
    select g.account_id, g.principal_arn, g.event_id, g.event_time, g.source_ip, g.role_name, null as provider_event_id,
           case when g.principal = 'AWS:*' then 'everyone (Principal *)' else 'account ' || principal_account(substr(g.principal, 5)) end as trustee
    from grants g, params p
    where g.principal like 'AWS:%'
      and (g.principal = 'AWS:*'
        or (principal_account(substr(g.principal, 5)) not in (select account_id from case_accounts)
            and not list_contains(p.trusted_accounts, principal_account(substr(g.principal, 5)))))
    union all
    select g.account_id, g.principal_arn, g.event_id, g.event_time, g.source_ip, g.role_name, n.event_id,
           'identity provider ' || n.provider || ' created in the case'
    from grants g
    join new_providers n on g.principal = 'Federated:' || n.provider
)
select account_id, principal_arn, 'arn:aws:iam::' || account_id || ':role/' || role_name,
       'trust policy of role ' || role_name || ' changed to trust ' || string_agg(distinct trustee, ', ' order by trustee)
         || ' by ' || coalesce(principal_arn, 'an unknown principal') || ' from ' || string_agg(distinct source_ip, ', ' order by source_ip),
       json_object('event_ids', list(distinct event_id order by event_id), 'trustees', list(distinct trustee order by trustee),
                   'provider_event_ids', coalesce(list(distinct provider_event_id order by provider_event_id) filter (where provider_event_id is not null), [])),
       min(event_time), max(event_time), count(distinct event_id)
from opened
group by account_id, principal_arn, role_name
