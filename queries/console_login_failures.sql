-- id: console_login_failures
-- title: Burst of failed console sign-ins with no success
-- severity: medium
-- controls: CIS 4.6
-- attack: TA0006/T1110
-- needs: cloudtrail
-- rationale: Many failed console sign-ins from one address within minutes is password guessing or spraying; it has not worked (yet), but the targeted user names are worth protecting.
-- remediation: Make sure the targeted users have MFA; block the address if it keeps trying.
with logins as (
    select e.recipient_account_id as account_id, e.principal_arn, e.user_name, e.event_id, e.event_time, e.source_ip,
           e.console_login = 'Success' as ok
    from events e, params p
    where e.event_name = 'ConsoleLogin' and e.event_time between p.since and p.until
),
windowed as (
    select l.*,
           count(*) filter (where not l.ok) over (partition by l.account_id, l.source_ip order by l.event_time
                 range between current row and to_minutes(p.burst_minutes) following) as failures_ahead
    from logins l, params p
),
bursts as (
    select account_id, source_ip
    from windowed w, params p
    where not w.ok
    group by account_id, source_ip
    having max(failures_ahead) >= any_value(p.brute_force_failures)
)
select l.account_id, null, l.source_ip,
       count(*) || ' failed console sign-ins from ' || l.source_ip || ' between ' || strftime(min(l.event_time), '%Y-%m-%d %H:%M:%S')
         || ' and ' || strftime(max(l.event_time), '%Y-%m-%d %H:%M:%S') || ', none successful; user names: '
         || string_agg(distinct coalesce(l.user_name, '(none)'), ', ' order by coalesce(l.user_name, '(none)')),
       json_object('event_ids', list(l.event_id order by l.event_time, l.event_id)),
       min(l.event_time), max(l.event_time), count(*)
from logins l
join bursts b using (account_id, source_ip)
where not l.ok
  and not exists (select 1 from logins s where s.ok and s.account_id = l.account_id and s.source_ip = l.source_ip)
group by l.account_id, l.source_ip
