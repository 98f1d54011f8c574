package samples

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// readTree returns every file under dir by relative path.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		files[filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// diffTrees reports the first differences between two trees.
func diffTrees(t *testing.T, got, want map[string][]byte, ignore ...string) {
	t.Helper()
	n := 0
	for name, w := range want {
		if slices.Contains(ignore, name) {
			continue
		}
		g, ok := got[name]
		switch {
		case !ok:
			t.Errorf("missing %s", name)
		case !bytes.Equal(g, w):
			t.Errorf("%s differs (%d bytes, want %d)", name, len(g), len(w))
		default:
			continue
		}
		if n++; n > 10 {
			t.Fatal("too many differences")
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok && !slices.Contains(ignore, name) {
			t.Errorf("unexpected %s", name)
		}
	}
}

func TestDeterminism(t *testing.T) {
	if testing.Short() {
		t.Skip("generates the small case twice")
	}
	base := t.TempDir()
	o1, o2 := smallOptions(), smallOptions()
	o1.Workers, o2.Workers = 1, 3 // the schedule must not matter
	if _, err := Generate(context.Background(), filepath.Join(base, "a"), o1); err != nil {
		t.Fatal(err)
	}
	if _, err := Generate(context.Background(), filepath.Join(base, "b"), o2); err != nil {
		t.Fatal(err)
	}
	a, b := readTree(t, filepath.Join(base, "a")), readTree(t, filepath.Join(base, "b"))
	diffTrees(t, b, a)
	if len(a) < 100 {
		t.Errorf("only %d files generated", len(a))
	}

	o3 := smallOptions()
	o3.Seed++
	if _, err := Generate(context.Background(), filepath.Join(base, "c"), o3); err != nil {
		t.Fatal(err)
	}
	c := readTree(t, filepath.Join(base, "c"))
	if bytes.Equal(a["expected.json"], c["expected.json"]) {
		t.Error("another seed gives the same expected.json")
	}
}

func TestGenerateRefusesExistingCase(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "README.md"), []byte("notes"), 0o644)
	o := smallOptions()
	o.Days, o.EventsPerDay, o.Accounts = 2, 10, 1
	if _, err := Generate(context.Background(), dir, o); err != nil {
		t.Fatalf("a directory with only a README must be accepted: %v", err)
	}
	if _, err := Generate(context.Background(), dir, o); err == nil || !strings.Contains(err.Error(), "already holds a case") {
		t.Fatalf("second Generate into the same directory: err = %v", err)
	}
}

func TestGenerateCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Generate(ctx, t.TempDir(), smallOptions()); err == nil {
		t.Fatal("Generate with a cancelled context succeeded")
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, c := range []struct {
		name string
		mod  func(*Options)
	}{
		{"no accounts", func(o *Options) { o.Accounts = 0 }},
		{"negative users", func(o *Options) { o.Users = -1 }},
		{"no days", func(o *Options) { o.Days = 0 }},
		{"negative events", func(o *Options) { o.EventsPerDay = -5 }},
		{"no as-of", func(o *Options) { o.AsOf = time.Time{} }},
	} {
		o := DefaultOptions()
		c.mod(&o)
		if err := o.Validate(); err == nil {
			t.Errorf("%s: Validate() = nil", c.name)
		}
	}
	if err := DefaultOptions().Validate(); err != nil {
		t.Errorf("default options: %v", err)
	}
}

// TestOtherShapes: the stories and the exports stay consistent in other
// shapes of case: one account and a one-day window, many accounts and an
// as-of time that is not midnight.
func TestOtherShapes(t *testing.T) {
	if testing.Short() {
		t.Skip("generates two more cases")
	}
	for name, o := range map[string]Options{
		"one account, one day": {Accounts: 1, Days: 1, EventsPerDay: 50, Seed: 11, AsOf: DefaultAsOf},
		"three accounts, odd as-of": {Accounts: 3, Users: 4, Roles: 3, Days: 4, EventsPerDay: 300, Seed: 12,
			AsOf: DefaultAsOf.Add(-37*time.Hour - 17*time.Minute)},
	} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "case")
			if _, err := Generate(context.Background(), dir, o); err != nil {
				t.Fatal(err)
			}
			c, err := loadCase(dir, o)
			if err != nil {
				t.Fatal(err)
			}
			checkFacts(t, c)
			checkConsistency(t, c)
		})
	}
}

