package ingest

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const passwordPolicyQuery = `select account_id, present, minimum_password_length, require_symbols, require_numbers,
	require_uppercase_characters, require_lowercase_characters, allow_users_to_change_password,
	expire_passwords, max_password_age, password_reuse_prevention, hard_expiry, file_id
	from password_policy`

func TestPasswordPolicy(t *testing.T) {
	tests := []struct {
		name    string
		body    []byte
		account string
		note    string
		want    string
	}{
		{"every key", readFixture(t, "accountfiles/password-policy.json"), "", "",
			"NULL | true | 14 | true | true | true | false | true | true | 90 | 24 | false | 3"},
		{"some keys", readFixture(t, "accountfiles/password-policy-partial.json"), "", "",
			"NULL | true | 8 | NULL | true | NULL | NULL | NULL | false | NULL | NULL | NULL | 3"},
		{"account named by a wrapper", []byte(`{"AccountId": "111122223333", "PasswordPolicy": {}}`), "111122223333", "",
			"111122223333 | true | NULL | NULL | NULL | NULL | NULL | NULL | NULL | NULL | NULL | NULL | 3"},
		{"NoSuchEntity error object", readFixture(t, "accountfiles/password-policy-nosuchentity.json"), "111122223333",
			"the account has no password policy (NoSuchEntity)",
			"111122223333 | false | NULL | NULL | NULL | NULL | NULL | NULL | NULL | NULL | NULL | NULL | 3"},
		{"AWS CLI error text", readFixture(t, "accountfiles/password-policy-cli-error.json"), "111122223333",
			"the account has no password policy (NoSuchEntity)",
			"111122223333 | false | NULL | NULL | NULL | NULL | NULL | NULL | NULL | NULL | NULL | NULL | 3"},
		{"NoSuchEntity code alone", []byte(`{"Error": {"Code": "NoSuchEntity"}}`), "",
			"the account has no password policy (NoSuchEntity)",
			"NULL | false | NULL | NULL | NULL | NULL | NULL | NULL | NULL | NULL | NULL | NULL | 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := openTestCase(t)
			st := mustLoad(t, c, loadPasswordPolicy, 3, tt.body)
			if st.Records != 1 || st.Duplicates != 0 || st.AccountID != tt.account || st.Note != tt.note {
				t.Errorf("stats = %+v", st)
			}
			diffLines(t, "password_policy", dumpRows(t, c.DB, passwordPolicyQuery), []string{tt.want})
		})
	}
}

func TestPasswordPolicyErrors(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"access denied", `{"Error": {"Code": "AccessDenied", "Message": "User: arn:aws:iam::111122223333:user/a is not authorized"}}`,
			`Error: not a NoSuchEntity answer about the password policy (code "AccessDenied", message "User: arn:aws:iam::111122223333:user/a is not authorized")`},
		{"NoSuchEntity of another operation", `{"error": "An error occurred (NoSuchEntity) when calling the GetUser operation: The user with name bob cannot be found."}`,
			`error: not a NoSuchEntity answer about the password policy (code "NoSuchEntity", message "An error occurred (NoSuchEntity) when calling the GetUser operation: The user with name bob cannot be found.")`},
		{"NoSuchEntity of another entity", `{"Error": {"Code": "NoSuchEntity", "Message": "The role with name x cannot be found."}}`,
			`Error: not a NoSuchEntity answer about the password policy (code "NoSuchEntity", message "The role with name x cannot be found.")`},
		{"error that is neither", `{"Error": 42}`, "Error: neither a string nor an object: 42"},
		{"other JSON", `{"Something": {}}`, "neither PasswordPolicy nor an Error answer"},
		{"wrong type", "{\"PasswordPolicy\": {\n  \"MinimumPasswordLength\": \"8\"}}",
			"line 2: PasswordPolicy.MinimumPasswordLength: JSON string where an integer was expected"},
		{"null policy", `{"PasswordPolicy": null}`, "PasswordPolicy: null"},
		{"not an object", `[1]`, "line 1: document: JSON array where an object was expected"},
		{"not JSON", "{\"PasswordPolicy\": {\n,}}", "line 2: invalid JSON: invalid character ',' looking for beginning of object key string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := openTestCase(t)
			_, err := loadBody(t, c, loadPasswordPolicy, 1, []byte(tt.body))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error:\n got %v\nwant %s", err, tt.want)
			}
			if n := queryInt(t, c.DB, "select count(*) from password_policy"); n != 0 {
				t.Errorf("rejected file left %d rows", n)
			}
		})
	}
}

