package ingest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
)

var updateGolden = flag.Bool("update", false, "rewrite golden files")

// actionOf returns what iam_action_of yields for one event, "<null>" for NULL.
func actionOf(tb testing.TB, db *sql.DB, src, name string) string {
	tb.Helper()
	var got sql.NullString
	if err := db.QueryRow("select iam_action_of(?, ?)", src, name).Scan(&got); err != nil {
		tb.Fatalf("iam_action_of(%q, %q): %v", src, name, err)
	}
	if !got.Valid {
		return "<null>"
	}
	return got.String
}

func TestActionVersionSuffix(t *testing.T) {
	c := openTestCase(t)
	tests := []struct{ src, name, want string }{
		// Suffixes as Lambda and CloudFront log them.
		{"lambda.amazonaws.com", "UpdateFunctionCode20150331v2", "lambda:UpdateFunctionCode"},
		{"lambda.amazonaws.com", "UpdateFunctionCode20150331", "lambda:UpdateFunctionCode"},
		{"lambda.amazonaws.com", "TagResource20170331v2", "lambda:TagResource"},
		{"lambda.amazonaws.com", "PublishLayerVersion20181031", "lambda:PublishLayerVersion"},
		{"cloudfront.amazonaws.com", "CreateDistribution2020_05_31", "cloudfront:CreateDistribution"},
		{"cloudfront.amazonaws.com", "CreateInvalidation2017_03_25", "cloudfront:CreateInvalidation"},
		{"cloudfront.amazonaws.com", "GetDistribution2019_03_26", "cloudfront:GetDistribution"},
		// Names that end in digits but carry no date keep them.
		{"s3.amazonaws.com", "GetObjectV2", "s3:GetObjectV2"},
		{"rds.amazonaws.com", "DescribeDBInstances", "rds:DescribeDBInstances"},
		{"ec2.amazonaws.com", "AssignIpv6Addresses", "ec2:AssignIpv6Addresses"},
		{"example.amazonaws.com", "ListThingsV2", "example:ListThingsV2"},
		{"example.amazonaws.com", "Get2Things", "example:Get2Things"},
		{"example.amazonaws.com", "Thing12345678", "example:Thing12345678"}, // not a date
		{"example.amazonaws.com", "Thing20151331", "example:Thing20151331"}, // month 13
		{"example.amazonaws.com", "Thing2015_0331", "example:Thing2015_0331"},
		{"example.amazonaws.com", "20150331", "example:20150331"}, // nothing would be left
		{"example.amazonaws.com", "Thing20150331V2", "example:Thing20150331V2"},
	}
	for _, tt := range tests {
		if got := actionOf(t, c.DB, tt.src, tt.name); got != tt.want {
			t.Errorf("iam_action_of(%q, %q) = %q, want %q", tt.src, tt.name, got, tt.want)
		}
	}
}

func TestActionOfMissingInput(t *testing.T) {
	c := openTestCase(t)
	for _, q := range []string{
		"select iam_action_of(null, 'GetObject')",
		"select iam_action_of('s3.amazonaws.com', null)",
		"select iam_action_of('', 'GetObject')",
		"select iam_action_of('s3.amazonaws.com', '')",
	} {
		var got sql.NullString
		if err := c.DB.QueryRow(q).Scan(&got); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if got.Valid {
			t.Errorf("%s = %q, want NULL", q, got.String)
		}
	}
}

var firstWordPattern = regexp.MustCompile(`^[A-Z][a-z]*`)

// defaultActionOf is the action an event gets without an override: a word
// rule's, or the prefix rule applied to the name.
func defaultActionOf(src, name string) string {
	word := firstWordPattern.FindString(name)
	for _, r := range actionWordRules {
		if r.Source == src && r.Word == word {
			return r.Action
		}
	}
	prefix, ok := actionPrefixes[src]
	if !ok {
		prefix, _, _ = strings.Cut(src, ".")
	}
	return prefix + ":" + name
}

func TestActionPrefixesEachEntry(t *testing.T) {
	c := openTestCase(t)
	for src, prefix := range actionPrefixes {
		if first, _, _ := strings.Cut(src, "."); first == prefix {
			t.Errorf("actionPrefixes[%q] = %q repeats the default rule", src, prefix)
		}
		if prefix == "" || strings.ContainsAny(prefix, ": ") {
			t.Errorf("actionPrefixes[%q] = %q is not an IAM service prefix", src, prefix)
		}
		if got, want := actionOf(t, c.DB, src, "ProbeAction"), prefix+":ProbeAction"; got != want {
			t.Errorf("iam_action_of(%q, ProbeAction) = %q, want %q", src, got, want)
		}
	}
}

