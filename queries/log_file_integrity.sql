-- id: log_file_integrity
-- title: CloudTrail log or digest files modified, missing, or a break in the digest chain
-- severity: high
-- controls: CIS 3.2
-- needs: log_validation
-- attack: TA0005/T1070, TA0005/T1562.008
-- rationale: A log file whose hash no longer matches its digest, a file a digest lists that is gone, or a digest chain that stops and starts again inside the window means the record of activity was changed or lost: the rest of the analysis may not show what happened.
-- remediation: Find out who changed or deleted the files (S3 server access logs, the bucket's CloudTrail data events), recover the originals from a replica or backup, and review the window the loss covers with other sources; keep log file validation on and the trail bucket under object lock.
with v as (
    select coalesce(v.account_id, '') as account_id, v.kind, v.status, v.object, v.detail,
           v.period_start, v.period_end, v.row_number
    from log_validation v, params p
    where v.status in ('modified', 'missing')
       or (v.status = 'gap' and v.period_start <= p.until and v.period_end >= p.since)
)
select nullif(account_id, ''), null, null,
       count(*) filter (where status = 'modified') || ' modified, '
         || count(*) filter (where status = 'missing') || ' missing, '
         || count(*) filter (where status = 'gap') || ' chain break(s) in the window, found by credtrail verify: '
         || string_agg(status || ' ' || kind || ' ' || object, '; ' order by row_number),
       json_object('log_validation', list(json_object('kind', kind, 'status', status, 'object', object, 'detail', detail)
                                          order by row_number)),
       min(period_start), max(period_end), null
from v
group by account_id
