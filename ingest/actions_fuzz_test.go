package ingest

import (
	"context"
	"database/sql"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

var (
	versionSuffix = regexp.MustCompile(versionSuffixPattern)
	firstWord     = regexp.MustCompile(`^[A-Z][a-z]*`)
)

// referenceIAMAction is the resolution order documented above
// actionPrefixes, written plainly in Go from the same tables.
func referenceIAMAction(src, name string) (string, bool) {
	if src == "" || name == "" {
		return "", false
	}
	base := name
	if r, _ := utf8.DecodeLastRuneInString(name); r >= '0' && r <= '9' {
		base = versionSuffix.ReplaceAllString(name, "$1")
	}
	for _, o := range actionOverrides {
		if o.Source == src && o.Name == base {
			return o.Action, true
		}
	}
	word := firstWord.FindString(base)
	for _, w := range actionWordRules {
		if w.Source == src && w.Word == word {
			return w.Action, true
		}
	}
	prefix, ok := actionPrefixes[src]
	if !ok {
		prefix, _, _ = strings.Cut(src, ".")
	}
	return prefix + ":" + base, true
}

// FuzzIAMActionOf checks the SQL macro iam_action_of, which ingest and the
// analysts apply to every event, against referenceIAMAction on arbitrary
// (eventSource, eventName) pairs: both are attacker-controlled strings.
func FuzzIAMActionOf(f *testing.F) {
	for _, o := range actionOverrides[:min(len(actionOverrides), 20)] {
		f.Add(o.Source, o.Name)
	}
	for _, w := range actionWordRules[:min(len(actionWordRules), 5)] {
		f.Add(w.Source, w.Word+"RestApis")
	}
	for src := range actionPrefixes {
		f.Add(src, "DescribeThings")
	}
	f.Add("lambda.amazonaws.com", "UpdateFunctionCode20150331v2")
	f.Add("cloudfront.amazonaws.com", "CreateDistribution2020_05_31")
	f.Add("s3.amazonaws.com", "ListObjectsV2")
	f.Add("iam.amazonaws.com", "'); drop table events; --")
	f.Add("", "GetObject")
	c, err := Open(context.Background(), filepath.Join(f.TempDir(), "case.duckdb"), Options{Threads: 1})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { c.Close() })
	f.Fuzz(func(t *testing.T, src, name string) {
		if !utf8.ValidString(src) || !utf8.ValidString(name) {
			return // the case holds text; ingest stores names as valid UTF-8
		}
		var got sql.NullString
		if err := c.DB.QueryRow("select iam_action_of(?, ?)", src, name).Scan(&got); err != nil {
			t.Fatalf("iam_action_of(%q, %q): %v", src, name, err)
		}
		want, ok := referenceIAMAction(src, name)
		if got.Valid != ok || got.String != want {
			t.Fatalf("iam_action_of(%q, %q) = %q (valid %v), want %q (valid %v)", src, name, got.String, got.Valid, want, ok)
		}
	})
}