func TestActionOverridesEachEntry(t *testing.T) {
	c := openTestCase(t)
	seen := map[[2]string]bool{}
	for _, o := range actionOverrides {
		key := [2]string{o.Source, o.Name}
		if seen[key] {
			t.Errorf("override %s %s is listed twice", o.Source, o.Name)
		}
		seen[key] = true
		prefix, name, ok := strings.Cut(o.Action, ":")
		if !ok || prefix == "" || name == "" || strings.ContainsAny(name, ":* ") {
			t.Errorf("override %s %s: %q is not one IAM action", o.Source, o.Name, o.Action)
		}
		if o.Action == defaultActionOf(o.Source, o.Name) {
			t.Errorf("override %s %s: %q is what the rules give anyway", o.Source, o.Name, o.Action)
		}
		if got := actionOf(t, c.DB, o.Source, o.Name); got != o.Action {
			t.Errorf("iam_action_of(%q, %q) = %q, want %q", o.Source, o.Name, got, o.Action)
		}
		// Overrides apply to the version-stripped name.
		if !unicode.IsLetter(rune(o.Name[len(o.Name)-1])) {
			continue // a suffix must follow a letter
		}
		if got := actionOf(t, c.DB, o.Source, o.Name+"20150331"); got != o.Action {
			t.Errorf("iam_action_of(%q, %q) = %q, want %q", o.Source, o.Name+"20150331", got, o.Action)
		}
	}
}

func TestActionWordRulesEachEntry(t *testing.T) {
	c := openTestCase(t)
	seen := map[[2]string]bool{}
	for _, r := range actionWordRules {
		key := [2]string{r.Source, r.Word}
		if seen[key] {
			t.Errorf("word rule %s %s is listed twice", r.Source, r.Word)
		}
		seen[key] = true
		if firstWordPattern.FindString(r.Word) != r.Word {
			t.Errorf("word rule %s %q: not one capitalised word", r.Source, r.Word)
		}
		name := r.Word + "ProbeThing"
		if got := actionOf(t, c.DB, r.Source, name); got != r.Action {
			t.Errorf("iam_action_of(%q, %q) = %q, want %q", r.Source, name, got, r.Action)
		}
		// The rule is about the whole first word: GetX, not Getaway.
		name = r.Word + "probe"
		if got, unwanted := actionOf(t, c.DB, r.Source, name), r.Action; got == unwanted {
			t.Errorf("iam_action_of(%q, %q) = %q, want the default rule", r.Source, name, got)
		}
	}
}

func TestActionsNeedingNoPermission(t *testing.T) {
	c := openTestCase(t)
	seen := map[string]bool{}
	for _, a := range actionsNeedingNoPermission {
		if seen[a] {
			t.Errorf("%s is listed twice", a)
		}
		seen[a] = true
		n := queryInt(t, c.DB, "select count(*) from actions_needing_no_permission where iam_action = ?", a)
		if n != 1 {
			t.Errorf("%s: %d rows in actions_needing_no_permission", a, n)
		}
		// Each entry is what iam_action_of yields for the event it stands for,
		// so analyses can match it against events.iam_action.
		prefix, name, _ := strings.Cut(a, ":")
		if got := actionOf(t, c.DB, prefix+".amazonaws.com", name); got != a {
			t.Errorf("iam_action_of(%q, %q) = %q, not the listed %q", prefix+".amazonaws.com", name, got, a)
		}
	}
	if n := queryInt(t, c.DB, "select count(*) from actions_needing_no_permission"); n != int64(len(seen)) {
		t.Errorf("actions_needing_no_permission has %d rows, want %d", n, len(seen))
	}
}