func TestAccountSummary(t *testing.T) {
	c := openTestCase(t)
	st := mustLoad(t, c, loadAccountSummary, 5, readFixture(t, "accountfiles/account-summary.json"))
	if st.Records != 8 || st.AccountID != "" {
		t.Errorf("stats = %+v", st)
	}
	diffLines(t, "account_summary", dumpRows(t, c.DB,
		"select account_id, key, value, file_id from account_summary order by key"), []string{
		"NULL | AccountAccessKeysPresent | 1 | 5",
		"NULL | AccountMFAEnabled | 0 | 5",
		"NULL | AccountSigningCertificatesPresent | 0 | 5",
		"NULL | GlobalEndpointTokenVersion | 2 | 5",
		"NULL | MFADevices | 1 | 5",
		"NULL | MFADevicesInUse | 1 | 5",
		"NULL | Users | 4 | 5",
		"NULL | UsersQuota | 5000 | 5",
	})

	st = mustLoad(t, c, loadAccountSummary, 6,
		[]byte(`{"AccountId": "111122223333", "SummaryMap": {"Users": 3.0, "AccountPasswordPresent": null}}`))
	if st.Records != 2 || st.AccountID != "111122223333" {
		t.Errorf("stats = %+v", st)
	}
	diffLines(t, "account_summary of file 6", dumpRows(t, c.DB,
		"select account_id, key, value from account_summary where file_id = 6 order by key"), []string{
		"111122223333 | AccountPasswordPresent | NULL",
		"111122223333 | Users | 3",
	})
}

func TestAccountSummaryErrors(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"string value", `{"SummaryMap": {"Groups": 1, "Users": "5"}}`, `SummaryMap.Users: not an integer: "5"`},
		{"fraction", `{"SummaryMap": {"Users": 1.5}}`, "SummaryMap.Users: not an integer: 1.5"},
		{"no SummaryMap", `{"Summary": {}}`, "SummaryMap: missing"},
		{"SummaryMap not an object", `{"SummaryMap": [1, 2]}`, "SummaryMap: not an object: [1, 2]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := openTestCase(t)
			_, err := loadBody(t, c, loadAccountSummary, 1, []byte(tt.body))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error:\n got %v\nwant %s", err, tt.want)
			}
			if n := queryInt(t, c.DB, "select count(*) from account_summary"); n != 0 {
				t.Errorf("rejected file left %d rows", n)
			}
		})
	}
}

func TestPublicKeys(t *testing.T) {
	wantKeys := []string{
		"a966b49eaadaaafbbd04dcf09838ed9c | MIIBCgKCAQEA | 2023-10-01T00:00:00Z | 2023-11-01T00:00:00Z",
		"eaf44f928102a9a0a734f10430b96ce3 | MIIBIjANBgkq | 2023-11-01T00:00:00.5Z | 2023-12-01T00:00:00Z",
	}
	const keysQuery = `select fingerprint, left(value, 12), validity_start_time, validity_end_time
		from public_keys order by fingerprint`
	for _, fixture := range []string{"public-keys-epoch.json", "public-keys-iso.json"} {
		t.Run(fixture, func(t *testing.T) {
			c := openTestCase(t)
			st := mustLoad(t, c, loadPublicKeys, 1, readFixture(t, "accountfiles/"+fixture))
			if st.Records != 2 || st.Duplicates != 0 || st.Note != "" {
				t.Errorf("stats = %+v", st)
			}
			diffLines(t, "public_keys", dumpRows(t, c.DB, keysQuery), wantKeys)
		})
	}
	t.Run("the same keys in a second export", func(t *testing.T) {
		c := openTestCase(t)
		mustLoad(t, c, loadPublicKeys, 1, readFixture(t, "accountfiles/public-keys-epoch.json"))
		st := mustLoad(t, c, loadPublicKeys, 2, readFixture(t, "accountfiles/public-keys-iso.json"))
		if st.Records != 2 || st.Duplicates != 2 {
			t.Errorf("stats = %+v", st)
		}
		diffLines(t, "public_keys", dumpRows(t, c.DB, keysQuery), wantKeys)
	})
	t.Run("fingerprint that is not the key's", func(t *testing.T) {
		c := openTestCase(t)
		st := mustLoad(t, c, loadPublicKeys, 1,
			[]byte(`{"PublicKeyList": [{"Value": "AAEC", "Fingerprint": "00000000000000000000000000000000"}]}`))
		want := "PublicKeyList[0]: Fingerprint 00000000000000000000000000000000 is not the MD5 of Value (b95f67f61ebb03619622d798f45fc2d3)"
		if st.Records != 1 || st.Note != want {
			t.Errorf("stats = %+v, want note %q", st, want)
		}
		if n := queryInt(t, c.DB, "select count(*) from public_keys where validity_start_time is null"); n != 1 {
			t.Errorf("%d keys without validity, want 1", n)
		}
	})
}

