package main

import (
	"compress/gzip"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/credtrail/credtrail/ingest"
)

// sampleAnalyzed ingests and analyzes the sample case into dir/name.
func sampleAnalyzed(t *testing.T, dir, name string, paths ...string) string {
	t.Helper()
	caseDB := filepath.Join(dir, name)
	if len(paths) == 0 {
		paths = []string{sampleCase + "/AWSLogs", sampleCase + "/iam", sampleCase + "/cloudtrail-public-keys.json"}
	}
	for _, args := range [][]string{append([]string{"ingest", caseDB}, paths...), {"analyze", caseDB}} {
		if code, out, errOut := runCLI(t, args...); code != exitOK {
			t.Fatalf("%s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
	}
	return caseDB
}

func readManifest(t *testing.T, dir string) ingest.ExportManifest {
	t.Helper()
	body, err := os.ReadFile(filepath.Join(dir, ingest.ExportManifestName))
	if err != nil {
		t.Fatal(err)
	}
	var m ingest.ExportManifest
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func tableCounts(t *testing.T, db *sql.DB, tables []string) map[string]int64 {
	t.Helper()
	n := map[string]int64{}
	for _, table := range tables {
		var c int64
		if err := db.QueryRow(`select count(*) from "` + table + `"`).Scan(&c); err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		n[table] = c
	}
	return n
}

// parquetOf is the read_parquet call over one table of an export.
func parquetOf(dir, table string) string {
	glob := filepath.Join(dir, table, "*.parquet")
	if table == "events" {
		glob = filepath.Join(dir, table, "*", "*", "*.parquet")
	}
	return "read_parquet('" + strings.ReplaceAll(glob, "'", "''") + "', hive_partitioning = false)"
}

// findingRows is every finding of a case as text, in finding_id order.
func findingRows(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`select concat_ws(' | ', finding_id, rule_id, severity, account_id, principal_arn, resource, title, detail,
	    evidence::varchar, first_seen, last_seen, event_count) from findings order by finding_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// The export of the sample case reads back with DuckDB: every table with
// its rows, events in partitions that match their rows, and the findings
// computed from the Parquet files alone equal the case's.
func TestExportParquet(t *testing.T) {
	dir := t.TempDir()
	caseDB := sampleAnalyzed(t, dir, "case.duckdb")
	out := filepath.Join(dir, "lake's export") // a quote in the path the user gives
	if code, stdout, errOut := runCLI(t, "export", caseDB, "--parquet", out); code != exitOK {
		t.Fatalf("export: exit %d\n%s%s", code, stdout, errOut)
	}
	m := readManifest(t, out)
	var tables []string
	for _, tb := range m.Tables {
		tables = append(tables, tb.Name)
	}
	c, err := ingest.OpenReadOnly(context.Background(), caseDB, ingest.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := tableCounts(t, c.DB, tables)
	c.Close()
	if want["events"] == 0 || want["findings"] == 0 || want["iam_roles"] == 0 || want["evidence_files"] == 0 {
		t.Fatalf("the sample case lacks rows to export: %v", want)
	}

	lake := filepath.Join(dir, "from-parquet.duckdb")
	fresh, err := ingest.Open(context.Background(), lake, ingest.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	for _, table := range tables {
		var got int64
		if err := fresh.DB.QueryRow("select count(*) from " + parquetOf(out, table)).Scan(&got); err != nil {
			t.Fatalf("read %s back: %v", table, err)
		}
		if got != want[table] || got != m.Tables[indexOf(tables, table)].Rows {
			t.Errorf("%s: %d rows in the Parquet files, %d in the case, %d in the manifest", table, got, want[table], m.Tables[indexOf(tables, table)].Rows)
		}
	}

	// Each events file lies in the partition of its rows.
	partition := regexp.MustCompile(`^events/account_id=([0-9]{12}|other)/date=[0-9]{4}-[0-9]{2}-[0-9]{2}/events_[0-9]+\.parquet$`)
	events := m.Tables[indexOf(tables, "events")]
	if len(events.Files) < 2 {
		t.Fatalf("events in %d files, want one per account and day", len(events.Files))
	}
	for _, f := range events.Files {
		if !partition.MatchString(f.Path) {
			t.Errorf("events file %s is not in an account_id=/date= partition", f.Path)
		}
	}
	var misplaced int64
	glob := strings.ReplaceAll(filepath.Join(out, "events", "*", "*", "*.parquet"), "'", "''")
	if err := fresh.DB.QueryRow(`select count(*) from read_parquet('` + glob + `', hive_partitioning = true)
	    where account_id <> recipient_account_id or date::varchar <> strftime(event_time at time zone 'UTC', '%Y-%m-%d')`).Scan(&misplaced); err != nil {
		t.Fatal(err)
	}
	if misplaced != 0 {
		t.Errorf("%d events lie in a partition that is not their account and UTC day", misplaced)
	}

	// The findings computed from nothing but the Parquet files.
	for _, table := range tables {
		if _, err := fresh.DB.Exec(`delete from "` + table + `"; insert into "` + table + `" by name select * from ` + parquetOf(out, table)); err != nil {
			t.Fatalf("load %s: %v", table, err)
		}
	}
	fresh.Close()
	if code, stdout, errOut := runCLI(t, "analyze", lake); code != exitOK {
		t.Fatalf("analyze the Parquet: exit %d\n%s%s", code, stdout, errOut)
	}
	caseFindings, lakeFindings := findingsOf(t, caseDB), findingsOf(t, lake)
	if len(caseFindings) == 0 {
		t.Fatal("the sample case has no findings")
	}
	if strings.Join(caseFindings, "\n") != strings.Join(lakeFindings, "\n") {
		t.Errorf("findings over the Parquet differ from the case's: %d against %d\nfirst of the case: %s\nfirst of the Parquet: %s",
			len(lakeFindings), len(caseFindings), caseFindings[0], lakeFindings[0])
	}
}

func findingsOf(t *testing.T, caseDB string) []string {
	t.Helper()
	c, err := ingest.OpenReadOnly(context.Background(), caseDB, ingest.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return findingRows(t, c.DB)
}

func indexOf(l []string, s string) int {
	for i, x := range l {
		if x == s {
			return i
		}
	}
	return -1
}

// A folder that holds something is refused, naming it, unless --force; with
// --force an earlier export is replaced and other files are left alone.
func TestExportRefusesFolderNotEmpty(t *testing.T) {
	dir := t.TempDir()
	caseDB := filepath.Join(dir, "case.duckdb")
	if code, out, errOut := runCLI(t, "ingest", caseDB, shapes); code != exitOK {
		t.Fatalf("ingest: exit %d\n%s%s", code, out, errOut)
	}
	out := filepath.Join(dir, "export")
	notes := filepath.Join(out, "notes.txt")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(notes, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, errOut := runCLI(t, "export", caseDB, "--parquet", out)
	if code != exitError || !strings.Contains(errOut, "export folder "+out+" is not empty") {
		t.Fatalf("exit %d, want %d naming the folder\n%s%s", code, exitError, stdout, errOut)
	}
	if _, err := os.Stat(filepath.Join(out, "events")); err == nil {
		t.Error("a refused export wrote events")
	}
	if code, _, errOut := runCLI(t, "export", caseDB); code != exitUsage || !strings.Contains(errOut, "--parquet DIR") {
		t.Errorf("without --parquet: exit %d, want %d\n%s", code, exitUsage, errOut)
	}
	for i := 0; i < 2; i++ { // the second replaces the first
		if code, stdout, errOut := runCLI(t, "export", caseDB, "--parquet", out, "--force"); code != exitOK {
			t.Fatalf("export --force: exit %d\n%s%s", code, stdout, errOut)
		}
	}
	if b, err := os.ReadFile(notes); err != nil || string(b) != "mine" {
		t.Errorf("--force touched a file that is not the export's: %q, %v", b, err)
	}
	m := readManifest(t, out)
	var files []string
	filepath.WalkDir(filepath.Join(out, "events"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if events := m.Tables[indexOf(tableNames(m), "events")]; events.Rows != 9 || len(files) != len(events.Files) {
		t.Errorf("after two exports: %d events in the manifest, %d files on disk, %d in the manifest", events.Rows, len(files), len(events.Files))
	}
}

func tableNames(m ingest.ExportManifest) []string {
	var l []string
	for _, t := range m.Tables {
		l = append(l, t.Name)
	}
	return l
}

// copyTree copies the files under src for which keep(rel) holds into dst.
func copyTree(t *testing.T, src, dst string, keep func(rel string) bool) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if !keep(filepath.ToSlash(rel)) {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dst, rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// mergeFacts is what a merged case must share with the case of the whole:
// rows per table, the events' content, the findings (evidence files named
// by SHA-256, as their file ids differ) and the SHA-256 of the evidence.
func mergeFacts(t *testing.T, caseDB string) (counts map[string]int64, events string, findings []string, evidence map[string]bool) {
	t.Helper()
	c, err := ingest.OpenReadOnly(context.Background(), caseDB, ingest.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	counts = tableCounts(t, c.DB, []string{"events", "conflicting_events", "insights", "credential_reports", "credential_report_rows",
		"access_key_rows", "iam_users", "iam_groups", "iam_roles", "iam_policies", "inline_policies", "group_members",
		"policy_attachments", "policy_statements", "role_trust", "digests", "digest_signatures", "digest_log_files", "public_keys",
		"password_policy", "account_summary", "findings", "permission_usage"})
	if err := c.DB.QueryRow(`select count(distinct (event_id, recipient_account_id)) || ' ' ||
	    bit_xor(hash(row(*columns(* exclude (file_id, record_index))))) from events`).Scan(&events); err != nil {
		t.Fatal(err)
	}
	sha := map[string]string{}
	evidence = map[string]bool{}
	rows, err := c.DB.Query("select file_id, sha256, kind from evidence_files where status = 'loaded'")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, s, kind string
		if err := rows.Scan(&id, &s, &kind); err != nil {
			t.Fatal(err)
		}
		sha[id] = s
		if kind != ingest.KindParquetExport {
			evidence[s] = true
		}
	}
	rows.Close()
	fileIDs := regexp.MustCompile(`"file_ids?":\[?[0-9,]+\]?`)
	number := regexp.MustCompile(`[0-9]+`)
	for _, f := range findingRows(t, c.DB) {
		findings = append(findings, fileIDs.ReplaceAllStringFunc(f, func(m string) string {
			return number.ReplaceAllStringFunc(m, func(id string) string { return sha[id] })
		}))
	}
	return counts, events, findings, evidence
}

// Two cases made from halves of the sample case that overlap (a day of logs
// and the IAM exports in both, and one log file delivered again, unpacked,
// into the first half only), exported and ingested together, make the case
// of the whole: the same rows, events, findings and evidence, each event
// once, and every Parquet file recorded as evidence of the merge.
func TestIngestMergesExports(t *testing.T) {
	dir := t.TempDir()
	day := regexp.MustCompile(`/2026/1[01]/([0-9]{2})/`)
	inHalf := func(half string) func(string) bool {
		return func(rel string) bool {
			m := day.FindStringSubmatch("/" + rel)
			switch {
			case m == nil:
				return true // iam, public keys
			case half == "a":
				return m[1] >= "25" && m[1] <= "28"
			default:
				return m[1] == "28" || m[1] == "29" || m[1] == "30" || m[1] == "31" || m[1] == "01"
			}
		}
	}
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	evidence := func(rel string) bool { // what the case of the whole is made of
		return strings.HasPrefix(rel, "AWSLogs/") || strings.HasPrefix(rel, "iam/") || rel == "cloudtrail-public-keys.json"
	}
	copyTree(t, sampleCase, a, func(rel string) bool { return evidence(rel) && inHalf("a")(rel) })
	copyTree(t, sampleCase, b, func(rel string) bool { return evidence(rel) && inHalf("b")(rel) })
	logs, err := filepath.Glob(filepath.Join(b, "AWSLogs", "*", "*", "CloudTrail", "*", "2026", "10", "29", "*.json.gz"))
	if err != nil || len(logs) == 0 {
		t.Fatalf("no log file of the 29th in the sample case: %v", err)
	}
	again := gunzipped(t, logs[0])
	if err := os.WriteFile(filepath.Join(a, "delivered-again.json"), again, 0o644); err != nil {
		t.Fatal(err)
	}
	var delivered struct{ Records []json.RawMessage }
	if err := json.Unmarshal(again, &delivered); err != nil || len(delivered.Records) == 0 {
		t.Fatalf("%s: %d records, %v", logs[0], len(delivered.Records), err)
	}

	whole := sampleAnalyzed(t, dir, "whole.duckdb", sampleCase+"/AWSLogs", sampleCase+"/iam", sampleCase+"/cloudtrail-public-keys.json")
	var exports []string
	for _, half := range []string{a, b} {
		caseDB := half + ".duckdb"
		export := half + "-parquet"
		for _, args := range [][]string{{"ingest", caseDB, half}, {"export", caseDB, "--parquet", export}} {
			if code, out, errOut := runCLI(t, args...); code != exitOK {
				t.Fatalf("%s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
			}
		}
		exports = append(exports, export)
	}
	merged := sampleAnalyzed(t, dir, "merged.duckdb", exports...)

	wantCounts, wantEvents, wantFindings, wantEvidence := mergeFacts(t, whole)
	gotCounts, gotEvents, gotFindings, gotEvidence := mergeFacts(t, merged)
	for table, n := range wantCounts {
		if gotCounts[table] != n {
			t.Errorf("%s: %d rows merged, %d in the case of the whole", table, gotCounts[table], n)
		}
	}
	if gotEvents != wantEvents {
		t.Errorf("events (count, content hash): merged %s, whole %s", gotEvents, wantEvents)
	}
	if strings.Join(gotFindings, "\n") != strings.Join(wantFindings, "\n") {
		t.Errorf("findings differ: %d merged, %d in the whole", len(gotFindings), len(wantFindings))
		for i := range min(len(gotFindings), len(wantFindings)) {
			if gotFindings[i] != wantFindings[i] {
				t.Errorf("first difference:\nmerged: %s\nwhole:  %s", gotFindings[i], wantFindings[i])
				break
			}
		}
	}
	sum := sha256.Sum256(again)
	wantEvidence[hex.EncodeToString(sum[:])] = true // the copy delivered again is evidence too
	for s := range wantEvidence {
		if !gotEvidence[s] {
			t.Errorf("evidence file %s is not in the merged case", s)
		}
	}
	for s := range gotEvidence {
		if !wantEvidence[s] {
			t.Errorf("the merged case holds evidence %s that neither half had", s)
		}
	}

	// Every file of both exports is evidence of the merge, with its SHA-256,
	// and the events delivered twice are counted once, as duplicates.
	c, err := ingest.OpenReadOnly(context.Background(), merged, ingest.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	recorded := map[string]string{}
	var duplicates int64
	// A file of the second export with the bytes of one of the first (a
	// table both halves hold alike) is a duplicate of it.
	rows, err := c.DB.Query(`select path, sha256, duplicates from evidence_files
	    where kind = 'parquet_export' and (status = 'loaded' or (status = 'duplicate' and path like '%b-parquet%'))`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var p, s string
		var d sql.NullInt64
		if err := rows.Scan(&p, &s, &d); err != nil {
			t.Fatal(err)
		}
		recorded[p] = s
		if !strings.HasSuffix(p, ".json") && strings.Contains(p, "events") {
			duplicates += d.Int64
		}
	}
	rows.Close()
	for _, export := range exports {
		m := readManifest(t, export)
		for _, tb := range m.Tables {
			for _, f := range tb.Files {
				p := filepath.Join(export, filepath.FromSlash(f.Path))
				if recorded[p] != f.SHA256 && tb.Name != "findings" && !strings.HasPrefix(tb.Name, "action") {
					if _, skipped := map[string]bool{"case_meta": true, "ingest_runs": true, "report_outputs": true, "log_validation": true,
						"analysis_parameters": true, "rule_coverage": true, "account_as_of": true, "permission_usage": true,
						"generated_policies": true, "usage_days": true, "usage_calls": true, "usage_activity": true}[tb.Name]; !skipped {
						t.Errorf("%s: recorded with SHA-256 %q, the manifest says %s", p, recorded[p], f.SHA256)
					}
				}
			}
		}
		if recorded[filepath.Join(export, ingest.ExportManifestName)] == "" {
			t.Errorf("the manifest of %s is not recorded as evidence", export)
		}
	}
	c.Close()
	if duplicates != int64(len(delivered.Records)) {
		t.Errorf("%d duplicate events recorded, want the %d delivered twice", duplicates, len(delivered.Records))
	}

	// Given again, the exports are re-submissions: nothing changes.
	if code, out, errOut := runCLI(t, "ingest", merged, exports[0], exports[1]); code != exitOK || !strings.Contains(out, "resubmitted") {
		t.Errorf("ingest the exports again: exit %d\n%s%s", code, out, errOut)
	}
}

func gunzipped(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(z)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// An export changed after it was written is rejected, naming the file whose
// SHA-256 differs from the manifest's; the rest of the run still loads.
func TestIngestRejectsChangedExport(t *testing.T) {
	dir := t.TempDir()
	caseDB := filepath.Join(dir, "case.duckdb")
	export := filepath.Join(dir, "export")
	for _, args := range [][]string{{"ingest", caseDB, shapes}, {"export", caseDB, "--parquet", export}} {
		if code, out, errOut := runCLI(t, args...); code != exitOK {
			t.Fatalf("%s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
	}
	changed := filepath.Join(export, "iam_users", "iam_users.parquet")
	f, err := os.OpenFile(changed, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{0})
	f.Close()
	other := filepath.Join(dir, "other.duckdb")
	code, out, errOut := runCLI(t, "ingest", other, export, shapes)
	if code != exitOK || !strings.Contains(errOut, changed+": SHA-256 ") || !strings.Contains(errOut, "the export was changed") {
		t.Fatalf("exit %d, want %d and the changed file named\n%s%s", code, exitOK, out, errOut)
	}
	c, err := ingest.OpenReadOnly(context.Background(), other, ingest.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var events, rejected, loaded int64
	if err := c.DB.QueryRow(`select (select count(*) from events),
	    count(*) filter (where kind = 'parquet_export' and status = 'rejected'),
	    count(*) filter (where kind = 'parquet_export' and status = 'loaded') from evidence_files`).Scan(&events, &rejected, &loaded); err != nil {
		t.Fatal(err)
	}
	if events != 9 || rejected == 0 || loaded != 0 {
		t.Errorf("%d events (want the 9 of the other evidence), %d export files rejected, %d loaded (want none)", events, rejected, loaded)
	}
}