// TestActionOfRepresentativeEvents checks, by hand, pairs as CloudTrail logs
// them (most from the sample corpus) against the action they needed.
func TestActionOfRepresentativeEvents(t *testing.T) {
	c := openTestCase(t)
	tests := []struct{ src, name, want string }{
		{"ec2.amazonaws.com", "RunInstances", "ec2:RunInstances"},
		{"iam.amazonaws.com", "CreateUser", "iam:CreateUser"},
		{"sts.amazonaws.com", "AssumeRole", "sts:AssumeRole"},
		{"sts.amazonaws.com", "GetCallerIdentity", "sts:GetCallerIdentity"},
		{"signin.amazonaws.com", "ConsoleLogin", "signin:ConsoleLogin"},
		{"monitoring.amazonaws.com", "PutMetricAlarm", "cloudwatch:PutMetricAlarm"},
		{"email.amazonaws.com", "SendEmail", "ses:SendEmail"},
		{"ses.amazonaws.com", "SendEmail", "ses:SendEmail"},
		{"tagging.amazonaws.com", "GetTagKeys", "tag:GetTagKeys"},
		{"streams.dynamodb.amazonaws.com", "GetRecords", "dynamodb:GetRecords"},
		{"s3.amazonaws.com", "GetBucketAcl", "s3:GetBucketAcl"},
		{"s3.amazonaws.com", "PutObject", "s3:PutObject"},
		{"s3.amazonaws.com", "ListBuckets", "s3:ListAllMyBuckets"},
		{"s3.amazonaws.com", "HeadBucket", "s3:ListBucket"},
		{"s3.amazonaws.com", "GetBucketLifecycle", "s3:GetLifecycleConfiguration"},
		{"s3.amazonaws.com", "DeleteBucketPublicAccessBlock", "s3:PutBucketPublicAccessBlock"},
		{"s3.amazonaws.com", "GetBucketPublicAccessBlock", "s3:GetBucketPublicAccessBlock"},
		{"s3.amazonaws.com", "GetBucketPolicyStatus", "s3:GetBucketPolicyStatus"},
		{"s3.amazonaws.com", "GetBucketObjectLockConfiguration", "s3:GetBucketObjectLockConfiguration"},
		{"s3.amazonaws.com", "AbortMultipartUpload", "s3:AbortMultipartUpload"},
		{"s3.amazonaws.com", "GetBucketCors", "s3:GetBucketCORS"},
		{"lambda.amazonaws.com", "UpdateFunctionCode20150331v2", "lambda:UpdateFunctionCode"},
		{"lambda.amazonaws.com", "Invoke", "lambda:InvokeFunction"},
		{"lambda.amazonaws.com", "GetLayerVersionByArn20181031", "lambda:GetLayerVersion"},
		{"cloudfront.amazonaws.com", "CreateFunction2020_05_31", "cloudfront:CreateFunction"},
		{"cloudfront.amazonaws.com", "CreateDistributionWithTags2020_05_31", "cloudfront:CreateDistribution"},
		{"kms.amazonaws.com", "Decrypt", "kms:Decrypt"},
		{"kms.amazonaws.com", "ReEncrypt", "kms:ReEncryptFrom"},
		{"apigateway.amazonaws.com", "CreateRestApi", "apigateway:POST"},
		{"apigateway.amazonaws.com", "GetResource", "apigateway:GET"},
		{"apigateway.amazonaws.com", "DeleteRestApi", "apigateway:DELETE"},
		{"apigateway.amazonaws.com", "UpdateStage", "apigateway:PATCH"},
		{"apigateway.amazonaws.com", "PutIntegration", "apigateway:PUT"},
		{"apigateway.amazonaws.com", "CreateRoute", "apigateway:POST"},
		{"apigateway.amazonaws.com", "ImportRestApi", "apigateway:POST"},
		{"apigateway.amazonaws.com", "FlushStageCache", "apigateway:DELETE"},
		{"agreement-marketplace.amazonaws.com", "SearchAgreements", "aws-marketplace:SearchAgreements"},
		{"servicecatalog-appregistry.amazonaws.com", "ListApplications", "servicecatalog:ListApplications"},
		{"application-insights.amazonaws.com", "ListApplications", "applicationinsights:ListApplications"},
		{"sqs.amazonaws.com", "SendMessageBatch", "sqs:SendMessage"},
		{"sso-directory.amazonaws.com", "CreateUser", "sso-directory:CreateUser"},
		{"ecr.amazonaws.com", "GetAuthorizationToken", "ecr:GetAuthorizationToken"},
		{"elasticloadbalancing.amazonaws.com", "DescribeLoadBalancers", "elasticloadbalancing:DescribeLoadBalancers"},
		{"es.amazonaws.com", "CreateElasticsearchDomain", "es:CreateElasticsearchDomain"},
		{"bedrock.amazonaws.com", "Converse", "bedrock:InvokeModel"},
	}
	for _, tt := range tests {
		if got := actionOf(t, c.DB, tt.src, tt.name); got != tt.want {
			t.Errorf("iam_action_of(%q, %q) = %q, want %q", tt.src, tt.name, got, tt.want)
		}
	}
}

// cloudTrailKinds are the MANIFEST.tsv kinds that hold CloudTrail JSON records.
var cloudTrailKinds = []string{"gzip:json", "json{", "json[array]", "ndjson"}

// eventPair is one distinct (eventSource, eventName).
type eventPair struct{ Source, Name string }

