-- id: console_brute_force
-- title: Console brute force followed by a successful sign-in
-- severity: high..critical
-- controls: CIS 4.6
-- attack: TA0006/T1110, TA0001/T1078.004
-- needs: cloudtrail
-- rationale: Many failed console sign-ins from one address and then a success from the same address means a password was guessed or sprayed, and it worked; critical when the sign-in needed no MFA, so the password alone opened the account.
-- remediation: Reset the user's password, require MFA, end their sessions, and review what the session did (session_event_ids in the evidence).
with logins as (
    select e.recipient_account_id as account_id, e.principal_arn, e.user_name, e.event_id, e.event_time, e.source_ip, e.user_agent,
           e.console_login = 'Success' as ok, coalesce(e.mfa_used, false) as mfa
    from events e, params p
    where e.event_name = 'ConsoleLogin' and e.event_time between p.since and p.until
),
windowed as (
    -- for each sign-in, the failures from the same address in the burst window before it
    select l.*,
           list(l.event_id order by l.event_time, l.event_id) filter (where not l.ok)
               over (partition by l.account_id, l.source_ip order by l.event_time
                     range between to_minutes(p.burst_minutes) preceding and current row) as failures,
           list(l.event_time order by l.event_time) filter (where not l.ok)
               over (partition by l.account_id, l.source_ip order by l.event_time
                     range between to_minutes(p.burst_minutes) preceding and current row) as failure_times,
           list(distinct coalesce(l.user_name, '')) filter (where not l.ok)
               over (partition by l.account_id, l.source_ip order by l.event_time
                     range between to_minutes(p.burst_minutes) preceding and current row) as names
    from logins l, params p
),
success as (
    -- the first success from each address after a burst of failures
    select w.account_id, w.source_ip, w.principal_arn, w.event_id, w.event_time, w.mfa, w.failures,
           len(w.failures) as n_failures, list_min(w.failure_times) as first_failure, len(w.names) as names
    from windowed w, params p
    where w.ok and len(w.failures) >= p.brute_force_failures
    qualify row_number() over (partition by w.account_id, w.source_ip, w.principal_arn order by w.event_time, w.event_id) = 1
),
session as (
    select s.event_id as login_id, list(e.event_id order by e.event_time, e.event_id) as ids, count(*) as n
    from success s
    join events e on e.recipient_account_id = s.account_id and e.principal_arn = s.principal_arn and e.source_ip = s.source_ip
         and e.event_name <> 'ConsoleLogin' and e.event_time > s.event_time
    cross join params p
    where e.event_time <= s.event_time + to_hours(p.session_hours)
    group by s.event_id
)
select s.account_id, s.principal_arn, s.source_ip,
       s.n_failures || ' failed console sign-ins from ' || s.source_ip || ' within ' || date_diff('minute', s.first_failure, s.event_time) + 1
         || ' minutes (' || s.names || ' user name(s)), then a successful sign-in as ' || coalesce(s.principal_arn, 'an unknown user')
         || case when s.mfa then ' with MFA' else ' without MFA' end
         || coalesce('; the session then made ' || x.n || ' call(s) from the same address', ''),
       json_object('event_ids', list_append(s.failures, s.event_id), 'mfa', s.mfa, 'session_event_ids', coalesce(x.ids, [])),
       s.first_failure, s.event_time, s.n_failures + 1,
       case when s.mfa then 'high' else 'critical' end
from success s
left join session x on x.login_id = s.event_id