func TestPublicKeysErrors(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"bad base64", `{"PublicKeyList": [{"Value": "MIIB!", "Fingerprint": "ab"}]}`,
			"PublicKeyList[0].Value: invalid base64: illegal base64 data at input byte 4"},
		{"bad time", `{"PublicKeyList": [{"Value": "AAEC", "Fingerprint": "ab", "ValidityStartTime": 1}, {"Value": "AAEC", "Fingerprint": "cd", "ValidityEndTime": "soon"}]}`,
			`PublicKeyList[1].ValidityEndTime: invalid time "soon"`},
		{"no fingerprint", `{"PublicKeyList": [{"Value": "AAEC"}]}`, "PublicKeyList[0].Fingerprint: missing"},
		{"no value", `{"PublicKeyList": [{"Fingerprint": "ab"}]}`, "PublicKeyList[0].Value: missing"},
		{"no list", `{"PublicKeys": []}`, "PublicKeyList: missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := openTestCase(t)
			_, err := loadBody(t, c, loadPublicKeys, 1, []byte(tt.body))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error:\n got %v\nwant %s", err, tt.want)
			}
			if n := queryInt(t, c.DB, "select count(*) from public_keys"); n != 0 {
				t.Errorf("rejected file left %d rows", n)
			}
		})
	}
}

const (
	digestQuery = `select file_id, account_id, digest_start_time, digest_end_time, digest_s3_bucket, digest_s3_object,
		digest_public_key_fingerprint, digest_signature_algorithm, newest_event_time, oldest_event_time,
		previous_digest_s3_bucket, previous_digest_s3_object, previous_digest_hash_value,
		previous_digest_hash_algorithm, previous_digest_signature
		from digests order by file_id`
	digestLogFilesQuery = `select digest_file_id, log_file_index, s3_bucket, s3_object, hash_value, hash_algorithm,
		newest_event_time, oldest_event_time
		from digest_log_files order by digest_file_id, log_file_index`
)

func TestDigest(t *testing.T) {
	c := openTestCase(t)
	body := readFixture(t, "accountfiles/digest.json")
	st := mustLoad(t, c, loadDigest, 10, body)
	want := fileStats{Records: 2, AccountID: "111122223333",
		First: time.Date(2024, 5, 1, 10, 4, 7, 0, time.UTC), Last: time.Date(2024, 5, 1, 11, 4, 7, 0, time.UTC)}
	if st != want {
		t.Errorf("stats = %+v, want %+v", st, want)
	}
	// The \/ escapes AWS writes are read as /.
	diffLines(t, "digests", dumpRows(t, c.DB, digestQuery), []string{
		"10 | 111122223333 | 2024-05-01T10:04:07Z | 2024-05-01T11:04:07Z | org-trail-bucket | " +
			"AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2024/05/01/111122223333_CloudTrail-Digest_eu-west-1_main_us-east-1_20240501T110407Z.json.gz | " +
			"a966b49eaadaaafbbd04dcf09838ed9c | SHA256withRSA | 2024-05-01T10:58:00Z | 2024-05-01T10:01:30Z | org-trail-bucket | " +
			"AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2024/05/01/111122223333_CloudTrail-Digest_eu-west-1_main_us-east-1_20240501T100407Z.json.gz | " +
			"5f0c3b9d1a4e8f7265c3d9b0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4 | SHA-256 | 0a1b2c3d4e5f",
	})
	diffLines(t, "digest_log_files", dumpRows(t, c.DB, digestLogFilesQuery), []string{
		"10 | 0 | org-trail-bucket | AWSLogs/111122223333/CloudTrail/eu-west-1/2024/05/01/111122223333_CloudTrail_eu-west-1_20240501T1005Z_AbCdEfGhIjKlMnOp.json.gz | " +
			"1111111111111111111111111111111111111111111111111111111111111111 | SHA-256 | 2024-05-01T10:03:10Z | 2024-05-01T10:01:30Z",
		"10 | 1 | org-trail-bucket | AWSLogs/111122223333/CloudTrail/eu-west-1/2024/05/01/111122223333_CloudTrail_eu-west-1_20240501T1100Z_QrStUvWxYz012345.json.gz | " +
			"2222222222222222222222222222222222222222222222222222222222222222 | SHA-256 | 2024-05-01T10:58:00Z | 2024-05-01T10:40:00Z",
	})
	// content_sha256 is of the exact bytes, escapes and all: what the next
	// digest's previousDigestHashValue covers.
	sum := sha256.Sum256(body)
	if n := queryInt(t, c.DB, "select count(*) from digests where content_sha256 = ?", hex.EncodeToString(sum[:])); n != 1 {
		t.Errorf("content_sha256 is not the SHA-256 of the body")
	}

	// A starting digest of an hour without logs.
	st = mustLoad(t, c, loadDigest, 11, readFixture(t, "accountfiles/digest-empty-start.json"))
	if st.Records != 0 || st.AccountID != "111122223333" || st.First.IsZero() {
		t.Errorf("empty digest: stats = %+v", st)
	}
	diffLines(t, "empty digest", dumpRows(t, c.DB, digestQuery+" offset 1"), []string{
		"11 | 111122223333 | 2024-05-01T09:04:07Z | 2024-05-01T10:04:07Z | org-trail-bucket | " +
			"AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2024/05/01/111122223333_CloudTrail-Digest_eu-west-1_main_us-east-1_20240501T100407Z.json.gz | " +
			"a966b49eaadaaafbbd04dcf09838ed9c | SHA256withRSA | NULL | NULL | NULL | NULL | NULL | NULL | NULL",
	})

	// The same digest again (say, once gzipped and once not): kept once.
	st = mustLoad(t, c, loadDigest, 12, body)
	if st.Records != 2 || st.Duplicates != 2 || st.Note != "same digest as file 10: not loaded again" {
		t.Errorf("copy: stats = %+v", st)
	}
	if n := queryInt(t, c.DB, "select count(*) from digest_log_files"); n != 2 {
		t.Errorf("%d log file rows, want 2", n)
	}
}