func TestLogFileLayout(t *testing.T) {
	c := smallCase(t)
	records := map[string]int{}
	for key, body := range c.logKeys {
		m := logKeyRE.FindStringSubmatch(key)
		if m == nil {
			t.Errorf("%s: not an organization trail log file key", key)
			continue
		}
		if m[2] != m[7] || m[3] != m[8] || m[4]+m[5]+m[6] != m[9][:8] {
			t.Errorf("%s: account, region or date of the path and the name disagree", key)
		}
		var f struct {
			Records []json.RawMessage
		}
		if err := json.Unmarshal(body, &f); err != nil || !bytes.HasPrefix(body, []byte(`{"Records":[{`)) {
			t.Errorf("%s: not {\"Records\":[…]}: %v", key, err)
			continue
		}
		records[key] = len(f.Records)
		if n := len(f.Records); n < 1 || n > maxRecordsPerFile {
			t.Errorf("%s: %d records", key, n)
		}
		delivered, _ := time.Parse("20060102T1504Z", m[9])
		for _, raw := range f.Records {
			var e ctEvent
			json.Unmarshal(raw, &e)
			if e.RecipientAccountID != m[2] || e.AwsRegion != m[3] {
				t.Errorf("%s: event %s of account %s in %s", key, e.EventID, e.RecipientAccountID, e.AwsRegion)
			}
			if e.EventTime.After(delivered) || delivered.Sub(e.EventTime) > 70*time.Minute {
				t.Errorf("%s: event %s at %s, delivered %s", key, e.EventID, e.EventTime, delivered)
			}
		}
	}
	if len(records) == 0 {
		t.Fatal("no log files")
	}
}

func TestEventShapes(t *testing.T) {
	c := smallCase(t)
	required := []string{"eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion", "sourceIPAddress",
		"userAgent", "requestParameters", "responseElements", "eventID", "readOnly", "eventType", "managementEvent", "recipientAccountId", "eventCategory"}
	versionRE := regexp.MustCompile(`^1\.(0[89]|1[01])$`)
	types := map[string]int{}
	for key, body := range c.logKeys {
		var f struct{ Records []map[string]json.RawMessage }
		json.Unmarshal(body, &f)
		for _, r := range f.Records {
			for _, k := range required {
				if _, ok := r[k]; !ok {
					t.Fatalf("%s: record without %s: %s", key, k, r["eventID"])
				}
			}
			var v string
			json.Unmarshal(r["eventVersion"], &v)
			if !versionRE.MatchString(v) {
				t.Errorf("eventVersion %q", v)
			}
		}
	}
	for _, e := range c.ordered {
		types[e.UserIdentity.Type]++
		if e.EventTime.Before(c.windowStart) || !e.EventTime.Before(c.asOf) {
			t.Errorf("event %s at %s, outside the window", e.EventID, e.EventTime)
		}
		switch e.UserIdentity.Type {
		case "AssumedRole":
			sc := e.UserIdentity.SessionContext
			if sc == nil || !strings.HasPrefix(e.UserIdentity.AccessKeyID, "ASIA") || !strings.Contains(sc.SessionIssuer.Arn, ":role/") {
				t.Errorf("event %s: AssumedRole without a session issuer and an ASIA key", e.EventID)
			}
		case "AWSService":
			if e.UserIdentity.InvokedBy == "" {
				t.Errorf("event %s: AWSService without invokedBy", e.EventID)
			}
		}
		global := map[string]bool{"iam.amazonaws.com": true, "signin.amazonaws.com": true, "organizations.amazonaws.com": true, "cloudfront.amazonaws.com": true, "ce.amazonaws.com": true}
		if global[e.EventSource] && e.AwsRegion != "us-east-1" {
			t.Errorf("event %s: global service %s logged in %s", e.EventID, e.EventSource, e.AwsRegion)
		}
		if e.EventCategory == "Data" && (e.ManagementEvent == nil || *e.ManagementEvent) {
			t.Errorf("event %s: data event with managementEvent true", e.EventID)
		}
	}
	for _, want := range []string{"AWSService", "AssumedRole", "IAMUser", "Root", "AWSAccount", "WebIdentityUser"} {
		if types[want] == 0 {
			t.Errorf("no %s events", want)
		}
	}
	// Background mix: mostly reads, a few percent errors.
	var reads, errs int
	for _, e := range c.ordered {
		if *e.ReadOnly {
			reads++
		}
		if e.ErrorCode != "" || e.ErrorMessage != "" {
			errs++
		}
	}
	n := len(c.ordered)
	if reads*100/n < 55 || errs*1000/n < 5 || errs*100/n > 5 {
		t.Errorf("%d events: %d reads, %d errors", n, reads, errs)
	}
}

