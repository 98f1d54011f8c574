package ingest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// KindParquetExport is a file of a credtrail Parquet export (export.go)
// given to ingest: the export's manifest and each of its Parquet files are
// evidence of the ingest that merged it.
const KindParquetExport = "parquet_export"

// An export merged into a case brings the evidence rows of the exported
// case and the rows loaded from them, each file under a new file_id of this
// case. A file whose SHA-256 this case has already loaded brings nothing:
// its rows are here. Events already in the case (same event_id and account)
// are duplicates when identical and conflicting copies otherwise, as when
// they come from two log files. IAM entities already in the case keep this
// case's copy, as a second authorization details file would.
//
// How each table of a case is merged: fileTables rows belong to the file
// named by their file_id; the others are handled one by one in importExport.
// Tables not listed are the analysis (re-run after a merge), the action map
// (rebuilt by every credtrail) and records about the exported case itself
// (its runs, reports and last verify), which stay in the export.
var (
	fileTables = []string{"insights", "conflicting_events", "iam_users", "iam_groups", "iam_roles", "iam_policies",
		"inline_policies", "password_policy", "account_summary", "digests", "digest_signatures", "public_keys", "action_catalog"}
	notMerged = []string{"case_meta", "ingest_runs", "report_outputs", "log_validation", "analysis_parameters", "rule_coverage",
		"account_as_of", "findings", "permission_usage", "generated_policies", "usage_days", "usage_calls", "usage_activity",
		"action_prefixes", "action_overrides", "action_word_rules", "actions_needing_no_permission"}
	specialTables = []string{"evidence_files", "events", "credential_reports", "credential_report_rows", "access_key_rows",
		"group_members", "policy_attachments", "policy_statements", "role_trust", "digest_log_files"}
)

// exportFilePath is what the paths in a manifest look like; anything else
// is not read.
var exportFilePath = regexp.MustCompile(`^([a-z][a-z0-9_]*)/(?:[a-z][a-z0-9_]*\.parquet|account_id=(?:[0-9]{12}|other)/date=[0-9]{4}-[0-9]{2}-[0-9]{2}/events_[0-9]+\.parquet)$`)

// isExportDir says whether path is a folder holding a credtrail export.
func isExportDir(path string) bool {
	info, err := os.Stat(filepath.Join(path, ExportManifestName))
	return err == nil && info.Mode().IsRegular()
}

// splitExports separates the export folders among paths from the rest.
func splitExports(paths []string) (rest, exports []string) {
	for _, p := range paths {
		if isExportDir(p) {
			exports = append(exports, p)
		} else {
			rest = append(rest, p)
		}
	}
	return rest, exports
}

// exportFile is one file of an export being merged.
type exportFile struct {
	table string
	in    *input
	rows  int64
}

