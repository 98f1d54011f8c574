package ingest

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const fixtureDir = "testdata/cloudtrail"

// copyTree copies a fixture folder into a temporary one, gzipping the .json
// files under AWSLogs as CloudTrail delivers them.
func copyTree(tb testing.TB, src string) string {
	tb.Helper()
	dst := tb.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		body, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out := filepath.Join(dst, rel)
		if strings.Contains(rel, "AWSLogs") && strings.HasSuffix(rel, ".json") {
			body, out = gzipBytes(tb, body), out+".gz"
		}
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		return os.WriteFile(out, body, 0o644)
	})
	if err != nil {
		tb.Fatal(err)
	}
	return dst
}

func gzipBytes(tb testing.TB, b []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func ingestPaths(tb testing.TB, c *Case, paths ...string) []FileOutcome {
	tb.Helper()
	out, err := c.Ingest(context.Background(), paths, IngestOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func outcomeOf(tb testing.TB, outcomes []FileOutcome, suffix string) FileOutcome {
	tb.Helper()
	for _, o := range outcomes {
		if strings.HasSuffix(o.Path, suffix) {
			return o
		}
	}
	tb.Fatalf("no outcome for %s in %+v", suffix, outcomes)
	return FileOutcome{}
}

func TestIngestShapes(t *testing.T) {
	c := openTestCase(t)
	dir := copyTree(t, fixtureDir)
	outcomes := ingestPaths(t, c, filepath.Join(dir, "AWSLogs"), filepath.Join(dir, "shapes"))

	wantFiles := []struct {
		suffix  string
		records int64
	}{
		{"_a1b2c3d4e5f6g7h8.json.gz", 5},
		{"array.json", 2},
		{"events.ndjson", 3},
		{"single-event.json", 1},
		{"lookup-events.json", 1},
		{"event-history.csv", 2},
		{"insights.json", 1},
		{"empty-array.json", 0},
		{"empty-records.json", 0},
	}
	for _, w := range wantFiles {
		o := outcomeOf(t, outcomes, w.suffix)
		if o.Status != StatusLoaded || o.Kind != KindCloudTrail || o.Records != w.records || o.Duplicates != 0 {
			t.Errorf("%s: got %+v, want loaded cloudtrail with %d records", w.suffix, o, w.records)
		}
	}
	if n := queryInt(t, c.DB, "select count(*) from events"); n != 14 {
		t.Errorf("events: %d, want 14", n)
	}
	if n := queryInt(t, c.DB, "select count(*) from insights where state = 'Start' and insight_type = 'ApiCallRateInsight'"); n != 1 {
		t.Errorf("insights: %d, want 1", n)
	}

	type row struct {
		eventID, identityType, principalARN, userName, iamAction, accessKey sql.NullString
		readOnly, mfaUsed                                                   sql.NullBool
		consoleLogin                                                        sql.NullString
		eventTime                                                           time.Time
	}
	get := func(id string) row {
		t.Helper()
		var r row
		err := c.DB.QueryRow(`select event_id, identity_type, principal_arn, user_name, iam_action, access_key_id,
			read_only, mfa_used, console_login, event_time from events where event_id = ?`, id).
			Scan(&r.eventID, &r.identityType, &r.principalARN, &r.userName, &r.iamAction, &r.accessKey,
				&r.readOnly, &r.mfaUsed, &r.consoleLogin, &r.eventTime)
		if err != nil {
			t.Fatalf("event %s: %v", id, err)
		}
		return r
	}
	ns := func(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }
	nb := func(b bool) sql.NullBool { return sql.NullBool{Bool: b, Valid: true} }
	tm := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		id   string
		want row
	}{
		{"00000000-0000-4000-8000-000000000001", row{identityType: ns("Root"), principalARN: ns("arn:aws:iam::111122223333:root"),
			userName: ns("acme-prod"), iamAction: ns("signin:ConsoleLogin"), readOnly: nb(false), mfaUsed: nb(false),
			consoleLogin: ns("Success"), eventTime: tm("2024-03-05T10:01:02Z")}},
		{"00000000-0000-4000-8000-000000000002", row{identityType: ns("IAMUser"), principalARN: ns("arn:aws:iam::111122223333:user/dev/alice"),
			userName: ns("alice"), iamAction: ns("s3:ListAllMyBuckets"), accessKey: ns("AKIAEXAMPLEALICE0001"), readOnly: nb(true),
			eventTime: tm("2024-03-05T10:02:03Z")}},
		// Assumed role: the role ARN with its path comes from the session issuer; boto3 time spelling; "false" string.
		{"00000000-0000-4000-8000-000000000003", row{identityType: ns("AssumedRole"), principalARN: ns("arn:aws:iam::111122223333:role/service/deploy"),
			userName: ns("deploy"), iamAction: ns("lambda:UpdateFunctionCode"), accessKey: ns("ASIAEXAMPLEDEPLOY001"), readOnly: nb(false),
			eventTime: tm("2024-03-05T10:03:04Z")}},
		// AWS service: no principal; basic ISO time.
		{"00000000-0000-4000-8000-000000000004", row{identityType: ns("AWSService"), iamAction: ns("s3:GetBucketAcl"), readOnly: nb(true),
			eventTime: tm("2024-03-05T10:04:05Z")}},
		// Federated user: the IAM user that called GetFederationToken.
		{"00000000-0000-4000-8000-000000000010", row{identityType: ns("FederatedUser"), principalARN: ns("arn:aws:iam::111122223333:user/broker"),
			userName: ns("broker"), iamAction: ns("ec2:DescribeInstances"), accessKey: ns("ASIAEXAMPLEFED00001"), readOnly: nb(true),
			eventTime: tm("2024-03-06T08:01:00Z")}},
		// Identity Center: no IAM principal, the user from onBehalfOf.
		{"00000000-0000-4000-8000-000000000011", row{identityType: ns("IdentityCenterUser"), userName: ns("94482488-3041-7026-18f3-be45837cd0e4"),
			iamAction: ns("signin:UserAuthentication"), readOnly: nb(false), eventTime: tm("2024-03-06T08:02:00Z")}},
		// Assumed role without a session issuer, in another partition: role ARN derived from the assumed-role ARN.
		{"00000000-0000-4000-8000-000000000020", row{identityType: ns("AssumedRole"), principalARN: ns("arn:aws-us-gov:iam::222233334444:role/gov-admin"),
			iamAction: ns("cloudwatch:GetMetricData"), readOnly: nb(true), eventTime: tm("2024-03-07T01:00:00Z")}},
		{"00000000-0000-4000-8000-000000000021", row{identityType: ns("Root"), principalARN: ns("arn:aws-us-gov:iam::222233334444:root"),
			iamAction: ns("iam:ListUsers"), accessKey: ns("AKIAEXAMPLEROOTKEY01"), readOnly: nb(true), eventTime: tm("2024-03-07T01:01:00Z")}},
		// Pretty-printed single event; MFAUsed in upper case.
		{"00000000-0000-4000-8000-000000000030", row{identityType: ns("IAMUser"), principalARN: ns("arn:aws:iam::333344445555:user/carol"),
			userName: ns("carol"), iamAction: ns("signin:ConsoleLogin"), readOnly: nb(false), mfaUsed: nb(true), consoleLogin: ns("Failure"),
			eventTime: tm("2024-03-08T12:00:00Z")}},
		// lookup-events: the record inside CloudTrailEvent.
		{"00000000-0000-4000-8000-000000000040", row{identityType: ns("IAMUser"), principalARN: ns("arn:aws:iam::111122223333:user/dave"),
			userName: ns("dave"), iamAction: ns("sts:GetCallerIdentity"), accessKey: ns("AKIAEXAMPLEDAVE00001"), readOnly: nb(true),
			eventTime: tm("2024-03-09T17:41:02Z")}},
		// Event-history CSV: names only, identity type unknown.
		{"00000000-0000-4000-8000-000000000050", row{userName: ns("erin"), iamAction: ns("iam:AttachUserPolicy"),
			accessKey: ns("ASIAEXAMPLEERIN00001"), readOnly: nb(false), eventTime: tm("2024-03-10T11:00:00Z")}},
		{"00000000-0000-4000-8000-000000000051", row{userName: ns("HIDDEN_DUE_TO_SECURITY_REASONS"), iamAction: ns("signin:ConsoleLogin"),
			readOnly: nb(false), eventTime: tm("2024-03-10T11:05:00Z")}},
	}
	for _, tc := range cases {
		t.Run(tc.id, func(t *testing.T) {
			got := get(tc.id)
			tc.want.eventID = ns(tc.id)
			if !got.eventTime.Equal(tc.want.eventTime) {
				t.Errorf("event_time %v, want %v", got.eventTime, tc.want.eventTime)
			}
			got.eventTime, tc.want.eventTime = time.Time{}, time.Time{}
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}

	// An event without an eventID is keyed by a hash of its content.
	if n := queryInt(t, c.DB, "select count(*) from events where event_id like 'sha256:%' and event_name = 'AssumeRole'"); n != 1 {
		t.Errorf("event without eventID: %d rows", n)
	}
	// Nested parts stay whole, as JSON.
	if n := queryInt(t, c.DB, `select count(*) from events where (tls_details ->> '$.tlsVersion') = 'TLSv1.3'
		and (user_identity ->> '$.userName') = 'acme-prod'`); n != 1 {
		t.Error("tls_details or user_identity not kept as JSON")
	}
	// Event-history resources are parsed JSON.
	if n := queryInt(t, c.DB, `select count(*) from events where (resources -> '$[0]' ->> '$.resourceName') = 'arn:aws:iam::aws:policy/AdministratorAccess'`); n != 1 {
		t.Error("event-history resources not kept as JSON")
	}
	// file_id + record_index point at the record in the evidence.
	if n := queryInt(t, c.DB, `select count(*) from events e join evidence_files f using (file_id)
		where f.path like '%single-event.json' and e.record_index = 0 and e.event_id = '00000000-0000-4000-8000-000000000030'`); n != 1 {
		t.Error("file_id/record_index do not point back at the record")
	}
	// Evidence rows: account and time span of a file come from its records.
	var account string
	var first, last time.Time
	err := c.DB.QueryRow(`select account_id, first_event, last_event from evidence_files where path like '%events.ndjson'`).Scan(&account, &first, &last)
	if err != nil {
		t.Fatal(err)
	}
	if account != "222233334444" || !first.Equal(tm("2024-03-07T01:00:00Z")) || !last.Equal(tm("2024-03-07T01:02:00Z")) {
		t.Errorf("evidence of events.ndjson: %s %v %v", account, first, last)
	}
}

func TestIngestRejectsBadFilesAndLoadsTheRest(t *testing.T) {
	c := openTestCase(t)
	dir := copyTree(t, fixtureDir)
	outcomes := ingestPaths(t, c, dir)
	wantReject := map[string]string{
		"bad/truncated.json":     "truncated.json",
		"bad/zero-bytes.json":    "empty file",
		"bad/bad-time.json":      `record 1: eventTime: invalid time "yesterday"`,
		"bad/epoch-time.json":    `record 1: eventTime: "epoch" is outside the years 2000-2100`,
		"bad/future-time.json":   `record 2: eventTime: "3024-01-01T00:00:00Z" is outside the years 2000-2100`,
		"bad/invalid-utf8.json":  "utf-8",
		"bad/wrong-header.csv":   "unrecognised text",
		"bad/unknown-shape.json": "unknown shape",
		"bad/corrupt.json.gz":    "gzip",
	}
	for suffix, reason := range wantReject {
		o := outcomeOf(t, outcomes, suffix)
		if o.Status != StatusRejected {
			t.Errorf("%s: status %s, want rejected", suffix, o.Status)
			continue
		}
		if !strings.Contains(strings.ToLower(o.Error), strings.ToLower(reason)) {
			t.Errorf("%s: reason %q does not mention %q", suffix, o.Error, reason)
		}
		if strings.Contains(o.Error, os.TempDir()+"/credtrail-") {
			t.Errorf("%s: reason names a scratch file: %q", suffix, o.Error)
		}
	}
	// Nothing of a rejected file is loaded: the good record of bad-time.json is not there either.
	if n := queryInt(t, c.DB, "select count(*) from events where event_id like 'bad-time-%' or event_id like 'x%' or event_id like 'utf8-%'"); n != 0 {
		t.Errorf("%d events of rejected files loaded", n)
	}
	if n := queryInt(t, c.DB, "select count(*) from events"); n != 14 {
		t.Errorf("good files: %d events, want 14", n)
	}
	if n := queryInt(t, c.DB, "select count(*) from evidence_files where status = 'rejected' and error is not null and records is null"); n != int64(len(wantReject)) {
		t.Errorf("rejected evidence rows: %d, want %d", n, len(wantReject))
	}
}

func TestReingestAddsNothing(t *testing.T) {
	c := openTestCase(t)
	dir := copyTree(t, fixtureDir)
	shapes := filepath.Join(dir, "shapes")
	first := ingestPaths(t, c, shapes)
	events := queryInt(t, c.DB, "select count(*) from events")
	second := ingestPaths(t, c, shapes)
	if len(second) != len(first) {
		t.Fatalf("second run saw %d files, first %d", len(second), len(first))
	}
	for _, o := range second {
		if o.Status != StatusResubmitted {
			t.Errorf("%s: %s on re-ingest, want resubmitted", o.Path, o.Status)
		}
	}
	if n := queryInt(t, c.DB, "select count(*) from events"); n != events {
		t.Errorf("re-ingest changed events from %d to %d", events, n)
	}
	if n := queryInt(t, c.DB, "select count(*) from evidence_files"); n != int64(len(first)) {
		t.Errorf("evidence rows after a re-ingest: %d, want the %d of the first run", n, len(first))
	}

	// The same events in a differently compressed file: a new file, no new events.
	body, err := os.ReadFile(filepath.Join(shapes, "array.json"))
	if err != nil {
		t.Fatal(err)
	}
	regz := filepath.Join(t.TempDir(), "array-again.json.gz")
	if err := os.WriteFile(regz, gzipBytes(t, body), 0o644); err != nil {
		t.Fatal(err)
	}
	o := ingestPaths(t, c, regz)[0]
	if o.Status != StatusLoaded || o.Records != 2 || o.Duplicates != 2 {
		t.Errorf("recompressed copy: %+v, want loaded with 2 records, 2 duplicates", o)
	}
	if n := queryInt(t, c.DB, "select count(*) from events"); n != events {
		t.Errorf("recompressed copy added %d events", n-events)
	}
}

// Copies of an event in one run: identical ones are duplicates (counted once,
// in one of the files), copies that differ, even in one file, conflict and
// the earlier record of the file is kept (conflicts_test.go has the rest).
func TestRedeliveredEventsCountedOnceAndConflictsKept(t *testing.T) {
	c := openTestCase(t)
	dir := t.TempDir()
	rec := func(id, agent string) string {
		return `{"eventID":"` + id + `","eventTime":"2024-01-01T00:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","recipientAccountId":"111122223333","userAgent":"` + agent + `"}`
	}
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), gzipBytes(t, []byte(body)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("b.json.gz", `{"Records":[`+rec("e1", "from-b")+`,`+rec("e2", "same")+`]}`)
	write("a.json.gz", `{"Records":[`+rec("e2", "same")+`,`+rec("e3", "from-a")+`,`+rec("e3", "from-a-again")+`]}`)
	outcomes := ingestPaths(t, c, dir)
	a, b := outcomeOf(t, outcomes, "a.json.gz"), outcomeOf(t, outcomes, "b.json.gz")
	if a.Records != 3 || b.Records != 2 || a.Duplicates+b.Duplicates != 1 ||
		a.Error != "2 records have copies with other content in the case (see conflicting_events)" || b.Error != "" {
		t.Errorf("a: %+v\nb: %+v", a, b)
	}
	if n := queryInt(t, c.DB, "select count(*) from events"); n != 3 {
		t.Errorf("%d events, want 3", n)
	}
	var agent string
	var idx int64
	if err := c.DB.QueryRow("select user_agent, record_index from events where event_id = 'e3'").Scan(&agent, &idx); err != nil {
		t.Fatal(err)
	}
	if agent != "from-a" || idx != 1 {
		t.Errorf("kept copy of e3: %s at %d, want the first in a.json.gz", agent, idx)
	}
	if n := queryInt(t, c.DB, "select count(*) from conflicting_events where event_id = 'e3' and kept = (record_index = 1)"); n != 2 {
		t.Errorf("conflicting_events: %d rows of e3 with the right kept flag, want 2", n)
	}
}

// Records files are read in place when DuckDB can take their path as it is,
// and through a scratch link otherwise (a glob character in the path, or an
// extension that does not say whether the content is compressed); in a mixed
// batch every record must still point at its own file.
func TestRecordsFilesReadInPlaceOrThroughALink(t *testing.T) {
	c := openTestCase(t)
	dir := t.TempDir()
	files := []struct {
		name string
		gzip bool
		n    int
	}{
		{"a.json.gz", true, 1},
		{"b-gzipped-without-extension.json", true, 2},
		{"c [copy].json.gz", true, 3},
		{"d-plain.json", false, 4},
		{"e-plain-named.gz", false, 5},
		{"f*star.json", false, 6},
		{"g.json.gz", true, 7},
	}
	for _, f := range files {
		var recs []string
		for i := range f.n {
			recs = append(recs, fmt.Sprintf(`{"eventID":"%s-%d","eventTime":"2024-01-01T00:00:00Z","eventName":"GetObject","recipientAccountId":"111122223333"}`, f.name, i))
		}
		body := []byte(`{"Records":[` + strings.Join(recs, ",") + `]}`)
		if f.gzip {
			body = gzipBytes(t, body)
		}
		if err := os.WriteFile(filepath.Join(dir, f.name), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	outcomes := ingestPaths(t, c, dir)
	for _, f := range files {
		o := outcomeOf(t, outcomes, f.name)
		if o.Status != StatusLoaded || o.Records != int64(f.n) {
			t.Errorf("%s: %+v, want loaded with %d records", f.name, o, f.n)
		}
		if n := queryInt(t, c.DB, `select count(*) from events where file_id = ? and event_id like ? and record_index = split_part(event_id, '-', -1)::bigint`,
			o.FileID, f.name+"-%"); n != int64(f.n) {
			t.Errorf("%s: %d of its %d events point at it", f.name, n, f.n)
		}
	}
}

func TestIngestLeavesInputsUnchanged(t *testing.T) {
	c := openTestCase(t)
	dir := copyTree(t, fixtureDir)
	before := treeDigest(t, dir)
	ingestPaths(t, c, dir)
	if after := treeDigest(t, dir); after != before {
		t.Errorf("inputs changed:\nbefore %s\nafter  %s", before, after)
	}
}

// treeDigest summarises every file's name, content, mode and time.
func treeDigest(tb testing.TB, dir string) string {
	tb.Helper()
	h := sha256.New()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			tb.Fatal(err)
		}
		info, _ := d.Info()
		h.Write([]byte(p + info.Mode().String() + info.ModTime().String()))
		if !d.IsDir() {
			b, _ := os.ReadFile(p)
			h.Write(b)
		}
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))
}

func TestBundles(t *testing.T) {
	scratchRoot := t.TempDir()
	t.Setenv("TMPDIR", scratchRoot)
	c := openTestCase(t)
	src := copyTree(t, filepath.Join(fixtureDir, "shapes"))
	array, _ := os.ReadFile(filepath.Join(src, "array.json"))
	ndjson, _ := os.ReadFile(filepath.Join(src, "events.ndjson"))
	dir := t.TempDir()

	var tgz bytes.Buffer
	zw := gzip.NewWriter(&tgz)
	tw := tar.NewWriter(zw)
	addTar := func(h *tar.Header, body []byte) {
		h.Size = int64(len(body))
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		h.Mode = 0o644
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write(body)
	}
	addTar(&tar.Header{Name: "logs/", Typeflag: tar.TypeDir}, nil)
	addTar(&tar.Header{Name: "logs/array.json"}, array)
	addTar(&tar.Header{Name: "../escape.json"}, ndjson)
	addTar(&tar.Header{Name: "/etc/abs.json"}, ndjson)
	addTar(&tar.Header{Name: "logs/link.json", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}, nil)
	tw.Close()
	zw.Close()
	os.WriteFile(filepath.Join(dir, "case.tgz"), tgz.Bytes(), 0o644)

	var zbuf bytes.Buffer
	zipw := zip.NewWriter(&zbuf)
	w, _ := zipw.Create("more/events.ndjson")
	w.Write(ndjson)
	zipw.Close()
	os.WriteFile(filepath.Join(dir, "more.zip"), zbuf.Bytes(), 0o644)

	outcomes := ingestPaths(t, c, dir)
	want := map[string]string{
		"case.tgz":                    StatusLoaded,
		"case.tgz!logs/array.json":    StatusLoaded,
		"case.tgz!../escape.json":     StatusRejected,
		"case.tgz!/etc/abs.json":      StatusRejected,
		"case.tgz!logs/link.json":     StatusRejected,
		"more.zip":                    StatusLoaded,
		"more.zip!more/events.ndjson": StatusLoaded,
	}
	if len(outcomes) != len(want) {
		t.Errorf("%d outcomes, want %d: %+v", len(outcomes), len(want), outcomes)
	}
	for suffix, status := range want {
		o := outcomeOf(t, outcomes, string(filepath.Separator)+suffix)
		if o.Status != status {
			t.Errorf("%s: %s (%s), want %s", suffix, o.Status, o.Error, status)
		}
	}
	if o := outcomeOf(t, outcomes, "case.tgz"); o.Kind != KindBundle || o.Records != 4 {
		t.Errorf("bundle row: %+v", o)
	}
	if n := queryInt(t, c.DB, "select count(*) from events"); n != 5 {
		t.Errorf("events from bundles: %d, want 5", n)
	}
	left, _ := os.ReadDir(scratchRoot)
	for _, e := range left {
		if strings.HasPrefix(e.Name(), "credtrail-") {
			t.Errorf("scratch folder %s left behind", e.Name())
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "escape.json")); err == nil {
		t.Error("an entry escaped the scratch folder")
	}
}

func TestBatchWithABadFileStillLoadsTheGoodOnes(t *testing.T) {
	c := openTestCase(t)
	dir := copyTree(t, fixtureDir)
	// A batch of many files where one cannot be parsed by DuckDB at all.
	outcomes, err := c.Ingest(context.Background(), []string{
		filepath.Join(dir, "AWSLogs"), filepath.Join(dir, "bad", "truncated.json"), filepath.Join(dir, "shapes", "array.json"),
	}, IngestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if o := outcomeOf(t, outcomes, "truncated.json"); o.Status != StatusRejected {
		t.Errorf("truncated: %+v", o)
	}
	if n := queryInt(t, c.DB, "select count(*) from events"); n != 7 {
		t.Errorf("events: %d, want 7", n)
	}
	if n := queryInt(t, c.DB, "select count(*) from evidence_files"); n != 3 {
		t.Errorf("evidence rows: %d, want 3 (one per file, none twice)", n)
	}
}

func TestFolderGivenAsSymlinkIsWalked(t *testing.T) {
	c := openTestCase(t)
	dir := copyTree(t, filepath.Join(fixtureDir, "shapes"))
	link := filepath.Join(t.TempDir(), "evidence")
	if err := os.Symlink(dir, link); err != nil {
		t.Skip("no symlinks here:", err)
	}
	outcomes := ingestPaths(t, c, link)
	if len(outcomes) != 8 {
		t.Fatalf("%d files through the link, want 8", len(outcomes))
	}
	if o := outcomeOf(t, outcomes, "array.json"); o.Path != filepath.Join(link, "array.json") || o.Status != StatusLoaded {
		t.Errorf("file through the link: %+v", o)
	}
}

// Logstash-style exports carry @timestamp instead of eventTime; it is used
// only when eventTime is absent.
func TestTimestampAliasOnlyWithoutEventTime(t *testing.T) {
	c := openTestCase(t)
	p := filepath.Join(t.TempDir(), "logstash.ndjson")
	body := `{"eventID":"ls-1","@timestamp":"2020-09-14T00:44:23.000Z","eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","recipientAccountId":"123456789123"}
{"eventID":"ls-2","eventTime":"2020-09-14T01:00:00Z","@timestamp":"2020-09-14T05:00:00.000Z","eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","recipientAccountId":"123456789123"}
`
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if o := ingestPaths(t, c, p)[0]; o.Status != StatusLoaded || o.Records != 2 {
		t.Fatalf("%+v", o)
	}
	for id, want := range map[string]string{"ls-1": "2020-09-14T00:44:23Z", "ls-2": "2020-09-14T01:00:00Z"} {
		var got time.Time
		if err := c.DB.QueryRow("select event_time from events where event_id = ?", id).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got.UTC().Format(time.RFC3339) != want {
			t.Errorf("%s: %v, want %s", id, got, want)
		}
	}
}

// Whole-file kinds load in batches; a bad file in a batch is rejected alone.
func TestBadReportInABatchIsRejectedAlone(t *testing.T) {
	c := openTestCase(t)
	dir := t.TempDir()
	for _, name := range []string{"report.csv", "report-base64.json"} {
		body, err := os.ReadFile(filepath.Join("testdata", "credreport", name))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, name), body, 0o644)
	}
	bad := "user,arn,user_creation_time,password_enabled\nalice,arn:aws:iam::111122223333:user/alice,2022-13-01T00:00:00+00:00,true"
	os.WriteFile(filepath.Join(dir, "bad-report.csv"), []byte(bad), 0o644)
	outcomes := ingestPaths(t, c, dir)
	if o := outcomeOf(t, outcomes, "bad-report.csv"); o.Status != StatusRejected || !strings.Contains(o.Error, "line 2: user_creation_time") {
		t.Errorf("bad report: %+v", o)
	}
	for _, name := range []string{"report.csv", "report-base64.json"} {
		if o := outcomeOf(t, outcomes, string(filepath.Separator)+name); o.Status != StatusLoaded || o.Records == 0 {
			t.Errorf("%s: %+v", name, o)
		}
	}
	if n := queryInt(t, c.DB, "select count(*) from credential_report_rows where user_name = 'alice' and arn like '%111122223333%' and user_creation_time is null"); n != 0 {
		t.Error("rows of the rejected report were kept")
	}
}

// A Records file larger than read_json takes as one object (merged exports
// such as public training datasets, not CloudTrail's own deliveries) is
// rewritten in chunks and loads whole, with each record at its own position:
// plain, gzipped (its size read from the gzip trailer) and a multi-member
// gzip whose trailer tells only its small last member (found when the file
// fails to load as it is).
func TestRecordsFileLargerThanOneObjectLoads(t *testing.T) {
	if testing.Short() {
		t.Skip("writes four files of 70 MB")
	}
	const records = 25_000
	padding := strings.Repeat("x", 2800)
	body := func(prefix string) []byte {
		var b strings.Builder
		b.WriteString(`{"Records":[`)
		for i := range records {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"eventVersion":"1.08","eventID":"%s-%d","eventTime":"2024-03-01T%02d:%02d:%02dZ","eventSource":"s3.amazonaws.com","eventName":"GetObject","recipientAccountId":"111122223333","requestParameters":{"pad":"%s"}}`,
				prefix, i, i/3600%24, i/60%60, i%60, padding)
		}
		b.WriteString(`],"note":"after the records"}`)
		if b.Len() <= maxRecordFileBytes {
			t.Fatalf("fixture of %d bytes is not over the limit", b.Len())
		}
		return []byte(b.String())
	}
	dir := t.TempDir()
	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("plain.json", body("plain"))
	write("single.json.gz", gzipBytes(t, body("single")))
	multi := body("multi")
	write("multi.json.gz", append(gzipBytes(t, multi[:len(multi)-2]), gzipBytes(t, multi[len(multi)-2:])...))
	broken := bytes.Replace(body("broken"), []byte(`{"eventVersion":"1.08","eventID":"broken-100",`), []byte(`[1],{"eventID":"broken-100",`), 1)
	write("broken.json.gz", append(gzipBytes(t, broken[:len(broken)-2]), gzipBytes(t, broken[len(broken)-2:])...))

	c := openTestCase(t)
	outcomes := ingestPaths(t, c, dir)
	for _, name := range []string{"plain", "single", "multi"} {
		o := outcomeOf(t, outcomes, "/"+name+".json"+map[bool]string{true: ".gz"}[name != "plain"])
		if o.Status != StatusLoaded || o.Records != records || o.Duplicates != 0 {
			t.Errorf("%s: %+v, want loaded with %d records", name, o, records)
		}
		var n, idx int64
		if err := c.DB.QueryRow(`select count(*), max(record_index) filter (where event_id = ?) from events
			where event_id like ? || '-%'`, fmt.Sprintf("%s-%d", name, records-1), name).Scan(&n, &idx); err != nil {
			t.Fatal(err)
		}
		if n != records || idx != records-1 {
			t.Errorf("%s: %d events, last record at %d; want %d and %d", name, n, idx, records, records-1)
		}
		if n := queryInt(t, c.DB, `select count(*) from events where event_id like ? || '-%'
			and record_index <> split_part(event_id, '-', 2)::bigint`, name); n != 0 {
			t.Errorf("%s: %d records are not at their position in the file", name, n)
		}
	}
	if o := outcomeOf(t, outcomes, "/broken.json.gz"); o.Status != StatusRejected || o.Error != "record 100: not a JSON object" {
		t.Errorf("broken: %+v, want rejected naming record 100", o)
	}
	if n := queryInt(t, c.DB, "select count(*) from events where event_id like 'broken-%'"); n != 0 {
		t.Errorf("%d events of the rejected file were loaded", n)
	}
}

// The gzip trailer, kept while the file is hashed, tells a file's body size up
// front; a plain file's size is its own. A multi-member gzip's trailer tells only its last member: such a
// file is found when it fails to load (TestRecordsFileLargerThanOneObjectLoads).
func TestMayExceedObjectSize(t *testing.T) {
	dir := t.TempDir()
	gz := func(name string, members ...[]byte) *input {
		var data []byte
		for _, m := range members {
			data = append(data, gzipBytes(t, m)...)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		in := &input{display: path, local: path}
		prepareOne(in, &prepareBuffers{}) // hashing keeps the trailer
		if in.err != nil || !in.sniff.gzipped {
			t.Fatalf("%s: %v, %+v", name, in.err, in.sniff)
		}
		return in
	}
	big := bytes.Repeat([]byte(" "), maxRecordFileBytes+1)
	for _, tt := range []struct {
		name string
		in   *input
		want bool
	}{
		{"plain at the limit", &input{size: maxRecordFileBytes}, false},
		{"plain over the limit", &input{size: maxRecordFileBytes + 1}, true},
		{"gzip of a small body", gz("small.gz", []byte(`{"Records":[]}`)), false},
		{"gzip of a body over the limit", gz("big.gz", big), true},
		{"gzip whose last member is small", gz("multi.gz", big, []byte(" ")), false},
	} {
		if got := mayExceedObjectSize(tt.in); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

// A body of several Records objects one after another (merged exports,
// concatenated gzip files) numbers its records on across them, whatever its
// size, also when it names a bad record; an "offset" key of the evidence, of
// any type, means nothing; read_json's reading of the Records key is kept
// (null holds none, a second one is an error).
func TestRecordsObjectsOneAfterAnother(t *testing.T) {
	rec := func(id string, extra string) string {
		return `{"eventVersion":"1.08","eventID":"` + id + `","eventTime":"2024-03-01T00:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","recipientAccountId":"111122223333"` + extra + `}`
	}
	insight := `{"eventVersion":"1.08","eventID":"i1","eventTime":"2024-03-01T01:00:00Z","eventType":"AwsCloudTrailInsight","eventCategory":"Insight","recipientAccountId":"111122223333","insightDetails":{"state":"Start"}}`
	dir := t.TempDir()
	files := map[string]string{
		"two-objects.json":     `{"Records":[` + rec("a0", "") + `,` + rec("a1", "") + `]}` + "\n" + `{"Records":[` + rec("a2", "") + `]}`,
		"with-insight.json":    `{"Records":[` + rec("b0", "") + `]}{"Records":[` + insight + `]}`,
		"offset-key.json":      `{"offset":1000,"Records":[` + rec("c0", "") + `]}`,
		"null-records.json":    `{"Records":null}`,
		"two-keys.json":        `{"Records":[` + rec("d0", "") + `],"Records":[` + rec("d1", "") + `]}`,
		"offset-text.json":     `{"offset":"abc","Records":[` + rec("f0", "") + `]}`,
		"offset-object.json":   `{"offset":{"x":[1]},"Records":[` + rec("g0", "") + `]}`,
		"bad-third.json":       `{"Records":[` + rec("h0", "") + `,` + rec("h1", "") + `]}{"Records":[` + rec("h2", "") + `,{"eventID":"h3","eventTime":"bad"}]}`,
		"gzip-members.json.gz": "",
	}
	for name, body := range files {
		data := []byte(body)
		if name == "gzip-members.json.gz" {
			data = append(gzipBytes(t, []byte(`{"Records":[`+rec("e0", "")+`]}`)), gzipBytes(t, []byte(`{"Records":[`+rec("e1", "")+`]}`))...)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := openTestCase(t)
	outcomes := ingestPaths(t, c, dir)
	for name, want := range map[string]int64{"two-objects.json": 3, "with-insight.json": 2, "offset-key.json": 1, "null-records.json": 0,
		"gzip-members.json.gz": 2, "offset-text.json": 1, "offset-object.json": 1} {
		if o := outcomeOf(t, outcomes, "/"+name); o.Status != StatusLoaded || o.Records != want || o.Duplicates != 0 {
			t.Errorf("%s: %+v, want loaded with %d records", name, o, want)
		}
	}
	if o := outcomeOf(t, outcomes, "/two-keys.json"); o.Status != StatusRejected || !strings.Contains(o.Error, "duplicate key") {
		t.Errorf("two-keys.json: %+v, want rejected for its duplicate Records key", o)
	}
	if o := outcomeOf(t, outcomes, "/bad-third.json"); o.Status != StatusRejected || o.Error != `record 3: eventTime: invalid time "bad"` {
		t.Errorf("bad-third.json: %+v, want rejected naming record 3", o)
	}
	got := map[string]int64{}
	rows, err := c.DB.Query(`select event_id, record_index from events union all select event_id, record_index from insights`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var idx int64
		if err := rows.Scan(&id, &idx); err != nil {
			t.Fatal(err)
		}
		got[id] = idx
	}
	want := map[string]int64{"a0": 0, "a1": 1, "a2": 2, "b0": 0, "i1": 1, "c0": 0, "e0": 0, "e1": 1, "f0": 0, "g0": 0}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("positions %v, want %v", got, want)
	}
	if n := queryInt(t, c.DB, "select count(*) from insights"); n != 1 {
		t.Errorf("%d insights, want the one Insights event", n)
	}
}

// The rewrite reads a Records body as read_json would.
func TestConvertRecordsObjects(t *testing.T) {
	for _, tt := range []struct {
		body, err string
		records   int
	}{
		{`{"Records":[{"a":1},{"b":2}]}`, "", 2},
		{`{"x":[1],"Records":[{"a":1}],"y":{}}`, "", 1},
		{`{"Records":null}`, "", 0},
		{`{"Records":[]}{"Records":[{"a":1}]}`, "", 1},
		{`{"Records":[{"a":1}],"Records":[{"b":2}]}`, "object 0: duplicate key Records", 0},
		{`{"Records":{"a":1}}`, "object 0: Records is not an array", 0},
		{`{"Records":[{"a":1},7]}`, "record 1: not a JSON object", 0},
		{`{"Records":[{"a":1}]}]`, "after the JSON document: invalid character ']' looking for beginning of value", 0},
		{`{"Records":[{"a":1}]} 7`, "object 1: not a JSON object", 0},
		{`{"Records":[{"a":1}`, "after record 1: invalid JSON: unexpected EOF", 0},
	} {
		rw := &recordsWriter{prefix: filepath.Join(t.TempDir(), "c")}
		err := convertRecordsObjects(strings.NewReader(tt.body), rw)
		rw.endChunk()
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("%s: %v", tt.body, err)
		case tt.err != "" && (err == nil || err.Error() != tt.err):
			t.Errorf("%s: error %v, want %q", tt.body, err, tt.err)
		case tt.err == "" && rw.n != tt.records:
			t.Errorf("%s: %d records, want %d", tt.body, rw.n, tt.records)
		}
	}
}

// Batch by batch, every file ends with one evidence row and its records at
// their positions, and a batch's rewrites are gone once it has loaded: the
// scratch folder then holds at most the rewrite of the batch prepared next.
func TestCloudTrailBatchesFreeTheirRewrites(t *testing.T) {
	rec := func(id string) string {
		return `{"eventID":"` + id + `","eventTime":"2024-03-01T00:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","recipientAccountId":"111122223333"}`
	}
	dir := t.TempDir()
	for i := range 6 {
		var body string
		switch i % 3 {
		case 0: // NDJSON: always rewritten
			body = rec(fmt.Sprintf("n%d-0", i)) + "\n" + rec(fmt.Sprintf("n%d-1", i)) + "\n"
		case 1: // read in place
			body = `{"Records":[` + rec(fmt.Sprintf("r%d-0", i)) + `,` + rec(fmt.Sprintf("r%d-1", i)) + `]}`
		case 2: // several objects: rewritten after its first insert
			body = `{"Records":[` + rec(fmt.Sprintf("m%d-0", i)) + `]}{"Records":[` + rec(fmt.Sprintf("m%d-1", i)) + `]}`
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%d.json", i)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var batches int
	afterBatch = func(scratchDir string) {
		batches++
		chunks, _ := filepath.Glob(filepath.Join(scratchDir, "*.*.json"))
		ids := map[string]bool{}
		for _, c := range chunks {
			ids[strings.SplitN(filepath.Base(c), ".", 2)[0]] = true
		}
		if len(ids) > 1 {
			t.Errorf("after batch %d, rewrites of %d files are kept: %v", batches, len(ids), chunks)
		}
	}
	defer func() { afterBatch = func(string) {} }()
	c := openTestCase(t)
	outcomes, err := c.Ingest(context.Background(), []string{dir}, IngestOptions{BatchBytes: 1})
	if err != nil {
		t.Fatal(err)
	}
	if batches != 6 || len(outcomes) != 6 {
		t.Errorf("%d batches and %d outcomes, want one per file: %+v", batches, len(outcomes), outcomes)
	}
	for i := range 6 {
		if o := outcomeOf(t, outcomes, fmt.Sprintf("/f%d.json", i)); o.Status != StatusLoaded || o.Records != 2 || o.Duplicates != 0 {
			t.Errorf("f%d.json: %+v", i, o)
		}
	}
	if n := queryInt(t, c.DB, "select count(*) from evidence_files"); n != 6 {
		t.Errorf("%d evidence rows, want 6", n)
	}
	if n := queryInt(t, c.DB, "select count(*) from events where record_index <> split_part(event_id, '-', 2)::bigint"); n != 0 {
		t.Errorf("%d events not at their position", n)
	}
}

// A file rejected for a reason of the run (here a memory limit too small to
// read it) is tried again by the next ingest, not taken for a duplicate of
// its rejection.
func TestRejectedFileIsRetried(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "case.duckdb")
	dir := copyTree(t, filepath.Join(fixtureDir, "AWSLogs"))
	c, err := Open(ctx, path, Options{MemoryLimit: "8MB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	first, err := c.Ingest(ctx, []string{dir}, IngestOptions{})
	c.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range first {
		if o.Status != StatusRejected {
			t.Fatalf("%s: %s with an 8MB memory limit, want rejected (the test needs a failing first run)", o.Path, o.Status)
		}
	}
	c, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	second := ingestPaths(t, c, dir)
	for _, o := range second {
		if o.Status != StatusLoaded {
			t.Errorf("%s: %s (%s) on the second run, want loaded", o.Path, o.Status, o.Error)
		}
	}
	if n := queryInt(t, c.DB, "select count(*) from events"); n != 5 {
		t.Errorf("events after the retry: %d, want 5", n)
	}
	// The rejections stay on record, but the case holds each file once.
	if n := queryInt(t, c.DB, "select count(*) from evidence_files where status = 'rejected'"); n != int64(len(first)) {
		t.Errorf("rejections on record after the retry: %d, want %d", n, len(first))
	}
	sum, err := c.Summarize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Files != int64(len(second)) {
		t.Errorf("the case summary counts %d files, want %d: a file rejected, then loaded, is one file", sum.Files, len(second))
	}
}

// tgzOf returns a gzipped tar of the named folders of root, as
// `tar czf - -C root names...` makes it.
func tgzOf(tb testing.TB, root string, names ...string) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, name := range names {
		err := filepath.WalkDir(filepath.Join(root, name), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			body, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			if err := tw.WriteHeader(&tar.Header{Name: filepath.ToSlash(rel), Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
				return err
			}
			_, err = tw.Write(body)
			return err
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// A bundle cut short (`head -c 300000` of a tgz of the sample case) is not
// marked loaded: the entries read so far are loaded, the one it ends inside
// is rejected, and the bundle is partial with what was lost in its error.
func TestTruncatedBundleIsPartial(t *testing.T) {
	c := openTestCase(t)
	tgz := tgzOf(t, "../samples/case", "AWSLogs", "iam")
	if len(tgz) < 400000 {
		t.Fatalf("the sample case's tgz is %d bytes: too small to cut at 300000", len(tgz))
	}
	cut := filepath.Join(t.TempDir(), "t.tgz")
	if err := os.WriteFile(cut, tgz[:300000], 0o644); err != nil {
		t.Fatal(err)
	}
	outcomes := ingestPaths(t, c, cut)
	bundle := outcomes[0]
	for _, o := range outcomes {
		if o.Path == cut {
			bundle = o
		}
	}
	if bundle.Path != cut || bundle.Status != StatusPartial || !strings.Contains(bundle.Error, "entries after them are lost") {
		t.Fatalf("bundle: %+v, want partial saying what was lost", bundle)
	}
	var loaded, rejected int64
	for _, o := range outcomes {
		switch {
		case o.Path == cut:
		case o.Status == StatusLoaded:
			loaded++
		case o.Status == StatusRejected && strings.Contains(o.Error, "bundle ends inside this entry"):
			rejected++
		default:
			t.Errorf("entry %s: %s (%s)", o.Path, o.Status, o.Error)
		}
	}
	if loaded == 0 || rejected != 1 || bundle.Records != loaded+rejected {
		t.Errorf("%d entries loaded, %d rejected as cut, bundle counts %d: want some loaded, one cut, all counted", loaded, rejected, bundle.Records)
	}
	if n := queryInt(t, c.DB, "select count(*) from evidence_files where status = 'partial' and path = ?", cut); n != 1 {
		t.Errorf("partial bundle rows: %d", n)
	}
	if n := queryInt(t, c.DB, "select count(*) from events"); n == 0 {
		t.Error("the events of the entries read were not kept")
	}
}

// A full scratch disk stops the run with an error saying so; the bundle is
// not recorded as loaded.
func TestFullScratchDiskStopsTheRun(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full to make a disk full with")
	}
	create := createScratchFile
	createScratchFile = func(string) (*os.File, error) { return os.OpenFile("/dev/full", os.O_WRONLY, 0) }
	t.Cleanup(func() { createScratchFile = create })

	c := openTestCase(t)
	bundle := filepath.Join(t.TempDir(), "s.tgz")
	if err := os.WriteFile(bundle, tgzOf(t, "testdata/cloudtrail", "shapes"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := c.Ingest(context.Background(), []string{bundle}, IngestOptions{})
	if err == nil || !strings.Contains(err.Error(), "no space left on device") || !strings.Contains(err.Error(), bundle) {
		t.Fatalf("ingest with a full scratch disk: %v, want an error naming the bundle and the full disk", err)
	}
	if n := queryInt(t, c.DB, "select count(*) from evidence_files where status = 'loaded'"); n != 0 {
		t.Errorf("%d files recorded loaded", n)
	}
}

// A zip entry that cannot be read is rejected alone; the entries after it
// still load.
func TestCorruptZipEntryIsRejectedAlone(t *testing.T) {
	c := openTestCase(t)
	array, err := os.ReadFile(filepath.Join(fixtureDir, "shapes", "array.json"))
	if err != nil {
		t.Fatal(err)
	}
	ndjson, err := os.ReadFile(filepath.Join(fixtureDir, "shapes", "events.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range []struct {
		name string
		body []byte
	}{{"a/array.json", array}, {"b/events.ndjson", ndjson}} {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(e.body)
	}
	zw.Close()
	b := buf.Bytes()
	// Damage the first entry's stored bytes: its checksum no longer matches.
	i := bytes.Index(b, array[:20])
	b[i+5] ^= 0xff
	path := filepath.Join(t.TempDir(), "more.zip")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	outcomes := ingestPaths(t, c, path)
	if o := outcomeOf(t, outcomes, "!a/array.json"); o.Status != StatusRejected || !strings.Contains(o.Error, "checksum") {
		t.Errorf("damaged entry: %+v, want rejected for its checksum", o)
	}
	if o := outcomeOf(t, outcomes, "!b/events.ndjson"); o.Status != StatusLoaded || o.Records != 3 {
		t.Errorf("good entry after it: %+v, want loaded", o)
	}
}

// zipOf builds a zip archive of the named bodies, in order.
func zipOf(tb testing.TB, files ...string) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i < len(files); i += 2 {
		w, err := zw.Create(files[i])
		if err != nil {
			tb.Fatal(err)
		}
		w.Write([]byte(files[i+1]))
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// A .docx is a zip file of XML parts: it is rejected as not a bundle of
// evidence, with one row, not loaded as a bundle with a row per part.
func TestDocumentIsNotABundle(t *testing.T) {
	c := openTestCase(t)
	ndjson, err := os.ReadFile(filepath.Join(fixtureDir, "shapes", "events.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	docx := zipOf(t,
		"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`,
		"_rels/.rels", `<?xml version="1.0"?><Relationships/>`,
		"word/document.xml", `<?xml version="1.0"?><w:document><w:body><w:p><w:r><w:t>Incident notes</w:t></w:r></w:p></w:body></w:document>`,
		"word/styles.xml", `<?xml version="1.0"?><w:styles/>`)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "notes.docx"), docx, 0o644)
	os.WriteFile(filepath.Join(dir, "case.zip"), zipOf(t, "logs/events.ndjson", string(ndjson), "report.docx", string(docx)), 0o644)
	os.WriteFile(filepath.Join(dir, "empty.zip"), zipOf(t, "folder/", ""), 0o644)

	outcomes := ingestPaths(t, c, dir)
	want := map[string]string{
		"notes.docx":                  StatusRejected,
		"case.zip":                    StatusLoaded,
		"case.zip!logs/events.ndjson": StatusLoaded,
		"case.zip!report.docx":        StatusRejected,
		"empty.zip":                   StatusRejected,
	}
	if len(outcomes) != len(want) {
		t.Errorf("%d outcomes, want %d (none for the parts of a document): %+v", len(outcomes), len(want), outcomes)
	}
	for suffix, status := range want {
		if o := outcomeOf(t, outcomes, string(filepath.Separator)+suffix); o.Status != status {
			t.Errorf("%s: %s (%s), want %s", suffix, o.Status, o.Error, status)
		}
	}
	o := outcomeOf(t, outcomes, "notes.docx")
	if wantErr := "not a bundle of evidence: none of its 4 entries is an AWS export ([Content_Types].xml, _rels/.rels, word/document.xml, …)"; o.Error != wantErr {
		t.Errorf("notes.docx: %q, want %q", o.Error, wantErr)
	}
	if o := outcomeOf(t, outcomes, "empty.zip"); o.Error != "not a bundle of evidence: the archive holds no files" {
		t.Errorf("empty.zip: %q", o.Error)
	}
	if n := queryInt(t, c.DB, "select count(*) from evidence_files where path like '%docx!%'"); n != 0 {
		t.Errorf("%d evidence rows for the parts of documents", n)
	}
}

// Progress counts bytes and records, and says before each CloudTrail batch
// what it loads, so that a long batch does not look like a stall.
func TestProgressByBytesAndRecords(t *testing.T) {
	c := openTestCase(t)
	dir := copyTree(t, filepath.Join(fixtureDir, "shapes"))
	var onDisk int64
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if info, err := d.Info(); err == nil && info.Mode().IsRegular() {
			onDisk += info.Size()
		}
		return nil
	})
	var seen []Progress
	outcomes, err := c.Ingest(context.Background(), []string{dir}, IngestOptions{
		BatchBytes: 1, // a batch per file
		Progress:   func(p Progress) { seen = append(seen, p) },
	})
	if err != nil {
		t.Fatal(err)
	}
	var records int64
	for _, o := range outcomes {
		records += o.Records
	}
	var reading, loading []Progress
	batches := 0
	for i, p := range seen {
		switch p.Stage {
		case StageReading:
			reading = append(reading, p)
		case StageLoading:
			loading = append(loading, p)
			if p.BatchFiles > 0 && p.BatchBytes > 0 && (i == 0 || seen[i-1].BatchFiles == 0) {
				batches++
			}
		}
		if i > 0 && p.Stage == seen[i-1].Stage && (p.BytesDone < seen[i-1].BytesDone || p.Records < seen[i-1].Records) {
			t.Errorf("progress went back: %+v after %+v", p, seen[i-1])
		}
	}
	if len(reading) == 0 || len(loading) == 0 {
		t.Fatalf("stages seen: %+v", seen)
	}
	if r := reading[len(reading)-1]; r.FilesDone != len(outcomes) || r.Files != len(outcomes) || r.BytesDone != onDisk {
		t.Errorf("reading ended at %+v, want %d files, %d bytes", r, len(outcomes), onDisk)
	}
	last := loading[len(loading)-1]
	want := Progress{Stage: StageLoading, FilesDone: len(outcomes), Files: len(outcomes), BytesDone: onDisk, Bytes: onDisk, Records: records}
	if last != want {
		t.Errorf("loading ended at %+v, want %+v", last, want)
	}
	if cloudtrail := outcomeCount(outcomes, KindCloudTrail); batches != cloudtrail || batches < 2 {
		t.Errorf("%d batches announced, want one per CloudTrail file (%d)", batches, cloudtrail)
	}
}

