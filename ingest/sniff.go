package ingest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// Kinds of evidence file, as recorded in evidence_files.kind.
const (
	KindCloudTrail       = "cloudtrail"
	KindDigest           = "cloudtrail_digest"
	KindCredentialRpt    = "credential_report"
	KindAuthorization    = "authorization_details"
	KindPasswordPolicy   = "password_policy"
	KindAccountSummary   = "account_summary"
	KindPublicKeys       = "public_keys"
	KindObjectMetadata   = "s3_object_metadata" // `aws s3api head-object` output: a digest's signature
	KindActionCatalog    = "action_catalog"
	KindBundle           = "bundle"
	KindUnknown          = "unknown"
	formatRecords        = "records"           // {"Records":[...]}
	formatArray          = "array"             // [event, ...]
	formatNDJSON         = "ndjson"            // event per line, or one event
	formatLookupEvents   = "lookup_events"     // {"Events":[{"CloudTrailEvent":"..."}]}
	formatEventHistory   = "event_history_csv" // console Event history CSV download
	formatServiceList    = "service_list"      // service reference: [{"service": …, "url": …}, …]
	formatCSV            = "csv"
	formatJSON           = "json"
	formatTar            = "tar"
	formatZip            = "zip"
	sniffPrefixBytes     = 4 << 10 // a tar header, a CSV header line, the start of a JSON document
	maxJSONKeysToInspect = 64
)

// sniffed is what the content of a file says it is.
type sniffed struct {
	kind, format string
	gzipped      bool
	reason       string // for KindUnknown: why it was not recognised
}

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zipMagic  = []byte("PK\x03\x04")
)

// sniffFile decides a file's kind from its content, never from its name.
func sniffFile(path string) (sniffed, error) {
	f, err := openEvidence(path)
	if err != nil {
		return sniffed{}, err
	}
	defer f.Close()
	return sniffContent(f, nil)
}

// sniffContent decides the kind of the content f holds from its start. zr,
// when not nil, is a gzip reader to reuse (each new one allocates its window).
func sniffContent(f io.ReadSeeker, zr *gzip.Reader) (sniffed, error) {
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	if n == 0 {
		return sniffed{kind: KindUnknown, reason: "empty file"}, nil
	}
	if bytes.HasPrefix(head, zipMagic) {
		return sniffed{kind: KindBundle, format: formatZip}, nil
	}
	if isTar(head) {
		return sniffed{kind: KindBundle, format: formatTar}, nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return sniffed{}, err
	}
	var r io.Reader = f
	gz := bytes.HasPrefix(head, gzipMagic)
	if gz {
		var err error
		if zr == nil {
			zr, err = gzip.NewReader(f)
		} else {
			err = zr.Reset(f)
		}
		if err != nil {
			return sniffed{kind: KindUnknown, gzipped: true, reason: fmt.Sprintf("corrupt gzip: %v", err)}, nil
		}
		defer zr.Close()
		r = zr
	}
	s := sniffStream(r)
	s.gzipped = gz
	if gz && strings.HasPrefix(s.reason, "unreadable") {
		s.reason = "corrupt gzip: " + strings.TrimPrefix(s.reason, "unreadable: ")
	}
	return s, nil
}

func isTar(head []byte) bool {
	return len(head) >= 262 && bytes.Equal(head[257:262], []byte("ustar"))
}

// sniffStream classifies a decompressed body.
func sniffStream(r io.Reader) sniffed {
	br := bufio.NewReaderSize(r, sniffPrefixBytes)
	prefix, err := br.Peek(sniffPrefixBytes)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return sniffed{kind: KindUnknown, reason: fmt.Sprintf("unreadable: %v", err)}
	}
	if isTar(prefix) {
		return sniffed{kind: KindBundle, format: formatTar}
	}
	prefix = trimBOM(prefix)
	trimmed := bytes.TrimLeft(prefix, " \t\r\n")
	if len(trimmed) == 0 {
		return sniffed{kind: KindUnknown, reason: "no content"}
	}
	switch trimmed[0] {
	case '{', '[':
		return sniffJSON(br)
	}
	if !utf8.Valid(trimUTF8Tail(prefix)) {
		return sniffed{kind: KindUnknown, reason: "binary or not UTF-8 text"}
	}
	firstLine, _, _ := strings.Cut(string(trimmed), "\n")
	firstLine = strings.TrimSpace(firstLine)
	switch {
	case strings.HasPrefix(firstLine, "user,arn,"):
		return sniffed{kind: KindCredentialRpt, format: formatCSV}
	case strings.HasPrefix(firstLine, "Event ID,") || (strings.Contains(firstLine, "Event time") && strings.Contains(firstLine, "Event name") && strings.Contains(firstLine, "Event source")):
		return sniffed{kind: KindCloudTrail, format: formatEventHistory}
	}
	// Nothing of the content is quoted: the file may be anything (a link
	// followed by mistake, a key file) and the reason reaches the case,
	// the terminal and the workbook.
	return sniffed{kind: KindUnknown, reason: "unrecognised text: not a credential report or Event history CSV header"}
}

