-- id: security_group_admin_port_open
-- title: Security group opens an administration or database port to the internet
-- severity: critical
-- controls: -
-- attack: TA0005/T1562.007, TA0010/T1048
-- needs: cloudtrail
-- rationale: Ingress from 0.0.0.0/0 or ::/0 to SSH, RDP, a database or all traffic exposes the hosts behind the group to every scanner on the internet; attackers open it to reach an instance or database directly.
-- remediation: Revoke the rule (RevokeSecurityGroupIngress), find who added it, and check the instances behind the group for logins since; reach hosts through Session Manager or a VPN instead.
with admin_ports (port, service) as (
    values (22, 'SSH'), (23, 'Telnet'), (135, 'RPC'), (445, 'SMB'), (1433, 'SQL Server'), (1521, 'Oracle'), (2375, 'Docker'),
           (2376, 'Docker'), (3306, 'MySQL'), (3389, 'RDP'), (5432, 'PostgreSQL'), (5439, 'Redshift'), (5900, 'VNC'),
           (5984, 'CouchDB'), (6379, 'Redis'), (9200, 'Elasticsearch'), (11211, 'Memcached'), (27017, 'MongoDB')
),
hits as (
    select o.event_id, o.event_time, o.account_id, o.principal_arn, o.user_name, o.source_ip, o.security_group, o.cidr,
           case when o.all_ports then 'all traffic' else a.service || ' (' || a.port || ')' end as exposed
    from security_group_openings o
    left join admin_ports a on not o.all_ports and o.protocol in ('tcp', 'udp', '6', '17') and a.port between o.from_port and o.to_port
    cross join params p
    where o.event_time between p.since and p.until and (o.all_ports or a.port is not null)
)
select account_id, principal_arn, security_group,
       'security group ' || security_group || ' opened ' || string_agg(distinct exposed, ', ' order by exposed)
         || ' to ' || string_agg(distinct cidr, ', ' order by cidr) || ' by ' || coalesce(principal_arn, unnamed_actors(list(user_name)))
         || ' from ' || string_agg(distinct source_ip, ', ' order by source_ip),
       json_object('event_ids', list(distinct event_id order by event_id)),
       min(event_time), max(event_time), count(distinct event_id)
from hits
group by account_id, principal_arn, security_group
