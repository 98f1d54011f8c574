package ingest

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// CloudTrail records are loaded by DuckDB's own JSON reader, a batch of files
// per statement, with an explicit schema (PERF.md: schema detection is slow
// and fails on keys it did not sample). Scalars are read as text and typed in
// SQL, so one odd value cannot fail a batch; the variable parts are kept as
// JSON so that no key is dropped; file_id + record_index point back at the
// original record for anything else.

// recordColumns is the schema of one CloudTrail record as read_json sees it.
var recordColumns = strings.Join([]string{
	"eventVersion VARCHAR", "eventTime VARCHAR", `"@timestamp" VARCHAR`, "eventSource VARCHAR",
	"eventName VARCHAR", "awsRegion VARCHAR", "sourceIPAddress VARCHAR", "userAgent VARCHAR",
	"errorCode VARCHAR", "errorMessage VARCHAR", "readOnly VARCHAR", "eventType VARCHAR",
	"eventCategory VARCHAR", "eventID VARCHAR", "requestID VARCHAR", "sharedEventID VARCHAR",
	"recipientAccountId VARCHAR", "managementEvent VARCHAR", "sessionCredentialFromConsole VARCHAR",
	"vpcEndpointId VARCHAR", "userIdentity JSON", "requestParameters JSON", "responseElements JSON",
	"additionalEventData JSON", "resources JSON", "serviceEventDetails JSON", "tlsDetails JSON",
	"addendum JSON", "insightDetails JSON",
}, ", ")

// maxRecordFileBytes is the largest uncompressed log file read_json accepts
// (its maximum_object_size). CloudTrail delivers files far below it.
const maxRecordFileBytes = 256 << 20

var readRecordsSQL = `
create or replace temp table ct_raw as
select filename as local_path, unnest(Records) as r, unnest(range(len(Records))) as record_index
from read_json(?::varchar[], format = 'unstructured', filename = true,
               maximum_object_size = ` + fmt.Sprint(maxRecordFileBytes) + `,
               columns = {Records: 'STRUCT(` + strings.ReplaceAll(recordColumns, "'", "''") + `)[]'})`

// stageSQL types and normalises the raw records of a batch.
const stageSQL = `
create or replace temp table ct_stage as
with x as (
    select f.file_id, x.record_index, x.r, x.r.userIdentity as ui,
           x.r.userIdentity ->> '$.sessionContext.sessionIssuer.arn' as issuer_arn,
           nullif(x.r.userIdentity ->> '$.arn', '') as identity_arn,
           x.r.userIdentity ->> '$.type' as identity_type
    from ct_raw x join ct_files f on f.local_path = x.local_path
),
y as (
    select *,
        coalesce(nullif(split_part(coalesce(identity_arn, issuer_arn), ':', 2), ''), 'aws') as arn_partition,
        coalesce(ui ->> '$.accountId', r.recipientAccountId) as acting_account
    from x
)
select
    file_id, record_index,
    case when r.eventID is null then 'sha256:' || sha256(to_json(r)) else r.eventID end as event_id,
    coalesce(r.eventTime, case when r.eventTime is null then r."@timestamp" end) as event_time_text,
    coalesce(try_cast(r.eventTime as timestamptz),
             try_strptime(r.eventTime, '%Y%m%dT%H%M%SZ')::timestamptz,
             case when r.eventTime is null then try_cast(r."@timestamp" as timestamptz) end) as event_time,
    r.eventSource as event_source,
    r.eventName as event_name,
    r.awsRegion as aws_region,
    r.sourceIPAddress as source_ip,
    r.userAgent as user_agent,
    r.errorCode as error_code,
    r.errorMessage as error_message,
    case lower(r.readOnly) when 'true' then true when 'false' then false end as read_only,
    r.eventType as event_type,
    r.eventCategory as event_category,
    r.eventVersion as event_version,
    r.requestID as request_id,
    r.sharedEventID as shared_event_id,
    r.recipientAccountId as recipient_account_id,
    case lower(r.managementEvent) when 'true' then true when 'false' then false end as management_event,
    identity_type,
    case lower(identity_type)
        when 'iamuser' then coalesce(identity_arn,
            -- a few real sign-in events (CheckMfa) carry no arn: the user's ARN without its path
            case when ui ->> '$.userName' <> '' and acting_account <> '' then
                'arn:' || arn_partition || ':iam::' || acting_account || ':user/' || (ui ->> '$.userName') end)
        when 'root' then coalesce(identity_arn, 'arn:' || arn_partition || ':iam::' || acting_account || ':root')
        when 'assumedrole' then coalesce(issuer_arn,
            case when identity_arn like 'arn:%:sts::%:assumed-role/%' then
                'arn:' || arn_partition || ':iam::' || split_part(identity_arn, ':', 5) || ':role/' ||
                split_part(split_part(identity_arn, ':assumed-role/', 2), '/', 1) end)
        when 'federateduser' then issuer_arn
        when 'samluser' then issuer_arn
        when 'webidentityuser' then issuer_arn
        when 'role' then identity_arn
    end as principal_arn,
    identity_arn,
    ui ->> '$.accountId' as identity_account_id,
    ui ->> '$.principalId' as principal_id,
    nullif(ui ->> '$.accessKeyId', '') as access_key_id,
    coalesce(ui ->> '$.userName', ui ->> '$.sessionContext.sessionIssuer.userName', ui ->> '$.onBehalfOf.userId') as user_name,
    issuer_arn as session_issuer_arn,
    ui ->> '$.invokedBy' as invoked_by,
    case lower(ui ->> '$.sessionContext.attributes.mfaAuthenticated') when 'true' then true when 'false' then false end as mfa_authenticated,
    r.responseElements ->> '$.ConsoleLogin' as console_login,
    case lower(r.additionalEventData ->> '$.MFAUsed') when 'yes' then true when 'no' then false end as mfa_used,
    case lower(r.sessionCredentialFromConsole) when 'true' then true when 'false' then false end as session_credential_from_console,
    r.vpcEndpointId as vpc_endpoint_id,
    ui as user_identity,
    r.requestParameters as request_parameters,
    r.responseElements as response_elements,
    r.additionalEventData as additional_event_data,
    r.resources as resources,
    r.serviceEventDetails as service_event_details,
    r.tlsDetails as tls_details,
    r.addendum as addendum,
    r.insightDetails as insight_details,
    coalesce(lower(r.eventType) = 'awscloudtrailinsight' or lower(r.eventCategory) = 'insight', false) as is_insight
from y`

