package ingest

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"
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

// RecordColumns is the read_json schema of one CloudTrail record, for
// measurements that compare ingest with a bare DuckDB load of the same files.
func RecordColumns() string { return recordColumns }

// maxRecordFileBytes is the largest uncompressed log file read_json accepts
// (its maximum_object_size; DuckDB reserves twice it per thread inside the
// memory limit). CloudTrail delivers files far below it (about 45,000
// records); bodies rewritten by convert.go are cut into chunks well under it.
const maxRecordFileBytes = 64 << 20

// readRecords reads the records of a batch's files with their position in
// the file. Its one parameter is the list of paths DuckDB reads; bindFiles
// names, per path, the file_id and whether the path is a chunk of a rewrite
// (whose "offset" gives the position of its first record; an evidence file's
// own "offset" key, of any type, means nothing) in ct_batch_files, which is
// joined by DuckDB's file_index once per file before the records are
// unnested (a join of the unnested records with a table of names measured 4x
// slower, as DuckDB then loses most of its parallelism; looking the file_id
// up in a list parameter cost time in proportion to the batch's files for
// every file: 3% of the CPU of ingest at 10M events, in batches of 12,000).
func readRecords(what string) string {
	return `
with raw as (
    select file_id, unnest(Records) as r,
           unnest(range(first_index, first_index + len(Records))) as record_index
    from (select f.file_id,
                 case when f.chunk then coalesce(j."offset"::bigint, 0) else 0 end as first_index,
                 j.Records
          from read_json(?::varchar[], format = 'unstructured',
                         maximum_object_size = ` + fmt.Sprint(maxRecordFileBytes) + `,
                         columns = {"offset": 'VARCHAR', Records: 'STRUCT(` + strings.ReplaceAll(recordColumns, "'", "''") + `)[]'}) j
          join ct_batch_files f on f.path_index = j.file_index)
),
x as (
    select raw.file_id, raw.record_index, raw.r,
           from_json(raw.r.userIdentity, '` + userIdentityShape + `') as ui
    from raw
),
y as (
    select file_id, record_index, r,
           ui.type as identity_type, nullif(ui.arn, '') as identity_arn, ui.accountId as identity_account_id,
           ui.sessionContext.sessionIssuer.arn as issuer_arn, ui.userName as ui_user_name,
           ui.principalId as principal_id, nullif(ui.accessKeyId, '') as access_key_id,
           ui.sessionContext.sessionIssuer.userName as issuer_user_name, ui.onBehalfOf.userId as on_behalf_of_user,
           ui.invokedBy as invoked_by, ui.sessionContext.attributes.mfaAuthenticated as mfa_authenticated,
           ` + eventTimeSQL + ` as parsed_time
    from x
),
rec as (
    select *,
           case when parsed_time >= '` + minEventTime + `'::timestamptz and parsed_time < '` + maxEventTime + `'::timestamptz
                then parsed_time end as event_time,
           coalesce(nullif(split_part(coalesce(identity_arn, issuer_arn), ':', 2), ''), 'aws') as arn_partition,
           coalesce(identity_account_id, r.recipientAccountId) as acting_account
    from y
)
select ` + what + `
from rec`
}

// eventTimeSQL types eventTime: ISO with Z or an offset, boto3's space form,
// the ISO basic form, and Logstash's @timestamp only when eventTime is absent.
// readRecords keeps it as event_time only between minEventTime and
// maxEventTime: DuckDB also reads 'epoch' and 'infinity' as times, and one
// such record would stretch the analysis window over decades.
const (
	minEventTime = "2000-01-01 00:00:00+00"
	maxEventTime = "2101-01-01 00:00:00+00"
)

const eventTimeSQL = `coalesce(try_cast(r.eventTime as timestamptz),
             try_strptime(r.eventTime, '%Y%m%dT%H%M%SZ')::timestamptz,
             case when r.eventTime is null then try_cast(r."@timestamp" as timestamptz) end)`

// recipientAccountSQL fails the statement on a recipientAccountId that is not
// 12 digits (a spreadsheet's 5.28758E+11): the file is then rejected (see
// badAccountSQL), and the damaged id never becomes an account.
const recipientAccountSQL = `case when r.recipientAccountId is null or regexp_full_match(r.recipientAccountId, '[0-9]{12}')
        then r.recipientAccountId else error('recipientAccountId is not 12 digits') end`