// readExport reads and checks an export's manifest and hashes its files:
// the files it lists must be there with the SHA-256 it gives. The returned
// reason rejects the whole export; err stops the run.
func readExport(dir string) (manifest *input, files []exportFile, reason string, err error) {
	mpath := filepath.Join(dir, ExportManifestName)
	manifest = &input{display: mpath, local: mpath, sniff: sniffed{kind: KindParquetExport, format: "manifest"}}
	body, err := os.ReadFile(mpath)
	if err != nil {
		return manifest, nil, "", fmt.Errorf("read %s: %w", mpath, err)
	}
	sum := sha256.Sum256(body)
	manifest.sha256, manifest.size = hex.EncodeToString(sum[:]), int64(len(body))
	var m ExportManifest
	if err := json.Unmarshal(body, &m); err != nil {
		return manifest, nil, "not a credtrail export manifest: " + err.Error(), nil
	}
	switch {
	case m.Format != exportFormat || m.Version != exportVersion:
		return manifest, nil, fmt.Sprintf("not a credtrail export of version %d (format %q, version %d)", exportVersion, m.Format, m.Version), nil
	case m.SchemaVersion != SchemaVersion:
		return manifest, nil, fmt.Sprintf("exported from a case of schema version %d; this credtrail reads version %d: export it again with this credtrail", m.SchemaVersion, SchemaVersion), nil
	}
	known := map[string]bool{}
	for _, t := range append(append(append([]string{}, fileTables...), notMerged...), specialTables...) {
		known[t] = true
	}
	for _, t := range m.Tables {
		if !known[t.Name] {
			return manifest, nil, fmt.Sprintf("table %s of the export is not one this credtrail merges", t.Name), nil
		}
		if notMergedTable(t.Name) {
			continue
		}
		for _, f := range t.Files {
			g := exportFilePath.FindStringSubmatch(f.Path)
			if g == nil || g[1] != t.Name {
				return manifest, nil, fmt.Sprintf("file %q of table %s is not where an export puts it", f.Path, t.Name), nil
			}
			p := filepath.Join(dir, filepath.FromSlash(f.Path))
			in := &input{display: p, local: p, sniff: sniffed{kind: KindParquetExport, format: "parquet"}}
			sum, err := hashFile(p)
			if err != nil {
				return manifest, nil, fmt.Sprintf("%s: %v", p, err), nil
			}
			if sum != f.SHA256 {
				return manifest, nil, fmt.Sprintf("%s: SHA-256 %s, the manifest says %s: the export was changed", p, sum, f.SHA256), nil
			}
			in.sha256, in.size = sum, f.Bytes
			files = append(files, exportFile{table: t.Name, in: in})
		}
	}
	return manifest, files, "", nil
}

func notMergedTable(t string) bool {
	for _, n := range notMerged {
		if n == t {
			return true
		}
	}
	return false
}

// importExport merges the export in dir into the case, in one transaction,
// and records the manifest and every Parquet file as evidence of this run.
func (r *ingestRun) importExport(ctx context.Context, dir string) error {
	manifest, files, reason, err := readExport(dir)
	if err != nil {
		return err
	}
	var next int64
	if err := r.conn.QueryRowContext(ctx, "select coalesce(max(file_id), 0) + 1 from evidence_files").Scan(&next); err != nil {
		return fmt.Errorf("read evidence: %w", err)
	}
	evs := []evidence{newEvidence(next, manifest)}
	for i, f := range files {
		evs = append(evs, newEvidence(next+1+int64(i), f.in))
	}
	if reason != "" {
		for i := range evs {
			evs[i].status, evs[i].note = StatusRejected, reason
		}
		return r.recordAll(ctx, nil, evs)
	}
	// An export whose files are all loaded already is a re-submission.
	fresh := false
	for _, ev := range evs {
		if r.known[ev.in.sha256] == 0 {
			fresh = true
		}
	}
	if !fresh {
		for _, ev := range evs {
			r.resubmitted(ev.in, r.known[ev.in.sha256])
		}
		return nil
	}
	tx, err := r.conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("merge %s: %w", dir, err)
	}
	defer tx.Rollback()
	stats, err := mergeExport(ctx, tx, dir, files, next+1+int64(len(files)), r.stamp.id)
	if err != nil {
		reason := err.Error()
		tx.Rollback()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		for i := range evs {
			evs[i].status, evs[i].note = StatusRejected, "cannot merge the export: "+reason
		}
		return r.recordAll(ctx, nil, evs)
	}
	evs[0].status = StatusLoaded
	evs[0].stats = fileStats{Records: int64(len(files)), Note: stats.note}
	for i, f := range files {
		evs[i+1].status = StatusLoaded
		evs[i+1].stats = fileStats{Records: stats.rows[f.in.display], Duplicates: stats.duplicates[f.in.display]}
		if prior := r.known[f.in.sha256]; prior != 0 { // the same bytes came in an earlier export: its rows are here
			evs[i+1].status, evs[i+1].duplicateOf = StatusDuplicate, prior
			evs[i+1].stats = fileStats{Records: evs[i+1].stats.Records, Duplicates: evs[i+1].stats.Records}
		}
	}
	if err := r.recordAll(ctx, tx, evs); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("merge %s: %w", dir, err)
	}
	for _, ev := range evs {
		r.known[ev.in.sha256] = ev.fileID
	}
	return nil
}

