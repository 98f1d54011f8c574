-- id: lambda_permission_opened
-- title: Lambda function made invocable by another account or by anyone
-- severity: high
-- controls: -
-- attack: TA0003/T1546, TA0004/T1546
-- needs: cloudtrail
-- rationale: A resource-policy statement (AddPermission) that lets any principal or an account outside the case invoke a function, or a function URL without authentication, gives an outsider a way to run code with the function's role: a quiet backdoor.
-- remediation: Remove the statement (RemovePermission with its statementId) or the URL, check the function's invocations since, and find who added it; accounts the case holds or --trusted-accounts names are not reported.
with grants as (
    select e.recipient_account_id as account_id, e.principal_arn, e.event_id, e.event_time, e.source_ip,
           json_extract_string(e.request_parameters, '$.functionName') as function_name,
           json_extract_string(e.request_parameters, '$.principal') as grantee,
           json_extract_string(e.request_parameters, '$.principalOrgID') as org_id,
           json_extract_string(e.request_parameters, '$.sourceAccount') as source_account,
           coalesce(json_extract_string(e.request_parameters, '$.functionUrlAuthType'), json_extract_string(e.request_parameters, '$.authType')) as auth_type,
           e.event_name
    from events e, params p
    where e.event_source = 'lambda.amazonaws.com' and e.error_code is null and e.event_time between p.since and p.until
      and (e.event_name like 'AddPermission%' or e.event_name like 'CreateFunctionUrlConfig%' or e.event_name like 'UpdateFunctionUrlConfig%')
),
opened as (
    select g.*,
           case when g.event_name not like 'AddPermission%' or (g.grantee = '*' and g.auth_type = 'NONE') then 'anyone, through a function URL without authentication'
                when g.grantee = '*' then 'any principal'
                else 'account ' || principal_account(g.grantee) end as trustee
    from grants g, params p
    where case when g.event_name not like 'AddPermission%' then g.auth_type = 'NONE'
               else g.org_id is null and g.source_account is null
                    and (g.grantee = '*'
                      or (g.grantee not like '%.amazonaws.com' and principal_account(g.grantee) not in (select account_id from case_accounts)
                          and not list_contains(p.trusted_accounts, principal_account(g.grantee)))) end
)
select account_id, principal_arn, function_name,
       'function ' || function_name || ' made invocable by ' || string_agg(distinct trustee, ', ' order by trustee)
         || ' by ' || coalesce(principal_arn, 'an unknown principal') || ' from ' || string_agg(distinct source_ip, ', ' order by source_ip),
       json_object('event_ids', list(distinct event_id order by event_id), 'trustees', list(distinct trustee order by trustee)),
       min(event_time), max(event_time), count(distinct event_id)
from opened
group by account_id, principal_arn, function_name