func TestDigestErrors(t *testing.T) {
	const head = `{"awsAccountId":"111122223333","digestStartTime":"2024-05-01T09:04:07Z","digestEndTime":"2024-05-01T10:04:07Z",`
	tests := []struct {
		name, body, want string
	}{
		{"bad log file time", head + `"logFiles":[{"newestEventTime":"2024-05-01T10:00:00Z"},{"newestEventTime":"10:00"}]}`,
			`logFiles[1].newestEventTime: invalid time "10:00"`},
		{"bad digest time", head + `"oldestEventTime":"2024-05-01 25:00:00+00:00","logFiles":[]}`,
			`oldestEventTime: invalid time "2024-05-01 25:00:00+00:00": hour out of range`},
		{"no account", `{"digestStartTime":"2024-05-01T09:04:07Z","digestEndTime":"2024-05-01T10:04:07Z","logFiles":[]}`,
			"awsAccountId: missing"},
		{"no end time", `{"awsAccountId":"111122223333","digestStartTime":"2024-05-01T09:04:07Z","logFiles":[]}`,
			"digestEndTime: missing"},
		{"two digests in one file", head + `"logFiles":[]}` + "\n" + head + `"logFiles":[]}`,
			"line 2: invalid JSON: invalid character '{' after top-level value"},
		{"logFiles not a list", head + "\n" + `"logFiles":{}}`, "line 2: logFiles: JSON object where an array was expected"},
		{"bucket not a string", head + `"digestS3Bucket":7,"logFiles":[]}`, "line 1: digestS3Bucket: JSON number where a string was expected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := openTestCase(t)
			_, err := loadBody(t, c, loadDigest, 1, []byte(tt.body))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error:\n got %v\nwant %s", err, tt.want)
			}
			if n := queryInt(t, c.DB, "select count(*) from digests"); n != 0 {
				t.Errorf("rejected file left %d digests", n)
			}
		})
	}
}

