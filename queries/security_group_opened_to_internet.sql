-- id: security_group_opened_to_internet
-- title: Security group opens a port to the internet
-- severity: medium
-- controls: -
-- attack: TA0005/T1562.007
-- needs: cloudtrail
-- rationale: Ingress from 0.0.0.0/0 or ::/0 on a port other than web (80, 443) exposes a service nobody meant to publish; administration and database ports are reported by security_group_admin_port_open.
-- remediation: Confirm the service is meant to be public; otherwise revoke the rule and limit it to the addresses that need it.
with admin_ports (port) as (
    values (22), (23), (135), (445), (1433), (1521), (2375), (2376), (3306), (3389), (5432), (5439), (5900), (5984), (6379), (9200), (11211), (27017)
),
open as (
    select o.event_id, o.event_time, o.account_id, o.principal_arn, o.user_name, o.source_ip, o.security_group, o.cidr, o.protocol,
           o.protocol || ' ' || o.from_port || case when o.to_port <> o.from_port then '-' || o.to_port else '' end as ports
    from security_group_openings o, params p
    where o.event_time between p.since and p.until and not o.all_ports
      and not exists (select 1 from admin_ports a where o.protocol in ('tcp', 'udp', '6', '17') and a.port between o.from_port and o.to_port)
      -- web ports are published on purpose every day
      and not (o.from_port in (80, 443) and o.to_port = o.from_port)
)
select account_id, principal_arn, security_group,
       'security group ' || security_group || ' opened ' || string_agg(distinct ports, ', ' order by ports)
         || ' to ' || string_agg(distinct cidr, ', ' order by cidr) || ' by ' || coalesce(principal_arn, unnamed_actors(list(user_name)))
         || ' from ' || string_agg(distinct source_ip, ', ' order by source_ip),
       json_object('event_ids', list(distinct event_id order by event_id)),
       min(event_time), max(event_time), count(distinct event_id)
from open
group by account_id, principal_arn, security_group