type mergeStats struct {
	rows, duplicates map[string]int64 // by Parquet file
	note             string
}

// mergeExport loads the export's tables into temporary tables and merges
// them into the case; evidence rows of the exported case take file ids from
// first on.
func mergeExport(ctx context.Context, tx *sql.Tx, dir string, files []exportFile, first, runID int64) (mergeStats, error) {
	stats := mergeStats{rows: map[string]int64{}, duplicates: map[string]int64{}}
	exec := func(what, q string, args ...any) error {
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
	byTable := map[string][]string{}
	for _, f := range files {
		byTable[f.table] = append(byTable[f.table], f.in.local)
	}
	// Every table of the case gets its x_ copy, empty when the export has
	// no file of it.
	for _, t := range append(append([]string{}, specialTables...), fileTables...) {
		q := `create or replace temp table x_` + t + ` as select *, null::varchar as x_file from "` + t + `" limit 0`
		if paths := byTable[t]; len(paths) > 0 {
			list := make([]string, len(paths))
			for i, p := range paths {
				list[i] = sqlQuote(p)
			}
			q = `create or replace temp table x_` + t + ` as select * exclude (filename), filename as x_file
			     from read_parquet([` + strings.Join(list, ", ") + `], hive_partitioning = false, filename = true)`
		}
		if err := exec("read "+t, q); err != nil {
			return stats, err
		}
		rows, err := tx.QueryContext(ctx, `select x_file, count(*) from x_`+t+` group by all`)
		if err != nil {
			return stats, fmt.Errorf("count %s: %w", t, err)
		}
		for rows.Next() {
			var f string
			var n int64
			if err := rows.Scan(&f, &n); err != nil {
				rows.Close()
				return stats, err
			}
			stats.rows[f] = n
		}
		rows.Close()
	}

	// The exported evidence: files this case has loaded keep their file
	// here and bring nothing; the others get new ids.
	if err := exec("map files", `
		create or replace temp table x_map as
		with old as (
		    select x.file_id, x.sha256, x.status,
		           (select min(e.file_id) from evidence_files e
		            where e.sha256 = x.sha256 and e.status in ('loaded', 'partial')) as here
		    from x_evidence_files x
		)
		select file_id as old_id,
		       coalesce(here, ? + row_number() over (partition by here is null order by file_id) - 1) as new_id,
		       here is null as keep
		from old`, first); err != nil {
		return stats, err
	}
	via := "; merged from the Parquet export " + dir
	if err := exec("merge evidence", `
		insert into evidence_files by name
		select m.new_id as file_id, x.path, x.kind, x.format, x.sha256, x.bytes, x.records, x.duplicates, x.status,
		       coalesce(x.error, '') || ? as error, x.account_id, x.first_event, x.last_event, x.ingested_at,
		       d.new_id as duplicate_of, ? as run_id
		from x_evidence_files x
		join x_map m on m.old_id = x.file_id and m.keep
		left join x_map d on d.old_id = x.duplicate_of`, via, runID); err != nil {
		return stats, err
	}
	if err := exec("tidy notes", `update evidence_files set error = substr(error, 3) where run_id = ? and starts_with(error, '; merged from')`, runID); err != nil {
		return stats, err
	}

	// Keys this case holds before the merge: what it has keeps its copy.
	for _, q := range []string{
		`create or replace temp table x_new_principals as
		 select arn from (select arn, file_id from x_iam_users union all select arn, file_id from x_iam_groups union all select arn, file_id from x_iam_roles) x
		 join x_map m on m.old_id = x.file_id and m.keep
		 where arn not in (select arn from iam_users union all select arn from iam_groups union all select arn from iam_roles)`,
		`create or replace temp table x_new_policies as
		 select ref from (select arn as ref, file_id from x_iam_policies union all select policy_ref, file_id from x_inline_policies) x
		 join x_map m on m.old_id = x.file_id and m.keep
		 where ref not in (select arn from iam_policies union all select policy_ref from inline_policies)`,
		`create or replace temp table x_new_reports as
		 select x.report_id from x_credential_reports x join x_map m on m.old_id = x.report_id and m.keep
		 where x.content_sha256 not in (select content_sha256 from credential_reports)`,
	} {
		if err := exec("merge keys", q); err != nil {
			return stats, err
		}
	}

	// Events: identical copies of events in the case are duplicates, copies
	// that differ are kept as conflicting copies. The hash of each event's
	// key is computed here rather than taken from the export: a wrong one
	// would hide the event from later runs' search for copies.
	if err := exec("merge events", `
		create or replace temp table x_events_new as
		select x.* exclude (key_hash), m.new_id, `+keyHash("x.event_id", "x.recipient_account_id")+` as key_hash
		from x_events x join x_map m on m.old_id = x.file_id and m.keep`); err != nil {
		return stats, err
	}
	identical, err := mergeConflicts(ctx, tx)
	if err != nil {
		return stats, err
	}
	stats.duplicates = identical
	if err := exec("merge events", `
		insert into events by name
		select x.* exclude (x_file, new_id, file_id), x.new_id as file_id
		from x_events_new x
		where not exists (select 1 from events e
		                  where e.key_hash = x.key_hash and e.event_id = x.event_id
		                    and coalesce(e.recipient_account_id, '') = coalesce(x.recipient_account_id, ''))`); err != nil {
		return stats, err
	}

	for _, t := range fileTables {
		insert := "insert into"
		switch t {
		case "iam_users", "iam_groups", "iam_roles", "iam_policies", "inline_policies", "digests", "digest_signatures":
			insert = "insert or ignore into" // keyed tables: the case's row stays
		}
		q := insert + ` "` + t + `" by name
		      select x.* exclude (x_file, file_id), m.new_id as file_id
		      from x_` + t + ` x join x_map m on m.old_id = x.file_id and m.keep`
		switch t {
		case "insights":
			q += ` where not exists (select 1 from insights i where i.event_id = x.event_id and coalesce(i.recipient_account_id, '') = coalesce(x.recipient_account_id, ''))`
		case "iam_users", "iam_groups", "iam_roles":
			q += ` where x.arn in (select arn from x_new_principals)`
		case "iam_policies":
			q += ` where x.arn in (select ref from x_new_policies)`
		case "inline_policies":
			q += ` where x.policy_ref in (select ref from x_new_policies)`
		}
		if err := exec("merge "+t, q); err != nil {
			return stats, err
		}
	}
	for what, q := range map[string]string{
		"credential_reports": `insert into credential_reports by name
			select x.* exclude (x_file, report_id), m.new_id as report_id
			from x_credential_reports x join x_map m on m.old_id = x.report_id
			where x.report_id in (select report_id from x_new_reports)`,
		"credential_report_rows": `insert into credential_report_rows by name
			select x.* exclude (x_file, report_id, file_id), r.new_id as report_id, f.new_id as file_id
			from x_credential_report_rows x join x_map r on r.old_id = x.report_id join x_map f on f.old_id = x.file_id
			where x.report_id in (select report_id from x_new_reports)`,
		"access_key_rows": `insert into access_key_rows by name
			select x.* exclude (x_file, report_id), r.new_id as report_id
			from x_access_key_rows x join x_map r on r.old_id = x.report_id
			where x.report_id in (select report_id from x_new_reports)`,
		"group_members": `insert into group_members by name
			select x.* exclude (x_file, file_id), m.new_id as file_id
			from x_group_members x left join x_map m on m.old_id = x.file_id
			where x.user_arn in (select arn from x_new_principals)`,
		"policy_attachments": `insert into policy_attachments by name
			select x.* exclude (x_file) from x_policy_attachments x
			where x.principal_arn in (select arn from x_new_principals)`,
		"policy_statements": `insert into policy_statements by name
			select x.* exclude (x_file) from x_policy_statements x
			where x.policy_ref in (select ref from x_new_policies)`,
		"role_trust": `insert into role_trust by name
			select x.* exclude (x_file) from x_role_trust x
			where x.role_arn in (select arn from x_new_principals)`,
		"digest_log_files": `insert into digest_log_files by name
			select x.* exclude (x_file, digest_file_id), m.new_id as digest_file_id
			from x_digest_log_files x join x_map m on m.old_id = x.digest_file_id and m.keep`,
	} {
		if err := exec("merge "+what, q); err != nil {
			return stats, err
		}
	}
	var kept, files0 int64
	if err := tx.QueryRowContext(ctx, "select count(*) filter (where keep), count(*) from x_map").Scan(&kept, &files0); err != nil {
		return stats, err
	}
	stats.note = fmt.Sprintf("%d evidence files of the exported case merged, %d already in this case", kept, files0-kept)
	for _, t := range append(append([]string{"map", "events_new", "new_principals", "new_policies", "new_reports"}, specialTables...), fileTables...) {
		if err := exec("clean up", `drop table if exists temp.x_`+t); err != nil {
			return stats, err
		}
	}
	return stats, nil
}

// mergeConflicts keeps as conflicting copies the merged events that differ
// from the case's copy of the same event: both copies go to
// conflicting_events (the case's, kept, unless it is there already), with
// the SHA-256 of their canonical content as every copy has.
// It returns the identical copies by Parquet file.
func mergeConflicts(ctx context.Context, tx *sql.Tx) (map[string]int64, error) {
	identical := map[string]int64{}
	rows, err := tx.QueryContext(ctx, `
		with x as (
		    select x_file, event_id, recipient_account_id, new_id as file_id, record_index,
		           `+eventContent("x_file", "new_id")+`::varchar as content
		    from x_events_new
		),
		e as (
		    select event_id, recipient_account_id, file_id, record_index, `+eventContent()+`::varchar as content
		    from events
		    where key_hash in (select key_hash from x_events_new)
		      and exists (select 1 from x_events_new n
		                  where n.event_id = events.event_id and coalesce(n.recipient_account_id, '') = coalesce(events.recipient_account_id, ''))
		)
		select x.x_file, x.event_id, x.recipient_account_id, x.file_id, x.record_index, x.content,
		       e.file_id, e.record_index, e.content
		from x join e on e.event_id = x.event_id and coalesce(e.recipient_account_id, '') = coalesce(x.recipient_account_id, '')`)
	if err != nil {
		return nil, fmt.Errorf("compare merged events: %w", err)
	}
	type copyRow struct {
		eventID             string
		account             sql.NullString
		fileID, recordIndex int64
		content, contentSHA string
		kept                bool
	}
	var conflicts []copyRow
	for rows.Next() {
		var x, e copyRow
		var file string
		if err := rows.Scan(&file, &x.eventID, &x.account, &x.fileID, &x.recordIndex, &x.content, &e.fileID, &e.recordIndex, &e.content); err != nil {
			rows.Close()
			return nil, err
		}
		e.eventID, e.account, e.kept = x.eventID, x.account, true
		for _, c := range []*copyRow{&x, &e} {
			canon, err := canonicalJSON([]byte(c.content))
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("compare merged events: event %s: %w", c.eventID, err)
			}
			sum := sha256.Sum256(canon)
			c.content, c.contentSHA = string(canon), hex.EncodeToString(sum[:])
		}
		if x.contentSHA != e.contentSHA {
			conflicts = append(conflicts, x, e)
		} else {
			identical[file]++
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, c := range conflicts {
		_, err := tx.ExecContext(ctx, `
			insert into conflicting_events (event_id, recipient_account_id, file_id, record_index, content_sha256, content, kept)
			select ?, ?, ?, ?, ?, ?::json, ?
			where not exists (select 1 from conflicting_events
			                  where event_id = ? and file_id = ? and record_index = ?)`,
			c.eventID, c.account, c.fileID, c.recordIndex, c.contentSHA, c.content, c.kept, c.eventID, c.fileID, c.recordIndex)
		if err != nil {
			return nil, fmt.Errorf("record conflicting copies: %w", err)
		}
	}
	return identical, nil
}
