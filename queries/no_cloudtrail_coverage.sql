-- id: no_cloudtrail_coverage
-- title: Credentials used in the window without any CloudTrail event
-- severity: low
-- controls: -
-- needs: credential_report, authorization_details
-- rationale: When the credential report or RoleLastUsed shows use inside the window but the archive holds no event of the principal, the trail does not record that activity (data events, another trail, an unlogged region); its permissions can be judged neither used nor unused.
-- remediation: Find the trail that records this activity (data events for DynamoDB, S3, Lambda; all regions; organization trail) and add it to the case, or enable it; until then treat the principal's usage as unknown.
with active as (
    select distinct principal_arn from events e cross join params p
    where e.event_time between p.since and p.until and e.principal_arn is not null
),
-- accounts with any event in the window: for the others the evidence lacks
-- their trail altogether, which the detail says instead
logged as (
    select distinct recipient_account_id as account_id from events e cross join params p
    where e.event_time between p.since and p.until
),
seen as (
    -- access keys and passwords used inside the window, from the current credential reports
    select c.account_id, c.arn, c.user_name, c.file_id, c.row_number,
           'access key ' || k.slot || ' last used ' || strftime(k.last_used_date, '%Y-%m-%dT%H:%M:%SZ')
             || coalesce(' in ' || k.last_used_region, '') || coalesce(' (' || k.last_used_service || ')', '') as what,
           k.last_used_date as t
    from access_keys k
    join credential_report c on c.account_id = k.account_id and c.arn = k.arn
    cross join params p
    where k.last_used_date between p.since and p.until
    union all
    select c.account_id, c.arn, c.user_name, c.file_id, c.row_number,
           'password last used ' || strftime(c.password_last_used, '%Y-%m-%dT%H:%M:%SZ'), c.password_last_used
    from credential_report c cross join params p
    where c.password_last_used between p.since and p.until
)
select s.account_id, s.arn, null,
       'the credential report shows ' || string_agg(s.what, '; ' order by s.what) || ', inside the CloudTrail window, yet the archive holds no event of '
         || s.user_name || ': ' || case when s.account_id in (select account_id from logged)
              then 'the trail does not record this activity (data events, another trail or region)'
              else 'the case holds no CloudTrail of account ' || s.account_id || ' in the window' end
         || ', so its permissions are reported as no evidence, not as unused',
       json_object('credential_report', json_object('file_id', any_value(s.file_id), 'row', any_value(s.row_number), 'user', s.user_name)),
       min(s.t), max(s.t), null
from seen s
where s.user_name <> '<root_account>' and s.arn not in (select principal_arn from active)
group by s.account_id, s.arn, s.user_name
union all
select r.account_id, r.arn, null,
       r.role_name || '''s RoleLastUsed is ' || strftime(r.role_last_used, '%Y-%m-%dT%H:%M:%SZ') || coalesce(' in ' || r.role_last_used_region, '')
         || ', inside the CloudTrail window, yet the archive holds no session of the role: '
         || case when r.account_id in (select account_id from logged) then 'the trail does not record this activity'
                 else 'the case holds no CloudTrail of account ' || r.account_id || ' in the window' end
         || ', so its permissions are reported as no evidence, not as unused',
       json_object('authorization_details', json_object('role_arn', r.arn, 'file_id', r.file_id, 'role_last_used', r.role_last_used)),
       r.role_last_used, r.role_last_used, null
from iam_roles r cross join params p
where r.role_last_used between p.since and p.until and r.arn not in (select principal_arn from active)