// eventIDSQL is a record's eventID, or the SHA-256 of the record when it has none.
const eventIDSQL = `case when r.eventID is null then 'sha256:' || sha256(to_json(r)) else r.eventID end`

// keyHash is the SQL of events.key_hash for the SQL of an event's id and
// recipient account: a 64-bit hash of its key, stored so that the copies of
// a batch's events are found by reading one narrow column of the case (see
// dupKeysOlderSQL). It is the low half of an MD5, not DuckDB's hash(), whose
// definition may change with the DuckDB library while the stored hashes
// stay: a case would then no longer find copies of its events. The account
// is 12 digits or empty, so the joined string is unambiguous. It is written as
// a shift of md5_number rather than with DuckDB's md5_number_lower, a macro
// that gives the same value through a bit string and text at twice the cost
// (0.6 CPU s per 1M events).
func keyHash(eventID, account string) string {
	return `(md5_number(coalesce(` + account + `, '') || '/' || ` + eventID + `) >> 64)::ubigint`
}

// insertEventsSQL types and normalises every record of the batch into events
// in one pass. A record whose time cannot be read violates event_time's NOT
// NULL and fails the statement: the file is then rejected (see badRecordSQL).
// So does a time outside the years 2000-2100 (see minEventTime).
var insertEventsSQL = `insert into events ` + readRecords(`
    `+eventIDSQL+`,
    event_time,
    r.eventSource,
    r.eventName,
    iam_action_of(r.eventSource, r.eventName),
    r.awsRegion,
    r.sourceIPAddress,
    r.userAgent,
    r.errorCode,
    r.errorMessage,
    case lower(r.readOnly) when 'true' then true when 'false' then false end,
    r.eventType,
    r.eventCategory,
    r.eventVersion,
    r.requestID,
    r.sharedEventID,
    `+recipientAccountSQL+`,
    case lower(r.managementEvent) when 'true' then true when 'false' then false end,
    identity_type,
    case lower(identity_type)
        when 'iamuser' then coalesce(identity_arn,
            -- a few real sign-in events (CheckMfa) carry no arn: the user's ARN without its path
            case when ui_user_name <> '' and acting_account <> '' then
                'arn:' || arn_partition || ':iam::' || acting_account || ':user/' || ui_user_name end)
        when 'root' then coalesce(identity_arn, 'arn:' || arn_partition || ':iam::' || acting_account || ':root')
        when 'assumedrole' then coalesce(issuer_arn,
            case when identity_arn like 'arn:%:sts::%:assumed-role/%' then
                'arn:' || arn_partition || ':iam::' || split_part(identity_arn, ':', 5) || ':role/' ||
                split_part(split_part(identity_arn, ':assumed-role/', 2), '/', 1) end)
        when 'federateduser' then issuer_arn
        when 'samluser' then issuer_arn
        when 'webidentityuser' then issuer_arn
        when 'role' then identity_arn
    end,
    identity_arn,
    identity_account_id,
    principal_id,
    access_key_id,
    coalesce(ui_user_name, issuer_user_name, on_behalf_of_user),
    issuer_arn,
    invoked_by,
    case lower(mfa_authenticated) when 'true' then true when 'false' then false end,
    case when r.eventName = 'ConsoleLogin' then r.responseElements ->> '$.ConsoleLogin' end,
    case when r.additionalEventData is not null and contains(r.additionalEventData, 'MFAUsed') then
        case lower(r.additionalEventData ->> '$.MFAUsed') when 'yes' then true when 'no' then false end end,
    case lower(r.sessionCredentialFromConsole) when 'true' then true when 'false' then false end,
    r.vpcEndpointId,
    r.userIdentity,
    r.requestParameters,
    r.responseElements,
    r.additionalEventData,
    r.resources,
    r.serviceEventDetails,
    r.tlsDetails,
    r.addendum,
    file_id,
    record_index,
    `+keyHash(eventIDSQL, recipientAccountSQL))

// userIdentityShape is the part of userIdentity parsed once per record into
// a struct. from_json reads keys as json_extract_string does (case-sensitive,
// first of duplicate keys, non-string values as their JSON text, NULL where
// the shape does not match) at two thirds of the cost of eleven paths.
const userIdentityShape = `{"type": "VARCHAR", "arn": "VARCHAR", "accountId": "VARCHAR", "principalId": "VARCHAR",
    "accessKeyId": "VARCHAR", "userName": "VARCHAR", "invokedBy": "VARCHAR", "onBehalfOf": {"userId": "VARCHAR"},
    "sessionContext": {"sessionIssuer": {"arn": "VARCHAR", "userName": "VARCHAR"},
                       "attributes": {"mfaAuthenticated": "VARCHAR"}}}`

