-- id: console_login_outside_trusted_cidrs
-- title: Console sign-in from outside the trusted networks
-- severity: medium
-- controls: -
-- attack: TA0001/T1078.004
-- needs: cloudtrail
-- rationale: When console access is expected only from known networks (--trusted-cidrs), a sign-in from elsewhere is a stolen password or an unmanaged device.
-- remediation: Confirm with the user; enforce aws:SourceIp conditions or Identity Center with device trust.
with e as (
    select e.recipient_account_id as account_id, e.principal_arn, e.user_name, e.event_id, e.event_time, e.source_ip, e.console_login
    from events e, params p
    where p.trusted_cidrs is not null and e.event_name = 'ConsoleLogin' and e.console_login = 'Success'
      and is_ip(e.source_ip) and not in_cidrs(e.source_ip, p.trusted_cidrs)
      and e.event_time between p.since and p.until
)
select account_id, principal_arn, null,
       count(*) || ' console sign-in(s) by ' || coalesce(principal_arn, unnamed_actors(list(user_name))) || ' from outside --trusted-cidrs: '
         || string_agg(distinct source_ip, ', ' order by source_ip),
       json_object('event_ids', list(event_id order by event_time, event_id)),
       min(event_time), max(event_time), count(*)
from e
group by account_id, principal_arn