// corpusEventPairs reads every CloudTrail JSON file the manifest lists and
// returns the distinct pairs, sorted. Files that are not valid JSON are skipped.
func corpusEventPairs(tb testing.TB, corpus string) []eventPair {
	tb.Helper()
	manifest, err := os.Open(filepath.Join(corpus, "MANIFEST.tsv"))
	if err != nil {
		tb.Fatal(err)
	}
	defer manifest.Close()
	seen := map[eventPair]bool{}
	sc := bufio.NewScanner(manifest)
	for sc.Scan() {
		path, rest, _ := strings.Cut(sc.Text(), "\t")
		kind, _, _ := strings.Cut(rest, "\t")
		if !slices.ContainsFunc(cloudTrailKinds, func(k string) bool { return strings.HasPrefix(kind, k) }) {
			continue
		}
		body, err := os.ReadFile(filepath.Join(corpus, path))
		if err != nil {
			tb.Fatal(err)
		}
		if strings.HasPrefix(kind, "gzip:") {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				tb.Logf("%s: skipped: %v", path, err)
				continue
			}
			body, err = io.ReadAll(zr)
			if err != nil {
				tb.Logf("%s: skipped: %v", path, err)
				continue
			}
		}
		pairs, err := eventPairsOf(body)
		if err != nil {
			tb.Logf("%s: skipped: %v", path, err)
			continue
		}
		for _, p := range pairs {
			seen[p] = true
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	pairs := make([]eventPair, 0, len(seen))
	for p := range seen {
		pairs = append(pairs, p)
	}
	slices.SortFunc(pairs, func(a, b eventPair) int {
		return strings.Compare(a.Source+"\t"+a.Name, b.Source+"\t"+b.Name)
	})
	return pairs
}

// eventPairsOf reads the records of one body: {"Records": [...]}, a bare
// array, one event, or events one per line. Records without a string
// eventSource and eventName are left out.
func eventPairsOf(body []byte) ([]eventPair, error) {
	var pairs []eventPair
	record := func(raw json.RawMessage) {
		var r struct{ EventSource, EventName any }
		if json.Unmarshal(raw, &r) != nil {
			return
		}
		src, ok1 := r.EventSource.(string)
		name, ok2 := r.EventName.(string)
		if ok1 && ok2 && src != "" && name != "" {
			pairs = append(pairs, eventPair{src, name})
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		var v json.RawMessage
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			return pairs, nil
		}
		if err != nil {
			return nil, err
		}
		var list []json.RawMessage
		if json.Unmarshal(v, &list) != nil {
			var wrapper struct{ Records []json.RawMessage }
			if json.Unmarshal(v, &wrapper) == nil && wrapper.Records != nil {
				list = wrapper.Records
			} else {
				list = []json.RawMessage{v}
			}
		}
		for _, raw := range list {
			record(raw)
		}
	}
}

// TestActionCorpus maps every distinct (eventSource, eventName) of the sample
// corpus through iam_action_of and compares the result with a golden file
// reviewed by hand; go test ./ingest/ -run ActionCorpus -update rewrites it.
func TestActionCorpus(t *testing.T) {
	corpus := corpusDir(t)
	pairs := corpusEventPairs(t, corpus)
	if len(pairs) == 0 {
		t.Fatal("no CloudTrail records found in the corpus")
	}
	c := openTestCase(t)
	if _, err := c.DB.Exec("create temp table pairs (event_source varchar, event_name varchar)"); err != nil {
		t.Fatal(err)
	}
	rows := make([][]any, len(pairs))
	for i, p := range pairs {
		rows[i] = []any{p.Source, p.Name}
	}
	tx, err := c.DB.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if err := insertRows(t.Context(), tx, "pairs", rows); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	// The fourth column says how the unused-permissions analysis (#5) reads
	// the pair: use of the action, or not use (a call that needs no permission;
	// besides, events of eventType AwsConsoleSignIn are never use).
	res, err := c.DB.Query(`select event_source, event_name, coalesce(iam_action_of(event_source, event_name), '<unmapped>'),
		       case when lower(iam_action_of(event_source, event_name)) in (select lower(iam_action) from actions_needing_no_permission)
		            then 'not use: needs no permission' else 'use' end
		from pairs order by event_source, event_name`)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	var got strings.Builder
	for res.Next() {
		var src, name, action, use string
		if err := res.Scan(&src, &name, &action, &use); err != nil {
			t.Fatal(err)
		}
		got.WriteString(src + "\t" + name + "\t" + action + "\t" + use + "\n")
	}
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}

	golden := filepath.Join("testdata", "actions", "corpus_actions.golden")
	if *updateGolden {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got.String() != string(want) {
		t.Errorf("%s differs (rerun with -update and review the diff):\n%s", golden, lineDiff(string(want), got.String()))
	}
}

// lineDiff lists the lines only in want (-) and only in got (+).
func lineDiff(want, got string) string {
	wantLines := strings.Split(strings.TrimSuffix(want, "\n"), "\n")
	gotLines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	var b strings.Builder
	for _, l := range wantLines {
		if !slices.Contains(gotLines, l) {
			b.WriteString("- " + l + "\n")
		}
	}
	for _, l := range gotLines {
		if !slices.Contains(wantLines, l) {
			b.WriteString("+ " + l + "\n")
		}
	}
	return b.String()
}