func outcomeCount(outcomes []FileOutcome, kind string) int {
	n := 0
	for _, o := range outcomes {
		if o.Kind == kind {
			n++
		}
	}
	return n
}

// Running ingest three times on the same inputs records each file once (a
// file rejected again for the same reason too); each run is in ingest_runs
// with what ran it and what became of its files. Two identical files given
// in one run stay two rows, the second a duplicate.
func TestIngestRunsLogResubmissions(t *testing.T) {
	c := openTestCase(t)
	dir := copyTree(t, filepath.Join(fixtureDir, "shapes"))
	body, err := os.ReadFile(filepath.Join(dir, "array.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "array-copy.json"), body, 0o644); err != nil {
		t.Fatal(err)
	}
	bad := `{"Records":[{"eventID":"b1","eventTime":"yesterday","eventSource":"s3.amazonaws.com","eventName":"GetObject"}]}`
	for _, name := range []string{"bad.json", "bad-copy.json"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	info := RunInfo{Version: "v1.2.3", Commit: "abc123", CommandLine: "credtrail ingest case.duckdb " + dir}
	var runs [][]FileOutcome
	for range 3 {
		out, err := c.Ingest(context.Background(), []string{dir}, IngestOptions{Run: info})
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, out)
	}
	if o := outcomeOf(t, runs[0], string(filepath.Separator)+"array.json"); o.Status != StatusDuplicate {
		t.Errorf("the second of two copies given in the same run: %s, want duplicate", o.Status)
	}
	files := int64(len(runs[0]))
	if n := queryInt(t, c.DB, "select count(*) from evidence_files where run_id = 1"); n != files {
		t.Errorf("evidence rows of the first run: %d, want %d", n, files)
	}
	if n := queryInt(t, c.DB, "select count(*) from evidence_files"); n != files {
		t.Errorf("evidence rows after three runs: %d, want %d (each file once)", n, files)
	}
	for _, o := range runs[2] {
		if strings.Contains(o.Path, "bad") {
			if first := outcomeOf(t, runs[0], filepath.Base(o.Path)); o.Status != first.Status || o.FileID != first.FileID {
				t.Errorf("third run: %+v, want %s again, naming the first run's row", o, first.Status)
			}
		} else if o.Status != StatusResubmitted || o.FileID == 0 {
			t.Errorf("third run: %+v, want resubmitted naming the file it repeats", o)
		}
	}
	type run struct {
		id                                         int64
		ended                                      bool
		host, user, version, commit, cmdLine       string
		seen, added, resubmitted, rejected, dupCnt int64
	}
	rows, err := c.DB.Query(`select run_id, ended_at >= started_at, host, os_user, credtrail_version, credtrail_commit, command_line,
		files_seen, files_added, files_resubmitted, files_rejected, files_duplicate from ingest_runs order by run_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []run
	for rows.Next() {
		var r run
		if err := rows.Scan(&r.id, &r.ended, &r.host, &r.user, &r.version, &r.commit, &r.cmdLine,
			&r.seen, &r.added, &r.resubmitted, &r.rejected, &r.dupCnt); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	if len(got) != 3 {
		t.Fatalf("ingest_runs: %d rows, want 3", len(got))
	}
	host, _ := os.Hostname()
	for i, r := range got {
		if r.id != int64(i+1) || !r.ended || r.host != host || r.user == "" || r.version != info.Version || r.commit != info.Commit || r.cmdLine != info.CommandLine {
			t.Errorf("run %d: %+v", i+1, r)
		}
		// Loaded: all but the copy of array.json and the two bad files; the
		// second bad file is a duplicate of the first, rejected, one.
		want := [4]int64{files, files - 3, 0, 2} // seen, added, resubmitted, duplicate
		if i > 0 {
			want = [4]int64{files, 0, files - 2, 1}
		}
		if [4]int64{r.seen, r.added, r.resubmitted, r.dupCnt} != want || r.rejected != 1 {
			t.Errorf("run %d counts: seen %d, added %d, resubmitted %d, duplicate %d, rejected %d; want %v", i+1, r.seen, r.added, r.resubmitted, r.dupCnt, r.rejected, want)
		}
	}
	// The bad file found again at a new place beside its first copy: the new
	// duplicate row names the first rejection, not a row never written.
	other := t.TempDir()
	for _, name := range []string{"a-bad.json", "z-bad.json"} {
		if err := os.WriteFile(filepath.Join(other, name), []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if o := outcomeOf(t, ingestPaths(t, c, other), "z-bad.json"); o.Status != StatusDuplicate {
		t.Errorf("second copy: %+v, want duplicate", o)
	}
	if n := queryInt(t, c.DB, `select count(*) from evidence_files d where duplicate_of is not null
		and not exists (select 1 from evidence_files o where o.file_id = d.duplicate_of)`); n != 0 {
		t.Errorf("%d duplicate rows name no file", n)
	}
}

// A bundle loaded whole is not unpacked again when given again: the run sees
// the bundle only. One with an entry rejected for a reason of the run (a
// memory limit) is unpacked again, and that entry loads.
func TestResubmittedBundleIsNotUnpackedAgain(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "case.duckdb")
	dir := t.TempDir()
	whole := filepath.Join(dir, "shapes.tgz")
	if err := os.WriteFile(whole, tgzOf(t, fixtureDir, "shapes"), 0o644); err != nil {
		t.Fatal(err)
	}
	retry := filepath.Join(dir, "logs.tgz")
	if err := os.WriteFile(retry, tgzOf(t, fixtureDir, "AWSLogs"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Open(ctx, path, Options{MemoryLimit: "8MB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	first := ingestPaths(t, c, retry)
	c.Close()
	if o := outcomeOf(t, first, ".json"); o.Status != StatusRejected {
		t.Fatalf("entry with an 8MB memory limit: %+v, want rejected (the test needs a failing first run)", o)
	}
	c, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ingestPaths(t, c, whole)

	again := ingestPaths(t, c, whole, retry)
	if o := outcomeOf(t, again, "shapes.tgz"); o.Status != StatusResubmitted {
		t.Errorf("bundle loaded whole, given again: %+v, want resubmitted", o)
	}
	for _, o := range again {
		if strings.Contains(o.Path, "shapes.tgz!") {
			t.Errorf("%s: unpacked again", o.Path)
		}
	}
	if o := outcomeOf(t, again, "logs.tgz"); o.Status != StatusResubmitted {
		t.Errorf("bundle with a rejected entry, given again: %+v, want resubmitted", o)
	}
	if o := outcomeOf(t, again, ".json"); o.Status != StatusLoaded || o.Records != 5 {
		t.Errorf("entry rejected before, given again in its bundle: %+v, want loaded", o)
	}
}