// badRecordSQL finds the first record of a file whose time cannot be read
// or is out of range, to say why the file was rejected.
var badRecordSQL = `select record_index, event_time_text, parsed, bad from (` + readRecords(`
    record_index, coalesce(r.eventTime, r."@timestamp") as event_time_text,
    parsed_time is not null as parsed, count(*) over () as bad`) + `
    where event_time is null)
order by record_index limit 1`

// badAccountSQL finds the first record of a file whose recipientAccountId is
// not 12 digits, to say why the file was rejected.
var badAccountSQL = `select record_index, account, bad from (` + readRecords(`
    record_index, r.recipientAccountId as account, count(*) over () as bad`) + `
    where not regexp_full_match(r.recipientAccountId, '[0-9]{12}'))
order by record_index limit 1`

// De-duplication keeps one row per (event_id, recipient_account_id), after
// comparing the copies (conflicts.go). The keys that occur more than once
// are found first by their stored 64-bit hash, key_hash, with a hash
// aggregate that costs a tenth of the window over every row it replaced (0.1
// s against 0.9 s on 1M events); the window then runs over the rows of those
// hashes only, and not at all when there are none, as in most batches. A
// hash collision only adds rows to the window, which partitions by the key
// itself.
//
// dupKeysSQL finds the hashes with copies when the case holds no events older
// than the batch; dupKeysOlderSQL when it does, among the keys of the batch:
// it reads the key_hash of every stored event, 8 bytes a row, instead of
// every stored event_id string, which made adding a day to a large case cost
// in proportion to the case.
const (
	dupKeysSQL = `
create or replace temp table ct_dup_keys as
select key_hash
from events
group by all having count(*) > 1`
	dupKeysOlderSQL = `
create or replace temp table ct_dup_keys as
select key_hash
from events
where key_hash in (select key_hash from events where file_id between ? and ?)
group by all having count(*) > 1`
	olderEventsSQL = `select count(*) from (select 1 from events where file_id < ? limit 1)`
	dupKeyCountSQL = `select count(*) from ct_dup_keys`
)

// Insights events of the batch move to their own table: they are rare, so
// their details are read again from the few files that hold them, and only
// when the batch has any.
const insightKeysSQL = `
create or replace temp table ct_insight_keys as
select file_id, record_index from events
where file_id between ? and ? and (event_type = 'AwsCloudTrailInsight' or event_category = 'Insight')`

var insightMoveSQL = []string{
	`insert into insights ` + readRecords(`
	    e.event_id, e.event_time, e.event_type, e.event_category, e.event_version, e.aws_region,
	    e.recipient_account_id, e.shared_event_id,
	    r.insightDetails ->> '$.state', r.insightDetails ->> '$.insightType',
	    r.insightDetails ->> '$.eventSource', r.insightDetails ->> '$.eventName',
	    r.insightDetails, e.file_id, e.record_index`) + `
	 join events e on e.file_id = rec.file_id and e.record_index = rec.record_index
	 join ct_insight_keys k on k.file_id = rec.file_id and k.record_index = rec.record_index`,
	`delete from events e using ct_insight_keys k where e.file_id = k.file_id and e.record_index = k.record_index`,
}

// fileStatsSQL summarises each file of the batch after the insert.
const fileStatsSQL = `
select file_id, count(*), min(event_time), max(event_time), mode(recipient_account_id)
from (select file_id, event_time, recipient_account_id from events where file_id between ? and ?
      union all
      select file_id, event_time, recipient_account_id from insights where file_id between ? and ?)
group by file_id`

// ctLocalName is the scratch name a CloudTrail file is read under when its
// own path will not do (see readablePath): its file_id, and the extension
// that tells DuckDB whether it is compressed.
func ctLocalName(sc *scratch, fileID int64, gzipped bool) string {
	name := fmt.Sprintf("%d.json", fileID)
	if gzipped {
		name += ".gz"
	}
	return filepath.Join(sc.dir, name)
}