// badRecordsSQL finds, per file, the first record that cannot be loaded.
const badRecordsSQL = `
select file_id, min(record_index), arg_min(event_time_text, record_index), count(*)
from ct_stage where event_time is null
group by file_id`

const insertEventsSQL = `
insert into events
select s.event_id, s.event_time, s.event_source, s.event_name,
       a.iam_action,
       s.aws_region, s.source_ip, s.user_agent, s.error_code, s.error_message, s.read_only,
       s.event_type, s.event_category, s.event_version, s.request_id, s.shared_event_id,
       s.recipient_account_id, s.management_event, s.identity_type, s.principal_arn, s.identity_arn,
       s.identity_account_id, s.principal_id, s.access_key_id, s.user_name, s.session_issuer_arn,
       s.invoked_by, s.mfa_authenticated, s.console_login, s.mfa_used, s.session_credential_from_console,
       s.vpc_endpoint_id, s.user_identity, s.request_parameters, s.response_elements,
       s.additional_event_data, s.resources, s.service_event_details, s.tls_details, s.addendum,
       s.file_id, s.record_index
from ct_stage s
left join ct_actions a on a.event_source = s.event_source and a.event_name = s.event_name
where not s.is_insight and s.file_id not in (select file_id from ct_rejected)
  and not exists (select 1 from events e
                  where e.event_id = s.event_id
                    and coalesce(e.recipient_account_id, '') = coalesce(s.recipient_account_id, ''))
qualify row_number() over (partition by s.event_id, coalesce(s.recipient_account_id, '')
                           order by s.file_id, s.record_index) = 1`

const insertInsightsSQL = `
insert into insights
select s.event_id, s.event_time, s.event_type, s.event_category, s.event_version, s.aws_region,
       s.recipient_account_id, s.shared_event_id,
       s.insight_details ->> '$.state', s.insight_details ->> '$.insightType',
       s.insight_details ->> '$.eventSource', s.insight_details ->> '$.eventName',
       s.insight_details, s.file_id, s.record_index
from ct_stage s
where s.is_insight and s.file_id not in (select file_id from ct_rejected)
  and not exists (select 1 from insights e
                  where e.event_id = s.event_id
                    and coalesce(e.recipient_account_id, '') = coalesce(s.recipient_account_id, ''))
qualify row_number() over (partition by s.event_id, coalesce(s.recipient_account_id, '')
                           order by s.file_id, s.record_index) = 1`

