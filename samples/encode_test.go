package samples

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"net/url"
	"regexp"
	"testing"
	"time"
)

// jsonString is what encoding/json writes for s (without HTML escaping, as CloudTrail).
func jsonString(t testing.TB, s string) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return string(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}

var hostileStrings = []string{
	"", "plain", `quote " and backslash \`, formulaUA, "tab\there\nnewline\r\x00\x1f\x7f",
	"<script>alert('x')</script>&amp;", "üñí 日本語 emoji 🚀", "line\u2028separator\u2029", "bad utf8 \xff\xfe end",
	"truncated \xe6\x97", `exports/=HYPERLINK("http://203.0.113.77/x","quarterly").csv`,
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range hostileStrings {
		if got, want := string(appendString(nil, s)), jsonString(t, s); got != want {
			t.Errorf("appendString(%q) = %s, want %s", s, got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range hostileStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := appendString(nil, s)
		if want := jsonString(t, s); string(got) != want {
			t.Fatalf("appendString(%q) = %s, want %s", s, got, want)
		}
	})
}

func TestAppendTime(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		ts := r.Int64N(5_000_000_000) - 1_000_000_000
		want := time.Unix(ts, 0).UTC().Format("2006-01-02T15:04:05Z")
		if got := string(appendTime(nil, ts)); got != want {
			t.Fatalf("appendTime(%d) = %s, want %s", ts, got, want)
		}
	}
}

func TestIDShapes(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	uuidRE := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	for range 1000 {
		if u := uuid(r); !uuidRE.MatchString(u) {
			t.Fatalf("uuid %q is not a version 4 UUID", u)
		}
		if k := accessKeyID(r, "AKIA"); !regexp.MustCompile(`^AKIA[A-Z2-7]{16}$`).MatchString(k) {
			t.Fatalf("access key id %q", k)
		}
	}
}

func TestURLEncodeRoundTrip(t *testing.T) {
	d := doc(statement{Sid: "A b", Effect: "Allow", Action: []string{"s3:Get*"}, Resource: []string{"arn:aws:s3:::b/*"},
		Condition: map[string]map[string][]string{"StringLike": {"aws:userid": {"AIDA*:x+y@example.com"}}}})
	enc := urlEncode(string(d.json()))
	if !regexp.MustCompile(`^[A-Za-z0-9%._~-]+$`).MatchString(enc) {
		t.Fatalf("urlEncode left reserved characters: %s", enc)
	}
	dec, err := url.PathUnescape(enc)
	if err != nil || dec != string(d.json()) {
		t.Fatalf("PathUnescape(urlEncode(doc)) = %q, %v; want %q", dec, err, d.json())
	}
	if !json.Valid([]byte(dec)) {
		t.Fatalf("policy document is not JSON: %s", dec)
	}
}

func TestWildcardMatch(t *testing.T) {
	for _, c := range []struct {
		pattern, action string
		want            bool
	}{
		{"*", "s3:GetObject", true},
		{"s3:*", "s3:GetObject", true},
		{"s3:Get*", "s3:GetObject", true},
		{"s3:Get*", "s3:PutObject", false},
		{"ec2:Describe*", "ec2:*", false},
		{"iam:*", "iam:CreateUser", true},
		{"S3:getobject", "s3:GetObject", true},
		{"s3:Get?bject", "s3:GetObject", true},
		{"lambda:*Function*", "lambda:UpdateFunctionCode", true},
	} {
		if got := actionMatches(c.pattern, c.action); got != c.want {
			t.Errorf("actionMatches(%q, %q) = %v, want %v", c.pattern, c.action, got, c.want)
		}
	}
}
