package ingest

import (
	"database/sql"
	"flag"
	"strings"
	"testing"
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

// defaultActionOf is the action an event gets without an override: the
// prefix rule applied to the name.
func defaultActionOf(src, name string) string {
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
		if got := actionOf(t, c.DB, o.Source, o.Name+"20150331"); got != o.Action {
			t.Errorf("iam_action_of(%q, %q) = %q, want %q", o.Source, o.Name+"20150331", got, o.Action)
		}
	}
}
