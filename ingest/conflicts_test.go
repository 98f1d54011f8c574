package ingest

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// deleteTrail is a real event: alice deletes the trail "main".
const deleteTrail = `{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLEALICE","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","accessKeyId":"AKIAEXAMPLEALICE0001","userName":"alice"},"eventTime":"2024-03-05T10:00:00Z","eventSource":"cloudtrail.amazonaws.com","eventName":"DeleteTrail","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","userAgent":"aws-cli/2.15.0","requestParameters":{"name":"main"},"responseElements":null,"requestID":"req-e1","eventID":"e1","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"}`

// forgedTrail is the same eventID made to look harmless.
var forgedTrail = strings.NewReplacer(`"DeleteTrail"`, `"DescribeTrails"`, `"198.51.100.7"`, `"10.0.0.1"`, `"readOnly":false`, `"readOnly":true`).Replace(deleteTrail)

// otherEvent is an event of id with nothing to hide.
func otherEvent(id string) string {
	return strings.ReplaceAll(strings.Replace(deleteTrail, `"DeleteTrail"`, `"GetTrailStatus"`, 1), `"e1"`, `"`+id+`"`)
}

func recordsFile(tb testing.TB, path string, records ...string) string {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(`{"Records":[`+strings.Join(records, ",\n")+`]}`), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

func fileSHA256(tb testing.TB, path string) string {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// ctName is a CloudTrail log file name delivered at stamp (YYYYMMDDTHHMMZ).
func ctName(stamp, unique string) string {
	return "111122223333_CloudTrail_us-east-1_" + stamp + "_" + unique + ".json"
}

// keptCopy returns the event name and the SHA-256 of the file of the copy of
// event id kept in events.
func keptCopy(tb testing.TB, c *Case, id string) (name, fileSHA string) {
	tb.Helper()
	err := c.DB.QueryRow(`select e.event_name, f.sha256 from events e join evidence_files f using (file_id)
		where e.event_id = ?`, id).Scan(&name, &fileSHA)
	if err != nil {
		tb.Fatalf("kept copy of %s: %v", id, err)
	}
	return name, fileSHA
}

type conflictRow struct {
	path    string
	record  int64
	content string
	kept    bool
}

// conflictRows lists conflicting_events with the path of each copy's file.
func conflictRows(tb testing.TB, c *Case) []conflictRow {
	tb.Helper()
	rows, err := c.DB.Query(`select f.path, x.record_index, x.content_sha256, x.kept
		from conflicting_events x join evidence_files f using (file_id) order by f.sha256, x.record_index`)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var out []conflictRow
	for rows.Next() {
		var r conflictRow
		if err := rows.Scan(&r.path, &r.record, &r.content, &r.kept); err != nil {
			tb.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// A forged copy of an event under its eventID is kept beside the real one,
// and which copy stays in events does not depend on how the paths were
// written or in which order they were given.
func TestConflictingCopyKeptRegardlessOfPathSpelling(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	tests := []struct {
		name         string
		real, forged string // file names
		wantKept     func(realSHA, forgedSHA string) string
	}{
		{"earlier delivery wins", ctName("20240305T1005Z", "aaaa0001"), ctName("20240305T1010Z", "ffff0001"),
			func(real, _ string) string { return real }},
		{"earlier delivery wins though forged", ctName("20240305T1010Z", "aaaa0002"), ctName("20240305T1005Z", "ffff0002"),
			func(_, forged string) string { return forged }},
		{"no delivery time: smaller sha256", "export-1.json", "export-2.json",
			func(real, forged string) string { return min(real, forged) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub := strings.ReplaceAll(tt.name, " ", "-")
			real := recordsFile(t, filepath.Join(dir, sub, "a", tt.real), otherEvent("e2"), deleteTrail)
			forged := recordsFile(t, filepath.Join(dir, sub, "b", tt.forged), forgedTrail, otherEvent("e3"))
			realSHA, forgedSHA := fileSHA256(t, real), fileSHA256(t, forged)
			want := tt.wantKept(realSHA, forgedSHA)
			// The first spelling sorts the real file first, the second the forged one.
			for _, paths := range [][]string{
				{"./" + sub + "/a/" + tt.real, "./" + sub + "/b/" + tt.forged},
				{sub + "/a/../a/" + tt.real, "./" + sub + "/b/" + tt.forged},
				{"./" + sub + "/b/" + tt.forged, sub + "/a/../a/" + tt.real},
			} {
				c := openTestCase(t)
				outcomes := ingestPaths(t, c, paths...)
				if _, sha := keptCopy(t, c, "e1"); sha != want {
					t.Errorf("%v: kept the copy of file %s, want %s", paths, sha, want)
				}
				if n := queryInt(t, c.DB, "select count(*) from events"); n != 3 {
					t.Errorf("%v: %d events, want 3 (e1 once, e2, e3)", paths, n)
				}
				got := conflictRows(t, c)
				if len(got) != 2 || got[0].content == got[1].content || got[0].kept == got[1].kept {
					t.Fatalf("%v: conflicting_events %+v, want both copies, one kept", paths, got)
				}
				for _, r := range got {
					wantRecord, isReal := int64(1), strings.HasSuffix(r.path, tt.real)
					if !isReal {
						wantRecord = 0
					}
					if r.record != wantRecord || r.kept != ((isReal && want == realSHA) || (!isReal && want == forgedSHA)) {
						t.Errorf("%v: conflicting copy %+v", paths, r)
					}
				}
				for _, o := range outcomes {
					if o.Status != StatusLoaded || o.Records != 2 || o.Duplicates != 0 || !strings.Contains(o.Error, "1 records have copies with other content") {
						t.Errorf("%v: outcome %+v, want loaded, 2 records, no duplicates, a note on the conflict", paths, o)
					}
				}
				sum, err := c.Summarize(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if sum.Conflicts != 1 {
					t.Errorf("%v: summary counts %d conflicts, want 1", paths, sum.Conflicts)
				}
			}
		})
	}
}

// Copies of an event that are the same event count as duplicates, also when
// they come in another shape: lookup-events output (the record as a string,
// keys in another order) and a console Event-history CSV row.
func TestIdenticalCopiesAreDuplicates(t *testing.T) {
	dir := t.TempDir()
	first := recordsFile(t, filepath.Join(dir, ctName("20240305T1005Z", "aaaa0001")), deleteTrail, otherEvent("e2"))
	again := recordsFile(t, filepath.Join(dir, ctName("20240305T1010Z", "bbbb0001")), deleteTrail, otherEvent("e4"))

	var rec map[string]any
	if err := json.Unmarshal([]byte(otherEvent("e2")), &rec); err != nil {
		t.Fatal(err)
	}
	reordered, err := json.MarshalIndent(rec, "", "  ") // keys sorted, spaces added
	if err != nil {
		t.Fatal(err)
	}
	lookup, err := json.Marshal(map[string]any{"Events": []map[string]any{{"EventId": "e2", "CloudTrailEvent": string(reordered)}}})
	if err != nil {
		t.Fatal(err)
	}
	lookupPath := filepath.Join(dir, "lookup-events.json")
	csvPath := filepath.Join(dir, "event-history.csv")
	csvBody := "User name,AWS access key,Event time,Event source,Event name,AWS region,Source IP address,User agent,Error code,Resources,Request ID,Event ID,Read-only,Event type,Recipient Account Id,Event category\n" +
		`alice,AKIAEXAMPLEALICE0001,2024-03-05T10:00:00Z,cloudtrail.amazonaws.com,DeleteTrail,us-east-1,198.51.100.7,aws-cli/2.15.0,,"[{""resourceType"":""AWS::CloudTrail::Trail"",""resourceName"":""main""}]",req-e1,e1,false,AwsApiCall,111122223333,Management` + "\n"
	for name, body := range map[string][]byte{lookupPath: lookup, csvPath: []byte(csvBody)} {
		if err := os.WriteFile(name, body, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	c := openTestCase(t)
	outcomes := ingestPaths(t, c, dir)
	wantDups := map[string]int64{first: 0, again: 1, lookupPath: 1, csvPath: 1}
	for path, dups := range wantDups {
		if o := outcomeOf(t, outcomes, path); o.Status != StatusLoaded || o.Duplicates != dups || o.Error != "" {
			t.Errorf("%s: %+v, want loaded with %d duplicates and no note", path, o, dups)
		}
	}
	if got := conflictRows(t, c); len(got) != 0 {
		t.Errorf("conflicting_events: %+v, want none", got)
	}
	if n := queryInt(t, c.DB, "select count(*) from events"); n != 3 {
		t.Errorf("%d events, want 3 (e1, e2, e4)", n)
	}
	if name, sha := keptCopy(t, c, "e1"); name != "DeleteTrail" || sha != fileSHA256(t, first) {
		t.Errorf("kept e1 %s from %s, want DeleteTrail from the first delivered file", name, sha)
	}

	// Re-delivered in a later run: a duplicate again, and the copy in the case stays.
	later := recordsFile(t, filepath.Join(t.TempDir(), ctName("20240305T0900Z", "cccc0001")), deleteTrail)
	o := ingestPaths(t, c, later)[0]
	if o.Status != StatusLoaded || o.Records != 1 || o.Duplicates != 1 || o.Error != "" {
		t.Errorf("later re-delivery: %+v, want loaded with 1 duplicate", o)
	}
	if _, sha := keptCopy(t, c, "e1"); sha != fileSHA256(t, first) {
		t.Error("a later identical copy replaced the one in the case")
	}
	if got := conflictRows(t, c); len(got) != 0 {
		t.Errorf("conflicting_events after the re-delivery: %+v, want none", got)
	}

	// An Event-history row that disagrees with the record on a field it has.
	forgedCSV := filepath.Join(t.TempDir(), "event-history.csv")
	if err := os.WriteFile(forgedCSV, []byte(strings.Replace(csvBody, "198.51.100.7", "10.0.0.1", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	o = ingestPaths(t, c, forgedCSV)[0]
	if o.Status != StatusLoaded || o.Duplicates != 0 || !strings.Contains(o.Error, "1 records have copies with other content") {
		t.Errorf("forged Event-history row: %+v, want loaded with a note on the conflict", o)
	}
	if name, sha := keptCopy(t, c, "e1"); name != "DeleteTrail" || sha != fileSHA256(t, first) {
		t.Errorf("kept e1 %s from %s, want the full record", name, sha)
	}
}

// A forged copy brought by a later run is a conflict with the copy already
// in the case; the copy kept follows the same rule as within one run.
func TestConflictAcrossRuns(t *testing.T) {
	c := openTestCase(t)
	real := recordsFile(t, filepath.Join(t.TempDir(), ctName("20240305T1005Z", "aaaa0001")), deleteTrail)
	ingestPaths(t, c, real)

	later := recordsFile(t, filepath.Join(t.TempDir(), ctName("20240305T1010Z", "ffff0001")), forgedTrail)
	o := ingestPaths(t, c, later)[0]
	if o.Status != StatusLoaded || o.Duplicates != 0 || !strings.Contains(o.Error, "1 records have copies with other content") {
		t.Errorf("forged copy: %+v, want loaded with a note on the conflict", o)
	}
	got := conflictRows(t, c)
	if len(got) != 2 || got[0].content == got[1].content {
		t.Fatalf("conflicting_events: %+v, want both copies", got)
	}
	for _, r := range got {
		if r.kept != (r.path == real) {
			t.Errorf("%+v: want the copy of the earlier delivered file kept", r)
		}
	}
	if name, _ := keptCopy(t, c, "e1"); name != "DeleteTrail" {
		t.Errorf("events holds %s, want the real DeleteTrail", name)
	}

	// A third copy claiming an earlier delivery takes the place of the one in events.
	earlier := recordsFile(t, filepath.Join(t.TempDir(), ctName("20240305T1000Z", "eeee0001")), otherEvent("e5"), forgedTrail)
	ingestPaths(t, c, earlier)
	got = conflictRows(t, c)
	kept := 0
	for _, r := range got {
		if r.kept {
			kept++
			if r.path != earlier {
				t.Errorf("kept %s, want %s", r.path, earlier)
			}
		}
	}
	if len(got) != 3 || kept != 1 {
		t.Errorf("conflicting_events: %+v, want three copies, one kept", got)
	}
	if _, sha := keptCopy(t, c, "e1"); sha != fileSHA256(t, earlier) {
		t.Error("events does not hold the copy marked kept")
	}
	if n := queryInt(t, c.DB, "select count(*) from events"); n != 2 {
		t.Errorf("%d events, want 2 (e1, e5)", n)
	}
}

// Copies far apart in the case (here 6,000 rows, several clusters of rows
// read apart) are all found, and so they are when the case is read in one
// pass, as when the clusters are many.
func TestCopiesFarApartInTheCase(t *testing.T) {
	for _, clusters := range []int{maxCopyClusters, 0} {
		t.Run(fmt.Sprintf("clusters %d", clusters), func(t *testing.T) {
			defer func(n int) { maxCopyClusters = n }(maxCopyClusters)
			maxCopyClusters = clusters
			records := []string{deleteTrail}
			for i := range 3000 {
				records = append(records, otherEvent(fmt.Sprintf("f%d", i)))
			}
			records = append(records, otherEvent("e2"))
			for i := range 3000 {
				records = append(records, otherEvent(fmt.Sprintf("g%d", i)))
			}
			records = append(records, otherEvent("e3"))
			c := openTestCase(t)
			dir := t.TempDir()
			ingestPaths(t, c, recordsFile(t, filepath.Join(dir, ctName("20240305T1005Z", "aaaa0001")), records...))

			forgedE3 := strings.Replace(otherEvent("e3"), `"198.51.100.7"`, `"10.0.0.1"`, 1)
			o := ingestPaths(t, c, recordsFile(t, filepath.Join(dir, ctName("20240305T1010Z", "bbbb0001")),
				forgedTrail, otherEvent("e2"), forgedE3, otherEvent("new")))[0]
			if o.Status != StatusLoaded || o.Records != 4 || o.Duplicates != 1 || !strings.Contains(o.Error, "2 records have copies with other content") {
				t.Errorf("later file: %+v, want loaded with 1 duplicate (e2) and 2 conflicts (e1, e3)", o)
			}
			ids := map[string]int{}
			rows, err := c.DB.Query("select event_id from conflicting_events")
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err != nil {
					t.Fatal(err)
				}
				ids[id]++
			}
			if err := rows.Close(); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ids, map[string]int{"e1": 2, "e3": 2}) {
				t.Errorf("conflicting copies by event: %v, want both copies of e1 and of e3", ids)
			}
			if n := queryInt(t, c.DB, "select count(*) from events"); n != 6004 {
				t.Errorf("%d events, want 6,004 (each key once)", n)
			}
		})
	}
}

// The stored hash of an event's key, by which later runs find copies of the
// event, is the low half of the MD5 of "account/event_id" (an absent account
// as ""), whatever DuckDB's own hash() is: a case keeps finding copies of
// its events when a later credtrail brings a newer DuckDB library.
func TestKeyHashIsMD5OfTheKey(t *testing.T) {
	noAccount := strings.Replace(otherEvent("e2"), `,"recipientAccountId":"111122223333"`, "", 1)
	noID := strings.Replace(otherEvent("e3"), `"eventID":"e3",`, "", 1)
	if noAccount == otherEvent("e2") || noID == otherEvent("e3") {
		t.Fatal("the test events did not lose their recipientAccountId and eventID")
	}
	c := openTestCase(t)
	ingestPaths(t, c, recordsFile(t, filepath.Join(t.TempDir(), ctName("20240305T1005Z", "aaaa0001")), deleteTrail, noAccount, noID))
	rows, err := c.DB.Query("select event_id, coalesce(recipient_account_id, ''), key_hash from events order by event_id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var id, account string
		var got uint64
		if err := rows.Scan(&id, &account, &got); err != nil {
			t.Fatal(err)
		}
		sum := md5.Sum([]byte(account + "/" + id))
		if want := binary.LittleEndian.Uint64(sum[8:]); got != want {
			t.Errorf("event %s of %q: key_hash %d, want %d", id, account, got, want)
		}
		keys = append(keys, account+"/"+id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 3 || keys[0] != "111122223333/e1" || keys[1] != "/e2" || !strings.HasPrefix(keys[2], "111122223333/sha256:") {
		t.Errorf("keys %q, want e1, e2 without an account, and the record without an eventID", keys)
	}
}

func TestCanonicalJSON(t *testing.T) {
	tests := []struct{ in, want, wantErr string }{
		{in: `{"b":1,"a":[true,null,{"d":"x","c":-1.5e3}]}`, want: `{"a":[true,null,{"c":-1.5e3,"d":"x"}],"b":1}`},
		{in: " {\n \"b\" : { } ,\t\"a\" : [ ] }\n", want: `{"a":[],"b":{}}`},
		{in: `{"k":"\u0041\/\"q\"","\u00e9":"é"}`, want: `{"k":"A/\"q\"","é":"é"}`},
		{in: `"a\nb"`, want: `"a\nb"`},
		{in: `{"a":1,"b":2,"a":1}`, wantErr: `key "a" repeated`},
		{in: `{"a":1} {}`, wantErr: "data after the JSON value"},
		{in: `{"a":1`, wantErr: "unexpected EOF"},
		{in: `[1 2]`, wantErr: "unexpected '2'"},
		{in: strings.Repeat("[", 2000) + strings.Repeat("]", 2000), wantErr: "nested too deeply"},
	}
	for _, tt := range tests {
		got, err := canonicalJSON([]byte(tt.in))
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%.40s: error %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || string(got) != tt.want {
			t.Errorf("%.40s: %s %v, want %s", tt.in, got, err, tt.want)
		}
	}
	// Real records: the canonical form holds the same value.
	for _, name := range []string{"testdata/cloudtrail/shapes/array.json", "testdata/cloudtrail/shapes/lookup-events.json", "testdata/cloudtrail/shapes/insights.json"} {
		body, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := canonicalJSON(body)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var want, have any
		if err := json.Unmarshal(body, &want); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(got, &have); err != nil {
			t.Fatalf("%s: canonical form is not JSON: %v", name, err)
		}
		if !reflect.DeepEqual(want, have) {
			t.Errorf("%s: canonical form holds another value", name)
		}
	}
}
