-- id: iam_change_from_new_ip
-- title: Root or IAM change from an address new to the caller
-- severity: medium
-- controls: CIS 4.3, CIS 4.4
-- attack: TA0003/T1098
-- needs: cloudtrail
-- rationale: Identity changes (users, keys, policies, roles) from an address the caller never used before are how stolen credentials turn into persistence.
-- remediation: Confirm the changes with the caller's owner; undo those that are not explained and rotate the caller's credentials.
with calls as (
    select e.recipient_account_id as account_id, e.principal_arn, e.identity_type, e.event_id, e.event_time, e.event_name,
           e.event_source, e.source_ip, e.error_code, e.read_only,
           min(e.event_time) over (partition by e.recipient_account_id, e.principal_arn) as principal_first,
           min(e.event_time) over (partition by e.recipient_account_id, e.principal_arn, e.source_ip) as ip_first
    from events e, params p
    where e.principal_arn is not null and is_ip(e.source_ip) and e.event_time between p.since and p.until
),
changes as (
    select c.*
    from calls c, params p
    where c.error_code is null and is_write(c.read_only, c.event_name) and c.event_name <> 'ConsoleLogin'
      and (c.event_source = 'iam.amazonaws.com' or c.identity_type = 'Root')
      and c.ip_first > c.principal_first
      and c.event_time <= c.ip_first + to_hours(p.new_ip_hours)
)
select account_id, principal_arn, source_ip,
       count(*) || ' change(s) by ' || principal_arn || ' from ' || source_ip || ', first used by it '
         || strftime(min(ip_first), '%Y-%m-%d %H:%M:%S') || ': '
         || string_agg(distinct event_name, ', ' order by event_name),
       json_object('event_ids', list(event_id order by event_time, event_id)),
       min(event_time), max(event_time), count(*)
from changes
group by account_id, principal_arn, source_ip