// The real extra files and digests of the corpus load without error.
func TestPasswordPolicySummaryPublicKeysDigestCorpus(t *testing.T) {
	corpusDir(t) // skips the whole test, not only its subtests, without the corpus
	tests := []struct {
		path    string
		load    bodyLoader
		records int64
		account string
	}{
		{"extra/awscli-examples/get-account-password-policy.json", loadPasswordPolicy, 1, ""},
		{"extra/awscli-examples/get-account-summary.json", loadAccountSummary, 23, ""},
		{"extra/cloudmapper/iam-get-account-summary.json", loadAccountSummary, 33, ""},
		{"extra/awscli-examples/list-public-keys.json", loadPublicKeys, 1, ""},
		{"digest/elastic-integrations/test-cloudtrail-digest-json.log", loadDigest, 3, "123456789123"},
		{"digest/llm-guard/327878933619_CloudTrail-Digest_ap-northeast-1_llm-guard-trail_us-west-2_20231015T230404Z.json", loadDigest, 5, "327878933619"},
	}
	c := openTestCase(t)
	for i, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			st := mustLoad(t, c, tt.load, int64(i+1), readCorpusFile(t, tt.path))
			if st.Records != tt.records || st.Duplicates != 0 || st.AccountID != tt.account || st.Note != "" {
				t.Errorf("stats = %+v", st)
			}
		})
	}
	diffLines(t, "password policy", dumpRows(t, c.DB, passwordPolicyQuery), []string{
		"NULL | true | 8 | true | true | false | false | false | NULL | NULL | NULL | NULL | 1",
	})
	diffLines(t, "public key", dumpRows(t, c.DB, "select fingerprint, validity_start_time, validity_end_time from public_keys"),
		[]string{"7f3f401420072e50a65a141430817ab3 | 2016-01-18T00:25:02Z | 2016-02-17T00:25:02Z"})
	diffLines(t, "digests", dumpRows(t, c.DB, `select d.account_id, d.digest_end_time, count(l.s3_object),
		count(*) filter (where l.s3_object like 'AWSLogs/' || d.account_id || '/CloudTrail/%')
		from digests d join digest_log_files l on l.digest_file_id = d.file_id
		group by all order by 1`), []string{
		"123456789123 | 2020-09-11T19:36:49Z | 3 | 3",
		"327878933619 | 2023-10-15T23:04:04Z | 5 | 5",
	})
}

// Digests that arrive together are stored together (storeDigests), with the
// same outcome as one by one: a digest whose bytes came earlier in the batch
// or in an earlier run is a copy, a bad one is rejected alone.
func TestDigestsOfOneBatch(t *testing.T) {
	c := openTestCase(t)
	body := readFixture(t, "accountfiles/digest.json")
	write := func(dir, name string, b []byte) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// One batch of good digests, stored together.
	dir := t.TempDir()
	write(dir, "a-digest.json", body)
	write(dir, "b-digest.json.gz", gzipBytes(t, body)) // another file, the same digest inside
	write(dir, "c-digest.json", readFixture(t, "accountfiles/digest-empty-start.json"))
	outcomes := ingestPaths(t, c, dir)
	first := outcomeOf(t, outcomes, "a-digest.json")
	if first.Status != StatusLoaded || first.Records != 2 || first.Error != "" {
		t.Errorf("first digest: %+v", first)
	}
	want := fmt.Sprintf("same digest as file %d: not loaded again", first.FileID)
	if o := outcomeOf(t, outcomes, "b-digest.json.gz"); o.Status != StatusLoaded || o.Duplicates != 2 || o.Error != want {
		t.Errorf("copy in the same batch: %+v", o)
	}
	if o := outcomeOf(t, outcomes, "c-digest.json"); o.Status != StatusLoaded || o.Records != 0 || o.Error != "" {
		t.Errorf("empty digest: %+v", o)
	}
	if n := queryInt(t, c.DB, "select count(*) from digests"); n != 2 {
		t.Errorf("%d digests, want 2", n)
	}
	if n := queryInt(t, c.DB, "select count(*) from digest_log_files"); n != 2 {
		t.Errorf("%d log file rows, want 2", n)
	}

	// A later batch with a bad digest: it is rejected alone, a digest with
	// other bytes loads, and a copy of one of the first run is a copy.
	dir = t.TempDir()
	write(dir, "d-digest.json", bytes.Replace(body, []byte(`"2024-05-01T10:58:00Z"`), []byte(`"10:58"`), 1))
	write(dir, "e-digest.json", append(append([]byte{}, body...), '\n'))
	var named bytes.Buffer // gzipped under a name: not the bytes of b-digest.json.gz
	zw := gzip.NewWriter(&named)
	zw.Name = "digest.json"
	zw.Write(body)
	zw.Close()
	write(dir, "f-digest.json.gz", named.Bytes())
	outcomes = ingestPaths(t, c, dir)
	if o := outcomeOf(t, outcomes, "d-digest.json"); o.Status != StatusRejected || !strings.Contains(o.Error, `newestEventTime: invalid time "10:58"`) {
		t.Errorf("bad digest: %+v", o)
	}
	if o := outcomeOf(t, outcomes, "e-digest.json"); o.Status != StatusLoaded || o.Error != "" || o.Records != 2 {
		t.Errorf("digest with other bytes: %+v", o)
	}
	if o := outcomeOf(t, outcomes, "f-digest.json.gz"); o.Status != StatusLoaded || o.Error != want {
		t.Errorf("copy in a later run: %+v", o)
	}
	if n := queryInt(t, c.DB, "select count(*) from digests"); n != 3 {
		t.Errorf("%d digests after the second run, want 3", n)
	}
}
