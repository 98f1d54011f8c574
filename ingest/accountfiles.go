package ingest

import (
	"bytes"
	"cmp"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Small account-level exports (FORMATS.md A4) and CloudTrail digest and
// public-key files (A3.7). Each is one JSON document read whole.

// loadPasswordPolicy loads get-account-password-policy output, or the
// NoSuchEntity answer that means the account has no password policy.
func loadPasswordPolicy(ctx context.Context, tx *sql.Tx, fileID int64, body []byte) (fileStats, error) {
	doc, err := jsonObject(body)
	if err != nil {
		return fileStats{}, err
	}
	accountID, err := documentAccountID(doc)
	if err != nil {
		return fileStats{}, err
	}
	raw, ok := doc["PasswordPolicy"]
	if !ok {
		errKey := "Error"
		errRaw, hasError := doc[errKey]
		if !hasError {
			errKey = "error"
			errRaw, hasError = doc[errKey]
		}
		if !hasError {
			return fileStats{}, errors.New("neither PasswordPolicy nor an Error answer")
		}
		account, err := passwordPolicyNoSuchEntity(errKey, errRaw)
		if err != nil {
			return fileStats{}, err
		}
		accountID = cmp.Or(accountID, account)
		if _, err := tx.ExecContext(ctx,
			"insert into password_policy (account_id, present, file_id) values (?, false, ?)",
			stringOrNull(accountID), fileID); err != nil {
			return fileStats{}, fmt.Errorf("insert password policy: %w", err)
		}
		return fileStats{Records: 1, AccountID: accountID, Note: "the account has no password policy (NoSuchEntity)"}, nil
	}
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return fileStats{}, errors.New("PasswordPolicy: null")
	}
	var answer struct {
		PasswordPolicy struct {
			MinimumPasswordLength      *int64
			RequireSymbols             *bool
			RequireNumbers             *bool
			RequireUppercaseCharacters *bool
			RequireLowercaseCharacters *bool
			AllowUsersToChangePassword *bool
			ExpirePasswords            *bool
			MaxPasswordAge             *int64
			PasswordReusePrevention    *int64
			HardExpiry                 *bool
		}
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		return fileStats{}, jsonDecodeError(body, err)
	}
	p := answer.PasswordPolicy
	if _, err := tx.ExecContext(ctx,
		`insert into password_policy (account_id, present, minimum_password_length, require_symbols,
		   require_numbers, require_uppercase_characters, require_lowercase_characters,
		   allow_users_to_change_password, expire_passwords, max_password_age, password_reuse_prevention,
		   hard_expiry, file_id)
		 values (?, true, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		stringOrNull(accountID), ptrOrNull(p.MinimumPasswordLength), ptrOrNull(p.RequireSymbols),
		ptrOrNull(p.RequireNumbers), ptrOrNull(p.RequireUppercaseCharacters), ptrOrNull(p.RequireLowercaseCharacters),
		ptrOrNull(p.AllowUsersToChangePassword), ptrOrNull(p.ExpirePasswords), ptrOrNull(p.MaxPasswordAge),
		ptrOrNull(p.PasswordReusePrevention), ptrOrNull(p.HardExpiry), fileID); err != nil {
		return fileStats{}, fmt.Errorf("insert password policy: %w", err)
	}
	return fileStats{Records: 1, AccountID: accountID}, nil
}

var (
	// otherOperation finds the operation an AWS CLI error text names.
	otherOperation = regexp.MustCompile(`when calling the (\w+) operation`)
	// policyDomain finds the account in "The Password Policy with domain name 123456789012 cannot be found."
	policyDomain = regexp.MustCompile(`(?i)password policy with domain name (\d{12})\b`)
)

// passwordPolicyNoSuchEntity accepts an error answer only when it clearly
// says the password policy does not exist: code NoSuchEntity (an object
// {"Code": …, "Message": …} as the API and boto3 give it, or the AWS CLI's
// "An error occurred (NoSuchEntity) when calling the GetAccountPasswordPolicy
// operation: …" text), about the password policy and no other operation.
// It returns the account the message names, if any.
func passwordPolicyNoSuchEntity(key string, raw json.RawMessage) (accountID string, err error) {
	var code, message string
	var text string
	if json.Unmarshal(raw, &text) == nil {
		message = text
		if strings.Contains(text, "(NoSuchEntity)") {
			code = "NoSuchEntity"
		}
	} else {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil {
			return "", fmt.Errorf("%s: neither a string nor an object: %s", key, clip(string(raw), 60))
		}
		for k, v := range obj {
			var s string
			if json.Unmarshal(v, &s) != nil {
				continue
			}
			switch strings.ToLower(k) {
			case "code":
				code = s
			case "message":
				message = s
			}
		}
	}
	isNoSuchEntity := strings.EqualFold(code, "NoSuchEntity") || strings.EqualFold(code, "NoSuchEntityException")
	aboutPolicy := message == "" ||
		strings.Contains(strings.ToLower(message), "password policy") ||
		strings.Contains(message, "GetAccountPasswordPolicy")
	if m := otherOperation.FindStringSubmatch(message); m != nil && m[1] != "GetAccountPasswordPolicy" {
		aboutPolicy = false
	}
	if !isNoSuchEntity || !aboutPolicy {
		return "", fmt.Errorf("%s: not a NoSuchEntity answer about the password policy (code %q, message %q)",
			key, code, clip(message, 200))
	}
	if m := policyDomain.FindStringSubmatch(message); m != nil {
		accountID = m[1]
	}
	return accountID, nil
}

// loadAccountSummary loads get-account-summary output: one row per key of
// SummaryMap, whatever the keys are (their set changes with the account's age).
func loadAccountSummary(ctx context.Context, tx *sql.Tx, fileID int64, body []byte) (fileStats, error) {
	doc, err := jsonObject(body)
	if err != nil {
		return fileStats{}, err
	}
	accountID, err := documentAccountID(doc)
	if err != nil {
		return fileStats{}, err
	}
	raw, ok := doc["SummaryMap"]
	if !ok {
		return fileStats{}, errors.New("SummaryMap: missing")
	}
	var summary map[string]json.RawMessage
	if err := json.Unmarshal(raw, &summary); err != nil || summary == nil {
		return fileStats{}, fmt.Errorf("SummaryMap: not an object: %s", clip(string(bytes.TrimSpace(raw)), 40))
	}
	stmt, err := tx.PrepareContext(ctx, "insert into account_summary (account_id, key, value, file_id) values (?, ?, ?, ?)")
	if err != nil {
		return fileStats{}, fmt.Errorf("insert account summary: %w", err)
	}
	defer stmt.Close()
	keys := slices.Sorted(maps.Keys(summary))
	for _, k := range keys {
		value, err := jsonInteger(summary[k])
		if err != nil {
			return fileStats{}, fmt.Errorf("SummaryMap.%s: %w", k, err)
		}
		if _, err := stmt.ExecContext(ctx, stringOrNull(accountID), k, value, fileID); err != nil {
			return fileStats{}, fmt.Errorf("SummaryMap.%s: insert: %w", k, err)
		}
	}
	return fileStats{Records: int64(len(keys)), AccountID: accountID}, nil
}

// jsonInteger is a JSON integer (a whole float too), nil for null.
func jsonInteger(raw json.RawMessage) (any, error) {
	s := string(bytes.TrimSpace(raw))
	if s == "null" {
		return nil, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return int64(f), nil
	}
	return nil, fmt.Errorf("not an integer: %s", clip(s, 40))
}

// loadPublicKeys loads `aws cloudtrail list-public-keys` output. A key whose
// fingerprint is already in the case (from this or an earlier file) counts
// as a duplicate and is not stored twice.
func loadPublicKeys(ctx context.Context, tx *sql.Tx, fileID int64, body []byte) (fileStats, error) {
	var doc struct {
		PublicKeyList *[]struct {
			Value             *string
			Fingerprint       *string
			ValidityStartTime json.RawMessage
			ValidityEndTime   json.RawMessage
		}
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return fileStats{}, jsonDecodeError(body, err)
	}
	if doc.PublicKeyList == nil {
		return fileStats{}, errors.New("PublicKeyList: missing")
	}
	var st fileStats
	var notes []string
	for i, k := range *doc.PublicKeyList {
		where := fmt.Sprintf("PublicKeyList[%d]", i)
		if k.Value == nil || *k.Value == "" {
			return fileStats{}, fmt.Errorf("%s.Value: missing", where)
		}
		if k.Fingerprint == nil || *k.Fingerprint == "" {
			return fileStats{}, fmt.Errorf("%s.Fingerprint: missing", where)
		}
		der, err := decodeBase64(*k.Value)
		if err != nil {
			return fileStats{}, fmt.Errorf("%s.Value: invalid base64: %w", where, err)
		}
		start, err := parseJSONTime(k.ValidityStartTime)
		if err != nil {
			return fileStats{}, fmt.Errorf("%s.ValidityStartTime: %w", where, err)
		}
		end, err := parseJSONTime(k.ValidityEndTime)
		if err != nil {
			return fileStats{}, fmt.Errorf("%s.ValidityEndTime: %w", where, err)
		}
		// CloudTrail's fingerprint is the hex MD5 of the DER key.
		if sum := md5.Sum(der); !strings.EqualFold(hex.EncodeToString(sum[:]), *k.Fingerprint) {
			notes = append(notes, fmt.Sprintf("%s: Fingerprint %s is not the MD5 of Value (%x)", where, *k.Fingerprint, sum))
		}
		st.Records++
		var known int64
		if err := tx.QueryRowContext(ctx, "select count(*) from public_keys where lower(fingerprint) = lower(?)",
			*k.Fingerprint).Scan(&known); err != nil {
			return fileStats{}, fmt.Errorf("%s: look up fingerprint: %w", where, err)
		}
		if known > 0 {
			st.Duplicates++
			continue
		}
		if _, err := tx.ExecContext(ctx,
			"insert into public_keys (fingerprint, value, validity_start_time, validity_end_time, file_id) values (?, ?, ?, ?, ?)",
			*k.Fingerprint, *k.Value, timeOrNull(start), timeOrNull(end), fileID); err != nil {
			return fileStats{}, fmt.Errorf("%s: insert: %w", where, err)
		}
	}
	st.Note = strings.Join(notes, "; ")
	return st, nil
}

// loadObjectMetadata loads `aws s3api head-object` output for a digest file:
// its Metadata.signature is the digest's signature, which the newest digest
// of a chain has nowhere else. Which digest it belongs to is not in the
// output; `credtrail verify` finds the digest the signature verifies.
func loadObjectMetadata(ctx context.Context, tx *sql.Tx, fileID int64, body []byte) (fileStats, error) {
	var doc struct {
		Metadata *struct {
			Signature          *string `json:"signature"`
			SignatureAlgorithm *string `json:"signature-algorithm"`
		}
		ETag          *string
		ContentLength *int64
		LastModified  *string
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return fileStats{}, jsonDecodeError(body, err)
	}
	if doc.Metadata == nil || doc.Metadata.Signature == nil || *doc.Metadata.Signature == "" {
		return fileStats{}, errors.New("Metadata.signature: missing (S3 object metadata that is not a CloudTrail digest's)")
	}
	sig := strings.TrimSpace(*doc.Metadata.Signature)
	if _, err := hex.DecodeString(sig); err != nil {
		return fileStats{}, fmt.Errorf("Metadata.signature: not hex: %s", clip(sig, 40))
	}
	var st fileStats
	if a := doc.Metadata.SignatureAlgorithm; a != nil && *a != "SHA256withRSA" {
		st.Note = fmt.Sprintf("Metadata.signature-algorithm %s is not SHA256withRSA, the only one CloudTrail uses", clip(*a, 40))
	}
	var known int64
	if err := tx.QueryRowContext(ctx, "select count(*) from digest_signatures where lower(signature) = lower(?)", sig).Scan(&known); err != nil {
		return fileStats{}, fmt.Errorf("look up signature: %w", err)
	}
	st.Records = 1
	if known > 0 {
		st.Duplicates = 1
		return st, nil
	}
	if _, err := tx.ExecContext(ctx, `insert into digest_signatures (file_id, signature, signature_algorithm, etag, content_length, last_modified)
		values (?, ?, ?, ?, ?, ?)`, fileID, sig, doc.Metadata.SignatureAlgorithm, doc.ETag, doc.ContentLength, doc.LastModified); err != nil {
		return fileStats{}, fmt.Errorf("insert: %w", err)
	}
	return st, nil
}

// digestLogFile is one entry of a digest's logFiles.
type digestLogFile struct {
	S3Bucket        *string         `json:"s3Bucket"`
	S3Object        *string         `json:"s3Object"`
	HashValue       *string         `json:"hashValue"`
	HashAlgorithm   *string         `json:"hashAlgorithm"`
	NewestEventTime json.RawMessage `json:"newestEventTime"`
	OldestEventTime json.RawMessage `json:"oldestEventTime"`
}

// loadDigest loads a CloudTrail digest file body, kept for `credtrail verify`:
// its SHA-256 over the exact bytes is what the next digest's
// previousDigestHashValue and the signature cover.
func loadDigest(ctx context.Context, tx *sql.Tx, fileID int64, body []byte) (fileStats, error) {
	d, err := parseDigest(fileID, body)
	if err != nil {
		return fileStats{}, err
	}
	if err := storeDigests(ctx, tx, []*parsedDigest{d}); err != nil {
		return fileStats{}, err
	}
	return d.stats, nil
}

// parsedDigest is a digest file checked and turned into its rows, ready for
// storeDigests.
type parsedDigest struct {
	fileID   int64
	sha256   string
	row      map[string]any   // the digests row, by column
	logFiles []map[string]any // its digest_log_files rows
	stats    fileStats
}

// parseDigest checks a digest body and turns it into rows. Its errors name
// the position in the file, as a bodyLoader's do.
func parseDigest(fileID int64, body []byte) (*parsedDigest, error) {
	var d struct {
		AWSAccountID                *string         `json:"awsAccountId"`
		DigestStartTime             json.RawMessage `json:"digestStartTime"`
		DigestEndTime               json.RawMessage `json:"digestEndTime"`
		DigestS3Bucket              *string         `json:"digestS3Bucket"`
		DigestS3Object              *string         `json:"digestS3Object"`
		DigestPublicKeyFingerprint  *string         `json:"digestPublicKeyFingerprint"`
		DigestSignatureAlgorithm    *string         `json:"digestSignatureAlgorithm"`
		NewestEventTime             json.RawMessage `json:"newestEventTime"`
		OldestEventTime             json.RawMessage `json:"oldestEventTime"`
		PreviousDigestS3Bucket      *string         `json:"previousDigestS3Bucket"`
		PreviousDigestS3Object      *string         `json:"previousDigestS3Object"`
		PreviousDigestHashValue     *string         `json:"previousDigestHashValue"`
		PreviousDigestHashAlgorithm *string         `json:"previousDigestHashAlgorithm"`
		PreviousDigestSignature     *string         `json:"previousDigestSignature"`
		LogFiles                    []digestLogFile `json:"logFiles"`
	}
	if err := json.Unmarshal(body, &d); err != nil {
		return nil, jsonDecodeError(body, err)
	}
	if d.AWSAccountID == nil || *d.AWSAccountID == "" {
		return nil, errors.New("awsAccountId: missing")
	}
	if err := checkAccountID(*d.AWSAccountID); err != nil {
		return nil, fmt.Errorf("awsAccountId: %w", err)
	}
	var start, end, newest, oldest time.Time
	for _, f := range []struct {
		name     string
		raw      json.RawMessage
		dst      *time.Time
		required bool
	}{
		{"digestStartTime", d.DigestStartTime, &start, true},
		{"digestEndTime", d.DigestEndTime, &end, true},
		{"newestEventTime", d.NewestEventTime, &newest, false},
		{"oldestEventTime", d.OldestEventTime, &oldest, false}, // null in a digest of no events
	} {
		t, err := parseJSONTime(f.raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
		if f.required && t.IsZero() {
			return nil, fmt.Errorf("%s: missing", f.name)
		}
		*f.dst = t
	}
	sum := sha256.Sum256(body)
	p := &parsedDigest{
		fileID: fileID,
		sha256: hex.EncodeToString(sum[:]),
		stats:  fileStats{Records: int64(len(d.LogFiles)), AccountID: *d.AWSAccountID, First: start, Last: end},
		row: map[string]any{"file_id": fileID, "account_id": *d.AWSAccountID, "start": start, "end": end,
			"bucket": d.DigestS3Bucket, "object": d.DigestS3Object, "fingerprint": d.DigestPublicKeyFingerprint,
			"algorithm": d.DigestSignatureAlgorithm, "newest": timeOrNull(newest), "oldest": timeOrNull(oldest),
			"prev_bucket": d.PreviousDigestS3Bucket, "prev_object": d.PreviousDigestS3Object,
			"prev_hash": d.PreviousDigestHashValue, "prev_hash_algorithm": d.PreviousDigestHashAlgorithm,
			"prev_signature": d.PreviousDigestSignature},
		logFiles: make([]map[string]any, len(d.LogFiles)),
	}
	p.row["sha256"] = p.sha256
	for i, f := range d.LogFiles {
		newest, err := parseJSONTime(f.NewestEventTime)
		if err != nil {
			return nil, fmt.Errorf("logFiles[%d].newestEventTime: %w", i, err)
		}
		oldest, err := parseJSONTime(f.OldestEventTime)
		if err != nil {
			return nil, fmt.Errorf("logFiles[%d].oldestEventTime: %w", i, err)
		}
		p.logFiles[i] = map[string]any{"file_id": fileID, "i": i, "bucket": f.S3Bucket, "object": f.S3Object,
			"hash": f.HashValue, "algorithm": f.HashAlgorithm, "newest": timeOrNull(newest), "oldest": timeOrNull(oldest)}
	}
	return p, nil
}

// storeDigests stores parsed digests in one statement per table: a statement
// per digest costs about 2 ms, which a month of hourly digests paid 2,000
// times over (4 of a 1M-event archive's 31 CPU seconds of ingest). A digest
// whose bytes are already in the case, or earlier in ds, is not stored again:
// its stats say so.
func storeDigests(ctx context.Context, tx *sql.Tx, ds []*parsedDigest) error {
	sums := make([]string, len(ds))
	for i, d := range ds {
		sums[i] = d.sha256
	}
	rows, err := tx.QueryContext(ctx, "select content_sha256, min(file_id) from digests where list_contains(?::varchar[], content_sha256) group by all", sums)
	if err != nil {
		return fmt.Errorf("look up digests: %w", err)
	}
	stored := map[string]int64{}
	for rows.Next() {
		var sum string
		var id int64
		if err := rows.Scan(&sum, &id); err != nil {
			rows.Close()
			return fmt.Errorf("look up digests: %w", err)
		}
		stored[sum] = id
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return fmt.Errorf("look up digests: %w", err)
	}
	var digests, logFiles []map[string]any
	for _, d := range ds {
		if first, ok := stored[d.sha256]; ok {
			d.stats.Duplicates = d.stats.Records
			d.stats.Note = fmt.Sprintf("same digest as file %d: not loaded again", first)
			continue
		}
		stored[d.sha256] = d.fileID
		digests = append(digests, d.row)
		logFiles = append(logFiles, d.logFiles...)
	}
	if len(digests) == 0 {
		return nil
	}
	js, err := json.Marshal(digests)
	if err != nil {
		return fmt.Errorf("insert digests: %w", err)
	}
	if _, err := tx.ExecContext(ctx,
		`insert into digests (file_id, account_id, digest_start_time, digest_end_time, digest_s3_bucket,
		   digest_s3_object, digest_public_key_fingerprint, digest_signature_algorithm, newest_event_time,
		   oldest_event_time, previous_digest_s3_bucket, previous_digest_s3_object, previous_digest_hash_value,
		   previous_digest_hash_algorithm, previous_digest_signature, content_sha256)
		 select (r->>'file_id')::bigint, r->>'account_id', (r->>'start')::timestamptz, (r->>'end')::timestamptz,
		        r->>'bucket', r->>'object', r->>'fingerprint', r->>'algorithm',
		        (r->>'newest')::timestamptz, (r->>'oldest')::timestamptz, r->>'prev_bucket', r->>'prev_object',
		        r->>'prev_hash', r->>'prev_hash_algorithm', r->>'prev_signature', r->>'sha256'
		 from (select unnest(?::json[]) as r)`, string(js)); err != nil {
		return fmt.Errorf("insert digests: %w", err)
	}
	if len(logFiles) == 0 {
		return nil
	}
	if js, err = json.Marshal(logFiles); err != nil {
		return fmt.Errorf("insert digest log files: %w", err)
	}
	if _, err := tx.ExecContext(ctx,
		`insert into digest_log_files (digest_file_id, log_file_index, s3_bucket, s3_object, hash_value,
		   hash_algorithm, newest_event_time, oldest_event_time)
		 select (r->>'file_id')::bigint, (r->>'i')::integer, r->>'bucket', r->>'object', r->>'hash', r->>'algorithm',
		        (r->>'newest')::timestamptz, (r->>'oldest')::timestamptz
		 from (select unnest(?::json[]) as r)`, string(js)); err != nil {
		return fmt.Errorf("insert digest log files: %w", err)
	}
	return nil
}

// jsonObject decodes a document that must be a JSON object, keeping its values raw.
func jsonObject(body []byte) (map[string]json.RawMessage, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, jsonDecodeError(body, err)
	}
	if doc == nil {
		return nil, errors.New("line 1: JSON null where an object was expected")
	}
	return doc, nil
}

// documentAccountID is the account a top-level AccountId key names; the AWS
// exports have none, but wrappers that collect them per account may add it.
func documentAccountID(doc map[string]json.RawMessage) (string, error) {
	for k, v := range doc {
		if l := strings.ToLower(k); l != "accountid" && l != "account_id" {
			continue
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", fmt.Errorf("%s: not a string: %s", k, clip(string(v), 40))
		}
		if s != "" {
			if err := checkAccountID(s); err != nil {
				return "", fmt.Errorf("%s: %w", k, err)
			}
		}
		return s, nil
	}
	return "", nil
}

// jsonDecodeError gives a decoding error the line it happened on and, for a
// value of the wrong type, the key path in JSON terms instead of Go's.
func jsonDecodeError(body []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("line %d: invalid JSON: %w", lineAt(body, se.Offset-1), err)
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "document"
		}
		return fmt.Errorf("line %d: %s: %w", lineAt(body, te.Offset-1), field, jsonTypeError{te})
	}
	return fmt.Errorf("invalid JSON: %w", err)
}

// jsonTypeError says what a JSON value was and what was expected, in JSON words.
type jsonTypeError struct{ *json.UnmarshalTypeError }

func (e jsonTypeError) Error() string {
	want := "a value of another type"
	if e.Type != nil {
		switch e.Type.Kind() {
		case reflect.String:
			want = "a string"
		case reflect.Bool:
			want = "a boolean"
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			want = "an integer"
		case reflect.Float32, reflect.Float64:
			want = "a number"
		case reflect.Slice, reflect.Array:
			want = "an array"
		case reflect.Struct, reflect.Map:
			want = "an object"
		}
	}
	return fmt.Sprintf("JSON %s where %s was expected", e.Value, want)
}

func (e jsonTypeError) Unwrap() error { return e.UnmarshalTypeError }

// lineAt is the 1-based line of the byte at offset.
func lineAt(body []byte, offset int64) int {
	if offset > int64(len(body)) {
		offset = int64(len(body))
	}
	return 1 + bytes.Count(body[:max(offset, 0)], []byte("\n"))
}

// ptrOrNull is *p as a query argument, NULL for a nil pointer.
func ptrOrNull[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// stringOrNull is s as a query argument, NULL for "".
func stringOrNull(s string) any {
	if s == "" {
		return nil
	}
	return s
}