func TestCredentialReportFormat(t *testing.T) {
	c := smallCase(t)
	if len(c.reportCSV) != c.opts.Accounts {
		t.Fatalf("%d credential reports for %d accounts", len(c.reportCSV), c.opts.Accounts)
	}
	tsRE := regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$`)
	for acct, data := range c.reportCSV {
		lines := strings.Split(string(data), "\n")
		if lines[0] != credentialReportHeader {
			t.Errorf("%s: header %q", acct, lines[0])
		}
		if bytes.HasSuffix(data, []byte("\n")) {
			t.Errorf("%s: trailing newline", acct)
		}
		if !strings.HasPrefix(lines[1], "<root_account>,arn:aws:iam::"+acct+":root,") {
			t.Errorf("%s: first row %q", acct, lines[1])
		}
		for _, row := range c.reports[acct] {
			if len(row) != 22 {
				t.Errorf("%s: row with %d columns", acct, len(row))
			}
			for col, v := range row {
				switch {
				case strings.HasSuffix(col, "_active") || col == "password_enabled" && v != "not_supported":
					if v != "true" && v != "false" {
						t.Errorf("%s %s: %s = %q", acct, row["user"], col, v)
					}
				case strings.Contains(col, "_time") || strings.Contains(col, "last_") || strings.HasSuffix(col, "_rotation") || strings.HasSuffix(col, "_changed") || strings.HasSuffix(col, "_rotated"):
					if strings.HasSuffix(col, "_region") || strings.HasSuffix(col, "_service") {
						continue
					}
					if !tsRE.MatchString(v) && v != "N/A" && v != "no_information" && v != "not_supported" {
						t.Errorf("%s %s: %s = %q", acct, row["user"], col, v)
					}
				}
			}
		}
		wrapper, err := os.ReadFile(filepath.Join(c.dir, "iam", acct, "get-credential-report.json"))
		if err != nil {
			t.Fatal(err)
		}
		csv, gen, err := decodeWrapper(wrapper)
		if err != nil || !bytes.Equal(csv, data) {
			t.Errorf("%s: the JSON wrapper does not carry the CSV (err %v)", acct, err)
		}
		if gen != isoTime(c.asOf.Unix()) {
			t.Errorf("%s: GeneratedTime %s", acct, gen)
		}
	}
}

func TestAuthorizationDetailsFormat(t *testing.T) {
	c := smallCase(t)
	var encoded, objects, paged int
	for acct, g := range c.gaad {
		for _, p := range g.pages {
			for _, k := range []string{"UserDetailList", "GroupDetailList", "RoleDetailList", "Policies", "IsTruncated"} {
				if p[k] == nil {
					t.Errorf("%s: page without %s", acct, k)
				}
			}
			if string(p["IsTruncated"]) == "true" {
				paged++
				if p["Marker"] == nil {
					t.Errorf("%s: truncated page without Marker", acct)
				}
			}
			if bytes.Contains(p["RoleDetailList"], []byte(`"AssumeRolePolicyDocument": "%7B`)) {
				encoded++
			} else {
				objects++
			}
		}
		if len(g.users) == 0 || len(g.roles) == 0 || len(g.policies) == 0 {
			t.Errorf("%s: %d users, %d roles, %d policies", acct, len(g.users), len(g.roles), len(g.policies))
		}
	}
	if encoded == 0 || objects == 0 || paged != 1 {
		t.Errorf("pages: %d URL-encoded, %d with objects, %d truncated; want both styles and one paged account", encoded, objects, paged)
	}
}