// readablePath returns the absolute path under which DuckDB can read a
// Records file in place: one that read_json takes literally (valid UTF-8,
// no glob or escape characters) and whose extension says what its content is (DuckDB
// decompresses by extension). Otherwise ok is false and the file is read
// through a link with a scratch name: creating and removing a link per file
// cost about 2 s on a 3,674-file archive. On Windows the path is given with
// forward slashes, which DuckDB takes as separators there too: its
// backslashes would otherwise send every file through a link, and a link
// cannot be made without privileges or across drives.
func readablePath(path string, gzipped bool) (abs string, ok bool) {
	abs, err := filepath.Abs(path)
	abs = filepath.ToSlash(abs)
	if err != nil || !utf8.ValidString(abs) || strings.ContainsAny(abs, "*?[]{}\\'\"") || strings.Contains(abs, "://") {
		return "", false
	}
	ext := strings.ToLower(filepath.Ext(abs))
	if gzipped {
		return abs, filepath.Ext(abs) == ".gz"
	}
	return abs, ext != ".gz" && ext != ".gzip" && ext != ".zst" && ext != ".zstd"
}

// linkForReading gives an evidence file its scratch name, as a symbolic link
// (or, where links are not possible, a hard link) to the original. A
// symbolic link is kept only when it leads to the original: Wine 8 reports
// one made without making it, and Windows can refuse to follow one.
func linkForReading(original, local string) error {
	abs, err := filepath.Abs(original)
	if err != nil {
		return err
	}
	err = os.Symlink(abs, local)
	if err == nil {
		want, werr := os.Stat(abs)
		got, gerr := os.Stat(local)
		if werr == nil && gerr == nil && os.SameFile(want, got) {
			return nil
		}
		os.Remove(local)
		err = fmt.Errorf("symbolic link %s does not lead to %s", local, abs)
	}
	if lerr := os.Link(abs, local); lerr != nil {
		return fmt.Errorf("link for reading: %w; hard link: %w", err, lerr)
	}
	return nil
}

// ctFile is one CloudTrail file of a batch: its evidence row and the
// Records-shaped file DuckDB reads (the original, or its conversion).
type ctFile struct {
	in        *input
	fileID    int64
	locals    []string // what DuckDB reads: the file, a link to it, or its rewrite in chunks
	rewritten bool     // locals are a rewrite in chunks (convert.go)
}

// bindFiles fills ct_batch_files for files and returns the parameters of
// readRecords: every path DuckDB reads, in the order of their path_index.
func bindFiles(ctx context.Context, tx *sql.Tx, files ...ctFile) ([]any, error) {
	var ids []int64
	var chunks []bool
	var locals []string
	for _, f := range files {
		for _, l := range f.locals {
			ids, chunks, locals = append(ids, f.fileID), append(chunks, f.rewritten), append(locals, l)
		}
	}
	if _, err := tx.ExecContext(ctx, `create or replace temp table ct_batch_files as
		select unnest(range(?::bigint)) as path_index, unnest(?::bigint[]) as file_id, unnest(?::boolean[]) as chunk`,
		len(ids), ids, chunks); err != nil {
		return nil, fmt.Errorf("name the batch's files: %w", err)
	}
	return []any{locals}, nil
}

// positionsSQL finds the files read in place whose record positions are not
// 0, 1, 2, ...: a body of several {"Records":[…]} objects one after another
// (merged exports, concatenated gzip files), whose positions DuckDB restarts
// at each object. They are rewritten (convert.go numbers records on across
// objects) and the batch is loaded again.
const positionsSQL = `
select file_id from events where file_id between ? and ?
group by file_id having count(*) <> max(record_index) + 1`

// errNeedRewrite is loadCloudTrailBatch's failure when files must be
// rewritten before they can load (see positionsSQL).
type errNeedRewrite struct{ fileIDs map[int64]bool }

func (e *errNeedRewrite) Error() string {
	return fmt.Sprintf("%d files hold several Records objects", len(e.fileIDs))
}

// ctResult is the outcome of one file of a batch.
type ctResult struct {
	stats  fileStats
	reject string
}

