-- id: access_denied_burst
-- title: Burst of refused calls by one credential (reconnaissance)
-- severity: high
-- controls: CIS 4.1
-- attack: TA0007/T1580, TA0007/T1087.004
-- needs: cloudtrail
-- rationale: Many AccessDenied answers within minutes from one credential is someone mapping what a credential can do, typically with a stolen key.
-- remediation: Identify the credential's owner and whether they made these calls; if not, deactivate the key and investigate where it leaked.
with denied as (
    select e.recipient_account_id as account_id, e.principal_arn, coalesce(e.access_key_id, e.principal_arn) as credential,
           e.event_id, e.event_time, e.event_source, e.event_name, e.source_ip
    from events e, params p
    where is_denied(e.error_code) and e.principal_arn is not null
      and e.event_time between p.since and p.until
),
counted as (
    -- refused calls of the same credential in the window that each refused call opens
    select d.*,
           count(*) over (partition by d.account_id, d.credential order by d.event_time
                          range between current row and to_minutes(p.burst_minutes) following) >= p.denied_burst as opens_burst
    from denied d, params p
),
burst as (
    -- calls inside a window opened by a call that starts a burst
    select c.*
    from (
        select c.*,
               bool_or(c.opens_burst) over (partition by c.account_id, c.credential order by c.event_time
                                            range between to_minutes(p.burst_minutes) preceding and current row) as in_burst
        from counted c, params p
    ) c
    where c.in_burst
)
select account_id, any_value(principal_arn), credential,
       count(*) || ' refused calls by ' || any_value(principal_arn)
         || case when credential <> any_value(principal_arn) then ' with key ' || credential else '' end
         || ' between ' || strftime(min(event_time), '%Y-%m-%d %H:%M:%S') || ' and ' || strftime(max(event_time), '%Y-%m-%d %H:%M:%S')
         || ' across ' || count(distinct event_source) || ' service(s) from ' || string_agg(distinct source_ip, ', ' order by source_ip)
         || ': ' || string_agg(distinct split_part(event_source, '.', 1) || ':' || event_name, ', ' order by split_part(event_source, '.', 1) || ':' || event_name),
       json_object('event_ids', list(event_id order by event_time, event_id)),
       min(event_time), max(event_time), count(*)
from burst
group by account_id, credential
