-- id: secrets_bulk_read
-- title: Many secrets read within minutes
-- severity: high
-- controls: -
-- attack: TA0006/T1555.006
-- needs: cloudtrail
-- rationale: An application reads the few secrets it needs, again and again; one credential reading many different secrets (Secrets Manager values, SecureString parameters with decryption) within minutes, or pulling them by filter with BatchGetSecretValue, is someone harvesting credentials. A principal that already read in bulk in its account's first baseline hours (a pipeline refreshing its stack's secrets) is routine and not reported.
-- remediation: Find who holds the credential that read them; rotate every secret in the list (secrets in the evidence) and review what those secrets unlock.
with reads as (
    -- one row per secret read; a BatchGetSecretValue by filter counts as every secret it matched ("filter:...");
    -- unnested in the select list, not by a lateral join, which would pair up events by their whole parameters
    select e.recipient_account_id as account_id, e.principal_arn, e.user_name, coalesce(e.access_key_id, e.principal_arn) as credential,
           e.event_id, e.event_time, e.event_name, e.source_ip, burst_span(e.event_time, p.burst_minutes) as span,
           unnest(case
               when e.event_name = 'GetSecretValue' then [json_extract_string(e.request_parameters, '$.secretId')]
               when e.event_name = 'BatchGetSecretValue' and json_array_length(json_extract(e.request_parameters, '$.secretIdList')) > 0
                   then json_extract_string(e.request_parameters, '$.secretIdList[*]')
               when e.event_name = 'BatchGetSecretValue' then ['filter:' || coalesce(json_extract(e.request_parameters, '$.filters')::varchar, 'all')]
               when e.event_name = 'GetParameter' then [json_extract_string(e.request_parameters, '$.name')]
               when e.event_name = 'GetParameters' then json_extract_string(e.request_parameters, '$.names[*]')
               when e.event_name = 'GetParametersByPath' then ['path:' || json_extract_string(e.request_parameters, '$.path')]
           end) as secret
    from events e, params p
    where e.error_code is null and e.event_time between p.since and p.until
      -- the names of both services first: a cheap test that leaves few events for the one below
      and e.event_name in ('GetSecretValue', 'BatchGetSecretValue', 'GetParameter', 'GetParameters', 'GetParametersByPath')
      and ((e.event_source = 'secretsmanager.amazonaws.com' and e.event_name in ('GetSecretValue', 'BatchGetSecretValue'))
        or (e.event_source = 'ssm.amazonaws.com' and e.event_name in ('GetParameter', 'GetParameters', 'GetParametersByPath')
            and json_extract_string(e.request_parameters, '$.withDecryption') = 'true'))
),
-- The sliding windows run over the reads of busy pairs of fixed spans of
-- burst_minutes only (see discovery_burst): a window from a read lies
-- within its span and the next, so a burst opens only in a span that, with
-- the next, holds enough distinct secrets, or a read by filter.
spans as (
    select distinct account_id, credential, secret, span
    from reads
),
busy_pairs as (
    select s.account_id, s.credential, s.pair
    from (select account_id, credential, secret, span, unnest([span - 1, span]) as pair from spans) s, params p
    group by s.account_id, s.credential, s.pair
    having count(distinct s.secret) >= any_value(p.secrets_burst) or bool_or(s.secret like 'filter:%' and s.span = s.pair)
),
-- the spans of the busy pairs, each once, joined to the reads by equality
busy_spans as (
    select distinct account_id, credential, unnest([pair, pair + 1]) as span
    from busy_pairs
),
counted as (
    -- a read opens a burst when the secrets the credential reads in the window it opens are many, or fetched by filter
    select r.*,
           count(distinct r.secret) over (partition by r.account_id, r.credential order by r.event_time
                                          range between current row and to_minutes(p.burst_minutes) following) >= p.secrets_burst
           or r.secret like 'filter:%' as opens_burst
    from reads r
    join busy_spans b on b.account_id = r.account_id and b.credential = r.credential and b.span = r.span
    cross join params p
),
burst as (
    select c.*
    from (
        select c.*,
               bool_or(c.opens_burst) over (partition by c.account_id, c.credential order by c.event_time
                                            range between to_minutes(p.burst_minutes) preceding and current row) as in_burst
        from counted c, params p
    ) c
    where c.in_burst
),
judged as (
    -- routine: the principal (a pipeline refreshing its stack's secrets) already read in bulk in
    -- its account's baseline hours; an account with fewer hours than that is judged anyway, and says so
    select b.*, s.first_event, s.baseline_end,
           s.long_enough and min(b.event_time) over (partition by b.account_id, b.principal_arn) < s.first_event + to_hours(p.baseline_hours) as established
    from burst b
    join account_spans s using (account_id)
    cross join params p
)
select account_id, any_value(principal_arn), credential,
       count(distinct secret) || ' secret(s) read by ' || coalesce(any_value(principal_arn), unnamed_actors(list(user_name)))
         || case when credential <> coalesce(any_value(principal_arn), '') then ' with key ' || credential else '' end
         || ' between ' || strftime(min(event_time), '%Y-%m-%d %H:%M:%S') || ' and ' || strftime(max(event_time), '%Y-%m-%d %H:%M:%S')
         || ' in ' || count(distinct event_id) || ' call(s) (' || string_agg(distinct event_name, ', ' order by event_name) || ')'
         || ' from ' || string_agg(distinct source_ip, ', ' order by source_ip)
         || baseline_note(min(first_event), min(baseline_end), max(p.baseline_hours)),
       json_object('event_ids', list(distinct event_id order by event_id), 'secrets', list(distinct secret order by secret),
                   'baseline', baseline_evidence(min(first_event), min(baseline_end), max(p.baseline_hours))),
       min(event_time), max(event_time), count(distinct event_id)
from judged, params p
where not established
group by account_id, credential