// loadCloudTrailBatch loads files in one transaction. It returns an error when
// a statement failed (a file DuckDB cannot read, a record without a time): the
// caller then retries file by file and rejects the file that fails alone.
func loadCloudTrailBatch(ctx context.Context, conn *sql.Conn, db *sql.DB, log *slog.Logger, limit string, files []ctFile, record func(*sql.Tx, map[int64]ctResult) error) (err error) {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	args, err := bindFiles(ctx, tx, files...)
	if err != nil {
		return err
	}
	lo, hi := files[0].fileID, files[len(files)-1].fileID
	run := func(name, query string, args ...any) error {
		start := time.Now()
		_, err := tx.ExecContext(ctx, query, args...)
		log.Debug("cloudtrail batch step", "step", name, "files", len(files), "seconds", time.Since(start).Seconds())
		return err
	}
	if err := run("insert", insertEventsSQL, args...); err != nil {
		return err
	}
	if err := needRewrite(ctx, tx, lo, hi); err != nil {
		return err
	}
	if err := run("insight keys", insightKeysSQL, lo, hi); err != nil {
		return err
	}
	var insights int64
	if err := tx.QueryRowContext(ctx, "select count(*) from ct_insight_keys").Scan(&insights); err != nil {
		return err
	}
	if insights > 0 {
		if err := run("insights", insightMoveSQL[0], args...); err != nil {
			return err
		}
		if err := run("insights", insightMoveSQL[1]); err != nil {
			return err
		}
	}
	results := map[int64]ctResult{}
	rows, err := tx.QueryContext(ctx, fileStatsSQL, lo, hi, lo, hi)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		var st fileStats
		var account sql.NullString
		var first, last sql.NullTime
		if err := rows.Scan(&id, &st.Records, &first, &last, &account); err != nil {
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
	var older, dupKeys int64
	if err := tx.QueryRowContext(ctx, olderEventsSQL, lo).Scan(&older); err != nil {
		return err
	}
	keys, keyArgs := dupKeysSQL, []any(nil)
	if older > 0 {
		keys, keyArgs = dupKeysOlderSQL, []any{lo, hi}
	}
	restore, lerr := lowerMemoryLimit(ctx, db, limit, lookupShare)
	if lerr != nil {
		log.Debug("cloudtrail batch at the full memory limit", "err", lerr)
	}
	defer func() {
		if rerr := restore(); rerr != nil && err == nil {
			err = rerr
		}
	}()
	if err := run("duplicate keys", keys, keyArgs...); err != nil {
		return err
	}
	if err := tx.QueryRowContext(ctx, dupKeyCountSQL).Scan(&dupKeys); err != nil {
		return err
	}
	if dupKeys > 0 {
		if err := resolveCopies(ctx, tx, run, files, lo, hi, results); err != nil {
			return err
		}
	}
	if err := record(tx, results); err != nil {
		return err
	}
	start := time.Now()
	err = tx.Commit()
	log.Debug("cloudtrail batch step", "step", "commit", "files", len(files), "seconds", time.Since(start).Seconds())
	return err
}

// needRewrite returns an *errNeedRewrite naming the batch's files whose
// record positions repeat.
func needRewrite(ctx context.Context, tx *sql.Tx, lo, hi int64) error {
	rows, err := tx.QueryContext(ctx, positionsSQL, lo, hi)
	if err != nil {
		return err
	}
	defer rows.Close()
	ids := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return err
		}
		ids[id] = true
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(ids) > 0 {
		return &errNeedRewrite{ids}
	}
	return nil
}

// badRecord explains why a single file failed to load when its records can
// be read: the first record without a valid time. It returns "" otherwise.
func badRecord(ctx context.Context, conn *sql.Conn, f ctFile) string {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return ""
	}
	defer tx.Rollback()
	var idx, bad int64
	var text sql.NullString
	var parsed bool
	args, err := bindFiles(ctx, tx, f)
	if err != nil {
		return ""
	}
	if err := tx.QueryRowContext(ctx, badRecordSQL, args...).Scan(&idx, &text, &parsed, &bad); err != nil {
		if err := tx.QueryRowContext(ctx, badAccountSQL, args...).Scan(&idx, &text, &bad); err != nil {
			return ""
		}
		msg := fmt.Sprintf("record %d: recipientAccountId: %v", idx, checkAccountID(text.String))
		if bad > 1 {
			msg = fmt.Sprintf("%d records have a recipientAccountId that is not 12 digits, the first: %s", bad, msg)
		}
		return msg
	}
	msg := fmt.Sprintf("record %d: eventTime: invalid time %q", idx, text.String)
	switch {
	case !text.Valid:
		msg = fmt.Sprintf("record %d: no eventTime", idx)
	case parsed:
		msg = fmt.Sprintf("record %d: eventTime: %q is outside the years 2000-2100", idx, text.String)
	}
	if bad > 1 {
		msg = fmt.Sprintf("%d records have no valid eventTime, the first: %s", bad, msg)
	}
	return msg
}