// trimUTF8Tail drops a multi-byte character cut at the end of a prefix.
func trimUTF8Tail(b []byte) []byte {
	for i := 0; i < utf8.UTFMax && len(b) > 0; i++ {
		if utf8.Valid(b) {
			return b
		}
		b = b[:len(b)-1]
	}
	return b
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// cloudTrailEventKeys are keys only a CloudTrail event has at its top level.
var cloudTrailEventKeys = map[string]bool{
	"eventVersion": true, "eventTime": true, "eventSource": true, "eventName": true,
	"eventID": true, "userIdentity": true, "awsRegion": true, "recipientAccountId": true,
}

// sniffJSON reads top-level keys with a streaming tokenizer until one says
// what the document is. It reads past large values only when it must.
func sniffJSON(r io.Reader) sniffed {
	dec := newBoundedDecoder(r)
	tok, err := dec.Token()
	if err != nil {
		return sniffed{kind: KindUnknown, reason: invalidJSON(err)}
	}
	if tok == json.Delim('[') {
		if !dec.More() {
			return sniffed{kind: KindCloudTrail, format: formatArray} // [] : a valid, empty event list
		}
		tok, err := dec.Token()
		if err != nil {
			return sniffed{kind: KindUnknown, reason: invalidJSON(err)}
		}
		if tok != json.Delim('{') {
			return sniffed{kind: KindUnknown, reason: "JSON array of non-objects"}
		}
		keys, _, err := objectKeys(dec)
		if err != nil && len(keys) == 0 {
			return sniffed{kind: KindUnknown, reason: invalidJSON(err)}
		}
		for _, k := range keys {
			if cloudTrailEventKeys[k] {
				return sniffed{kind: KindCloudTrail, format: formatArray}
			}
		}
		if slices.Contains(keys, "service") && slices.Contains(keys, "url") {
			return sniffed{kind: KindActionCatalog, format: formatServiceList}
		}
		return sniffed{kind: KindUnknown, reason: fmt.Sprintf("JSON array of objects that are not CloudTrail events (%d keys in the first, none of an event)", len(keys))}
	}
	if tok != json.Delim('{') {
		return sniffed{kind: KindUnknown, reason: "JSON that is neither an object nor an array"}
	}
	keys, actionsIsArray, err := objectKeys(dec)
	if err != nil && len(keys) == 0 {
		return sniffed{kind: KindUnknown, reason: invalidJSON(err)}
	}
	has := map[string]bool{}
	for _, k := range keys {
		has[k] = true
	}
	switch {
	case has["Records"]:
		return sniffed{kind: KindCloudTrail, format: formatRecords}
	case has["UserDetailList"] || has["GroupDetailList"] || has["RoleDetailList"] || (has["Policies"] && (has["IsTruncated"] || has["Marker"])):
		return sniffed{kind: KindAuthorization, format: formatJSON}
	case has["Content"] && (has["ReportFormat"] || has["GeneratedTime"]):
		return sniffed{kind: KindCredentialRpt, format: formatJSON}
	case has["PasswordPolicy"]:
		return sniffed{kind: KindPasswordPolicy, format: formatJSON}
	case has["SummaryMap"]:
		return sniffed{kind: KindAccountSummary, format: formatJSON}
	case has["PublicKeyList"]:
		return sniffed{kind: KindPublicKeys, format: formatJSON}
	case has["digestStartTime"] || has["digestEndTime"] || (has["awsAccountId"] && has["logFiles"]):
		return sniffed{kind: KindDigest, format: formatJSON}
	case has["Events"]:
		return sniffed{kind: KindCloudTrail, format: formatLookupEvents}
	case has["Metadata"] && (has["ETag"] || has["ContentLength"] || has["LastModified"]):
		return sniffed{kind: KindObjectMetadata, format: formatJSON}
	case has["Error"] || has["error"]:
		return sniffed{kind: KindPasswordPolicy, format: formatJSON} // a NoSuchEntity answer; the loader checks
	}
	for k := range has {
		if cloudTrailEventKeys[k] {
			return sniffed{kind: KindCloudTrail, format: formatNDJSON}
		}
	}
	if has["Policies"] {
		return sniffed{kind: KindAuthorization, format: formatJSON}
	}
	if isServiceReference(has, actionsIsArray) {
		return sniffed{kind: KindActionCatalog, format: formatJSON}
	}
	if isTooLarge(err) {
		return sniffed{kind: KindUnknown, reason: fmt.Sprintf("JSON object of unknown shape (%d top-level keys, none of an AWS export, then %v)", len(keys), err)}
	}
	return sniffed{kind: KindUnknown, reason: fmt.Sprintf("JSON object of unknown shape (%d top-level keys, none of an AWS export)", len(keys))}
}

// isServiceReference says whether an object is a service document of AWS's
// service reference information (FORMATS.md A5): an Actions array beside the
// service's Name. Actions beside two of Name, Resources, ConditionKeys and
// Operations is one too, so that a document missing its Name, or with
// Actions that is not an array, reaches the catalog loader and is rejected
// with that reason. It is checked after every other kind, so it only claims
// objects no other kind knows.
func isServiceReference(has map[string]bool, actionsIsArray bool) bool {
	if !has["Actions"] {
		return false
	}
	if actionsIsArray && has["Name"] {
		return true
	}
	n := 0
	for _, k := range []string{"Name", "Resources", "ConditionKeys", "Operations"} {
		if has[k] {
			n++
		}
	}
	return n >= 2
}

// objectKeys returns the keys of the object whose '{' was just read, skipping
// values, and whether an Actions key holds an array (told by its first token,
// so even by a document cut short inside it).
func objectKeys(dec *boundedDecoder) (keys []string, actionsIsArray bool, err error) {
	for dec.More() && len(keys) < maxJSONKeysToInspect {
		tok, err := dec.Token()
		if err != nil {
			return keys, actionsIsArray, err
		}
		k, ok := tok.(string)
		if !ok {
			return keys, actionsIsArray, errors.New("object key is not a string")
		}
		keys = append(keys, k)
		if k == "Records" || k == "UserDetailList" || k == "RoleDetailList" || k == "GroupDetailList" {
			return keys, actionsIsArray, nil // decisive, and its value may be huge
		}
		if k == "Actions" {
			isArray, err := skipValueTellingArray(dec)
			actionsIsArray = actionsIsArray || isArray
			if err != nil {
				return keys, actionsIsArray, err
			}
			continue
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return keys, actionsIsArray, err
		}
	}
	return keys, actionsIsArray, nil
}

// skipValueTellingArray reads past the next value and says whether it is an
// array, which it knows from the value's first token.
func skipValueTellingArray(dec *boundedDecoder) (bool, error) {
	tok, err := dec.Token()
	if err != nil {
		return false, err
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return false, nil // a scalar: already read
	}
	for dec.More() {
		if delim == '{' {
			if _, err := dec.Token(); err != nil { // the key
				return delim == '[', err
			}
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return delim == '[', err
		}
	}
	_, err = dec.Token() // the closing delimiter
	return delim == '[', err
}

// invalidJSON is the reason for a body that is not JSON. A syntax error is
// given by its position: its message quotes the offending character, and the
// file is not recognised evidence.
func invalidJSON(err error) string {
	var syntax *json.SyntaxError
	if isTooLarge(err) {
		return err.Error()
	}
	if errors.As(err, &syntax) {
		return fmt.Sprintf("invalid JSON at byte %d", syntax.Offset)
	}
	return fmt.Sprintf("invalid JSON: %v", err)
}

// trimBOM drops a UTF-8 byte-order mark, which Windows tools put before JSON and CSV.
func trimBOM(b []byte) []byte { return bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")) }
