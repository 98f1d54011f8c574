-- id: iam_change_outside_trusted_cidrs
-- title: IAM change from outside the trusted networks
-- severity: medium
-- controls: CIS 4.4
-- attack: TA0003/T1098
-- needs: cloudtrail
-- rationale: When administration is expected only from known networks (--trusted-cidrs), an IAM change from elsewhere is a stolen credential or an unmanaged machine.
-- remediation: Confirm the changes with the caller's owner; restrict IAM administration with aws:SourceIp conditions.
with e as (
    select e.recipient_account_id as account_id, e.principal_arn, e.user_name, e.event_id, e.event_time, e.event_name, e.source_ip
    from events e, params p
    where p.trusted_cidrs is not null and e.event_source = 'iam.amazonaws.com' and e.error_code is null
      and is_write(e.read_only, e.event_name)
      and is_ip(e.source_ip) and not in_cidrs(e.source_ip, p.trusted_cidrs)
      and e.event_time between p.since and p.until
)
select account_id, principal_arn, null,
       count(*) || ' IAM change(s) by ' || coalesce(principal_arn, unnamed_actors(list(user_name))) || ' from outside --trusted-cidrs ('
         || string_agg(distinct source_ip, ', ' order by source_ip) || '): ' || string_agg(distinct event_name, ', ' order by event_name),
       json_object('event_ids', list(event_id order by event_time, event_id)),
       min(event_time), max(event_time), count(*)
from e
group by account_id, principal_arn
