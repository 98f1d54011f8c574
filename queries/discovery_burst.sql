-- id: discovery_burst
-- title: Burst of successful enumeration across services
-- severity: medium
-- controls: -
-- attack: TA0007/T1580, TA0007/T1526, TA0007/T1087.004
-- needs: cloudtrail
-- rationale: Right after getting in, intruders list what the credential can see: users, roles, buckets, instances, secrets, trails, in many services within minutes. Console sessions and AWS services are left out (the console reads widely for every page), and so are credentials that did the same in the first baseline hours of an account long enough to have one (routine inventory tools).
-- remediation: Ask the credential's owner what ran; if nobody knows, treat the credential as stolen and read what it did next.
with reads as (
    select e.recipient_account_id as account_id, e.principal_arn, coalesce(e.access_key_id, e.principal_arn) as credential,
           e.event_id, e.event_time, e.event_source, e.event_name, e.source_ip, burst_span(e.event_time, p.burst_minutes) as span
    from events e, params p
    where e.error_code is null and e.event_time between p.since and p.until and e.principal_arn is not null
      -- prefix checks, cheaper than a regular expression over millions of names; for
      -- these names is_write() is false unless readOnly says false
      and (starts_with(e.event_name, 'List') or starts_with(e.event_name, 'Describe') or starts_with(e.event_name, 'Get'))
      and coalesce(e.read_only, true)
      -- data reads are collection, not enumeration
      and e.event_name not in ('GetObject', 'GetSecretValue', 'GetParameter', 'GetParameters', 'GetParametersByPath', 'GetPasswordData')
      and coalesce(e.identity_type, '') not in ('AWSService', 'AWSAccount')
      and not coalesce(e.session_credential_from_console, false)
      and coalesce(e.user_agent, '') not in ('AWS Internal', 'console.amazonaws.com')
      and coalesce(e.user_agent, '') not like '%Console%'
),
-- Counting distinct calls in a sliding window over every read held 0.4 GiB
-- beyond DuckDB's memory limit at 10M events. A window of burst_minutes
-- from a read lies within its fixed span of burst_minutes and the next, so
-- a burst can only open in a span that, with the next, holds enough
-- distinct calls; the windows run over the reads of those pairs of spans
-- alone (a read there whose own window reaches a third span does not open a
-- burst: that next pair would then qualify and be read too).
spans as (
    select distinct account_id, credential, event_source, event_name, span
    from reads
),
busy_pairs as (
    select s.account_id, s.credential, s.pair
    from (select account_id, credential, event_source, event_name, unnest([span - 1, span]) as pair from spans) s, params p
    group by s.account_id, s.credential, s.pair
    having count(distinct s.event_source || ':' || s.event_name) >= any_value(p.discovery_actions)
       and count(distinct s.event_source) >= any_value(p.discovery_services)
),
-- the spans of the busy pairs, each once, so that the reads are kept by an
-- equality join on the span rather than by comparing each read with every
-- busy pair of its credential
busy_spans as (
    select distinct account_id, credential, unnest([pair, pair + 1]) as span
    from busy_pairs
),
candidates as (
    select r.*
    from reads r
    join busy_spans b on b.account_id = r.account_id and b.credential = r.credential and b.span = r.span
),
counted as (
    select r.*,
           count(distinct r.event_source || ':' || r.event_name) over w >= p.discovery_actions
           and count(distinct r.event_source) over w >= p.discovery_services as opens_burst
    from candidates r, params p
    window w as (partition by r.account_id, r.credential order by r.event_time range between current row and to_minutes(p.burst_minutes) following)
),
marked as (
    select c.*,
           bool_or(c.opens_burst) over (partition by c.account_id, c.credential order by c.event_time
                                        range between to_minutes(p.burst_minutes) preceding and current row) as in_burst
    from counted c, params p
),
bursts as (
    select m.*,
           -- routine: the principal already enumerated like this in its account's baseline
           s.long_enough and min(m.event_time) filter (where m.in_burst) over (partition by m.account_id, m.principal_arn)
               < s.first_event + to_hours(p.baseline_hours) as established,
           s.long_enough, s.first_event, s.baseline_end
    from marked m
    join account_spans s using (account_id)
    cross join params p
    where m.in_burst
)
select account_id, any_value(principal_arn), credential,
       count(distinct event_source || ':' || event_name) || ' different List/Describe/Get calls in ' || count(distinct event_source) || ' services by '
         || any_value(principal_arn) || case when credential <> any_value(principal_arn) then ' with key ' || credential else '' end
         || ' between ' || strftime(min(event_time), '%Y-%m-%d %H:%M:%S') || ' and ' || strftime(max(event_time), '%Y-%m-%d %H:%M:%S')
         || ' from ' || string_agg(distinct source_ip, ', ' order by source_ip)
         || baseline_note(min(first_event), min(baseline_end), max(p.baseline_hours)),
       json_object('event_ids', list(event_id order by event_time, event_id),
                   'services', list(distinct split_part(event_source, '.', 1) order by split_part(event_source, '.', 1)),
                   'baseline', baseline_evidence(min(first_event), min(baseline_end), max(p.baseline_hours))),
       min(event_time), max(event_time), count(*)
from bursts, params p
where not established
group by account_id, credential