// fileStatsSQL summarises each loaded file of the batch.
const fileStatsSQL = `
with staged as (
    select file_id, count(*) as records, min(event_time) as first_event, max(event_time) as last_event,
           mode(recipient_account_id) as account_id
    from ct_stage where file_id not in (select file_id from ct_rejected)
    group by file_id
),
kept as (
    select file_id, count(*) as n from (
        select file_id from events where file_id in (select file_id from ct_files)
        union all
        select file_id from insights where file_id in (select file_id from ct_files))
    group by file_id
)
select f.file_id, coalesce(s.records, 0), coalesce(s.records, 0) - coalesce(k.n, 0),
       s.account_id, s.first_event, s.last_event
from ct_files f
left join staged s using (file_id)
left join kept k using (file_id)
where f.file_id not in (select file_id from ct_rejected)`

// ctFile is one CloudTrail file of a batch: its evidence row and the
// Records-shaped file DuckDB reads (the original, or its conversion).
type ctFile struct {
	in      *input
	fileID  int64
	local   string
	records int // known for converted files
}

// ctResult is the outcome of one file of a batch.
type ctResult struct {
	stats  fileStats
	reject string
}

// loadCloudTrailBatch loads files in one transaction. It returns the outcome
// of every file, or an error when the statement itself failed (a file DuckDB
// cannot read, for instance): the caller then retries file by file.
func loadCloudTrailBatch(ctx context.Context, conn *sql.Conn, log *slog.Logger, files []ctFile, record func(*sql.Tx, []ctFile, map[int64]ctResult) error) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	locals := make([]string, len(files))
	ids := make([]int64, len(files))
	for i, f := range files {
		locals[i], ids[i] = f.local, f.fileID
	}
	steps := []struct {
		name string
		sql  string
		args []any
	}{
		{"files", "create or replace temp table ct_files as select unnest(?::varchar[]) as local_path, unnest(?::bigint[]) as file_id", []any{locals, ids}},
		{"read", readRecordsSQL, []any{locals}},
		{"stage", stageSQL, nil},
		{"rejected", "create or replace temp table ct_rejected (file_id bigint, record_index bigint, event_time_text varchar, bad bigint)", nil},
		{"bad records", "insert into ct_rejected " + badRecordsSQL, nil},
		{"actions", "create or replace temp table ct_actions as select event_source, event_name, iam_action_of(event_source, event_name) as iam_action from (select distinct event_source, event_name from ct_stage where event_source is not null and event_name is not null)", nil},
		{"events", insertEventsSQL, nil},
		{"insights", insertInsightsSQL, nil},
	}
	for _, s := range steps {
		start := time.Now()
		if _, err := tx.ExecContext(ctx, s.sql, s.args...); err != nil {
			return err
		}
		log.Debug("cloudtrail batch step", "step", s.name, "files", len(files), "seconds", time.Since(start).Seconds())
	}
	results := map[int64]ctResult{}
	rows, err := tx.QueryContext(ctx, "select file_id, record_index, event_time_text, bad from ct_rejected")
	if err != nil {
		return err
	}
	for rows.Next() {
		var id, idx, bad int64
		var text sql.NullString
		if err := rows.Scan(&id, &idx, &text, &bad); err != nil {
			rows.Close()
			return err
		}
		msg := fmt.Sprintf("record %d: eventTime: invalid time %q", idx, text.String)
		if !text.Valid {
			msg = fmt.Sprintf("record %d: no eventTime", idx)
		}
		if bad > 1 {
			msg = fmt.Sprintf("%d records have no valid eventTime, the first: %s", bad, msg)
		}
		results[id] = ctResult{reject: msg}
	}
	rows.Close()
	rows, err = tx.QueryContext(ctx, fileStatsSQL)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		var st fileStats
		var account sql.NullString
		var first, last sql.NullTime
		if err := rows.Scan(&id, &st.Records, &st.Duplicates, &account, &first, &last); err != nil {
			rows.Close()
			return err
		}
		st.AccountID, st.First, st.Last = account.String, first.Time, last.Time
		results[id] = ctResult{stats: st}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if err := record(tx, files, results); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "drop table ct_raw; drop table ct_stage"); err != nil {
		return err
	}
	return tx.Commit()
}
