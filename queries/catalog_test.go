package queries_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/credtrail/credtrail/queries"
)

func TestCatalog(t *testing.T) {
	rules, err := queries.Rules()
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) == 0 {
		t.Fatal("no rules")
	}
	for _, r := range rules {
		if strings.Contains(strings.ToLower(r.SQL), "now()") || strings.Contains(strings.ToLower(r.SQL), "current_timestamp") {
			t.Errorf("%s reads the wall clock", r.ID)
		}
	}
}

// A rule's needs name the inputs whose tables it reads: none it does not
// read, and, for a rule that reads the tables of one input only, that input.
func TestCatalogNeeds(t *testing.T) {
	tables := map[string][]string{
		"cloudtrail":        {"events", "password_sign_ins", "permission_usage"},
		"credential_report": {"credential_report", "credential_reports", "access_keys"},
		"authorization_details": {"iam_users", "iam_roles", "iam_groups", "iam_policies", "policy_attachments", "policy_statements", "role_trust", "group_members", "permission_usage",
			"risk_findings", // risk.go: from policy statements (and, for use, events)
			// the policy evaluator's tables (analysis/evaluator.sql)
			"iam_principals", "iam_statements", "iam_decide", "iam_administrators"},
		"password_policy": {"password_policy"},
		"log_validation":  {"log_validation"},
	}
	// The views, tables and table macros the runner defines for rules read
	// the tables of their inputs.
	src, err := os.ReadFile("run.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile("create or replace temp (?:(?:view|table) (\\w+) |macro (\\w+)\\([^)]*\\) as table)([^`]*)").FindAllStringSubmatch(string(src), -1) {
		name, body := m[1]+m[2], m[3]
		for input, names := range tables {
			if regexp.MustCompile(`\b(` + strings.Join(names, "|") + `)\b`).MatchString(body) {
				tables[input] = append(tables[input], name)
			}
		}
	}
	rules, err := queries.Rules()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules {
		var reads []string
		for input, names := range tables {
			if regexp.MustCompile(`\b(` + strings.Join(names, "|") + `)\b`).MatchString(r.SQL) {
				reads = append(reads, input)
			}
		}
		for _, n := range r.Needs {
			input, _, _ := strings.Cut(n, ".")
			if !slices.Contains(reads, input) {
				t.Errorf("%s needs %s but reads none of its tables", r.ID, n)
			}
		}
		if len(r.Needs) == 0 && !strings.HasSuffix(r.ID, "_not_assessed") {
			t.Errorf("%s needs no input", r.ID)
		}
		if len(reads) == 1 && len(r.Needs) > 0 && !slices.ContainsFunc(r.Needs, func(n string) bool { return strings.HasPrefix(n, reads[0]) }) {
			t.Errorf("%s reads only %s but needs %v", r.ID, reads[0], r.Needs)
		}
		if strings.Contains(r.SQL, "mfa_active") && !slices.Contains(r.Needs, "credential_report.mfa_active") {
			t.Errorf("%s reads mfa_active, which a credential report may lack, without needing credential_report.mfa_active", r.ID)
		}
	}
}

func TestValidControl(t *testing.T) {
	for c, want := range map[string]bool{"CIS 1.4": true, "CIS 1.22": true, "CIS 1.23": false, "CIS 2.1": false,
		"CIS 3.1": true, "CIS 4.16": true, "IAM.4": true, "IAM.28": true, "IAM.29": false, "IAM.0": false, "cis 1.4": false} {
		if got := queries.ValidControl(c); got != want {
			t.Errorf("ValidControl(%q) = %v, want %v", c, got, want)
		}
	}
}

// Every rule runs on an empty case without error and finds nothing.
func TestRulesOnEmptyCase(t *testing.T) {
	c := ingestCase(t, filepath.Join(t.TempDir(), "case.duckdb"), nil)
	sum, err := queries.Run(context.Background(), c.DB, queries.Params{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Total != 0 {
		t.Errorf("empty case: %d findings", sum.Total)
	}
}

// The README's rule table is generated from the catalog.
func TestREADMERules(t *testing.T) {
	rules, err := queries.Rules()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "README.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- rules:begin (generated from queries/*.sql by go test ./queries -update) -->\n", "<!-- rules:end -->"
	s := string(b)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("README.md has no %q ... %q section", strings.TrimSpace(begin), end)
	}
	want := queries.MarkdownTable(rules)
	got := s[i+len(begin) : j]
	if got == want {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(s[:i+len(begin)]+want+s[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md rule table is out of date: run go test ./queries -update")
}