func TestDigestChain(t *testing.T) {
	c := smallCase(t)
	if len(c.digests) == 0 {
		t.Fatal("no digest files")
	}
	type digest struct {
		DigestStartTime, DigestEndTime   time.Time
		DigestS3Object                   string
		PreviousDigestS3Object           *string
		PreviousDigestHashValue          *string
		PreviousDigestSignature          *string
		NewestEventTime, OldestEventTime *time.Time
		LogFiles                         []struct{ S3Object, HashValue string }
	}
	keys := make([]string, 0, len(c.digests))
	for k := range c.digests {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	listed := map[string]int{}
	var region, acct string
	for i, key := range keys {
		m := digestKeyRE.FindStringSubmatch(key)
		if m == nil {
			t.Fatalf("%s: not a digest key", key)
		}
		region, acct = m[3], m[2]
		var d digest
		body := c.digests[key]
		if !bytes.Contains(body, []byte(`\/CloudTrail-Digest\/`)) {
			t.Errorf("%s: '/' not escaped as AWS does", key)
		}
		if err := json.Unmarshal(body, &d); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if d.DigestS3Object != key {
			t.Errorf("%s: digestS3Object %s", key, d.DigestS3Object)
		}
		if i == 0 {
			if d.PreviousDigestS3Object != nil || d.PreviousDigestHashValue != nil || d.PreviousDigestSignature != nil {
				t.Errorf("%s: the first digest of the chain has a previous digest", key)
			}
		} else {
			sum := sha256.Sum256(c.digests[keys[i-1]])
			if d.PreviousDigestS3Object == nil || *d.PreviousDigestS3Object != keys[i-1] || *d.PreviousDigestHashValue != hex.EncodeToString(sum[:]) || len(*d.PreviousDigestSignature) != 512 {
				t.Errorf("%s: not chained to %s", key, keys[i-1])
			}
		}
		if d.DigestEndTime.Sub(d.DigestStartTime) != time.Hour {
			t.Errorf("%s: covers %s to %s", key, d.DigestStartTime, d.DigestEndTime)
		}
		if (len(d.LogFiles) == 0) != (d.NewestEventTime == nil) {
			t.Errorf("%s: %d log files, newestEventTime %v", key, len(d.LogFiles), d.NewestEventTime)
		}
		for _, f := range d.LogFiles {
			body, ok := c.logKeys[f.S3Object]
			if !ok {
				t.Errorf("%s lists %s, which does not exist", key, f.S3Object)
				continue
			}
			sum := sha256.Sum256(body)
			if hex.EncodeToString(sum[:]) != f.HashValue {
				t.Errorf("%s: hash of %s differs", key, f.S3Object)
			}
			listed[f.S3Object]++
		}
	}
	for key := range c.logKeys {
		m := logKeyRE.FindStringSubmatch(key)
		if m[2] == acct && m[3] == region && listed[key] != 1 {
			t.Errorf("%s is listed in %d digests", key, listed[key])
		}
	}
}
