package queries_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/credtrail/credtrail/ingest"
	"github.com/credtrail/credtrail/queries"
)

// iamVulnerableFile is BishopFox's iam-vulnerable lab as cloudsplaining
// ships it: each principal's name says whether it is exploitable
// (privesc*, fn*) or a designed false positive (fp*).
const iamVulnerableFile = "authz/cloudsplaining/examples_files_example.json"

// iamVulnerableCase ingests the iam-vulnerable authorization details into a
// new case; it skips the test under -short or without the shared corpus.
func iamVulnerableCase(t *testing.T) *ingest.Case {
	t.Helper()
	if testing.Short() {
		t.Skip("corpus: not in -short")
	}
	dir := findRepoDir(filepath.Join("shared", "corpus"))
	if dir == "" {
		t.Skip("no shared/corpus folder above the working directory: corpus test skipped")
	}
	path := filepath.Join(dir, filepath.FromSlash(iamVulnerableFile))
	if _, err := os.Stat(path); err != nil {
		t.Skipf("no iam-vulnerable authorization details: %v", err)
	}
	return ingestCase(t, filepath.Join(t.TempDir(), "case.duckdb"), []string{path})
}

// escalationRules are the rules whose findings count as "flagged".
var escalationRules = []string{"privilege_escalation_possible", "privilege_escalation_conditional", "full_admin_access"}

// iamVulnerableScenario names the lab scenario a principal belongs to and
// whether the lab means it to be exploitable; ok is false for principals
// outside the lab and for the lab's targets (the roles a scenario reaches).
func iamVulnerableScenario(name string) (scenario string, exploitable, ok bool) {
	switch name {
	case "privesc-AssumeRole-intermediate-role", "privesc-AssumeRole-ending-role",
		"privesc-high-priv-service-role", "privesc-permissive-role-trust":
		return "", false, false // targets, not starting points
	case "privesc-AssumeRole-start-user", "privesc-AssumeRole-starting-role":
		return "privesc-AssumeRole", true, true
	}
	s := regexp.MustCompile(`-(user|role)$`).ReplaceAllString(name, "")
	switch {
	case strings.HasPrefix(s, "privesc"), strings.HasPrefix(s, "fn"):
		return s, true, true
	case strings.HasPrefix(s, "fp"):
		return s, false, true
	}
	return "", false, false
}

// TestIAMVulnerableCorpus runs the escalation rules on the iam-vulnerable
// authorization details and prints, per lab principal, what the lab expects
// and what credtrail found; then the totals per scenario (a scenario is
// found when its user or its role is flagged) and the misses. Run it with
// go test ./queries -run TestIAMVulnerableCorpus -v.
func TestIAMVulnerableCorpus(t *testing.T) {
	c := iamVulnerableCase(t)
	ctx := context.Background()
	if _, err := queries.Run(ctx, c.DB, queries.Params{Rules: escalationRules}); err != nil {
		t.Fatal(err)
	}
	// Every lab principal, with the findings of the escalation rules on it.
	rows, err := c.DB.QueryContext(ctx, `
		with principals as (
		    select arn, user_name as name from iam_users
		    union all select arn, role_name from iam_roles
		)
		select p.name, coalesce(string_agg(f.rule_id || ': ' || f.detail, ' | ' order by f.rule_id), '')
		from principals p
		left join findings f on f.principal_arn = p.arn
		group by p.name order by p.name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	type scenario struct {
		exploitable bool
		found       []string
	}
	scenarios := map[string]*scenario{}
	var report strings.Builder
	for rows.Next() {
		var name, found string
		if err := rows.Scan(&name, &found); err != nil {
			t.Fatal(err)
		}
		s, exploitable, ok := iamVulnerableScenario(name)
		if !ok {
			continue
		}
		if scenarios[s] == nil {
			scenarios[s] = &scenario{exploitable: exploitable}
		}
		want := "fp"
		if exploitable {
			want = "exploitable"
		}
		got := "-"
		if found != "" {
			got = "FLAGGED"
			scenarios[s].found = append(scenarios[s].found, name)
		}
		fmt.Fprintf(&report, "%-60s %-11s %-7s %s\n", name, want, got, found)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var exploitable, found, fps, flagged int
	var misses, fpFlagged []string
	for name, s := range scenarios {
		switch {
		case s.exploitable:
			exploitable++
			if len(s.found) > 0 {
				found++
			} else {
				misses = append(misses, name)
			}
		default:
			fps++
			if len(s.found) > 0 {
				flagged++
				fpFlagged = append(fpFlagged, name)
			}
		}
	}
	sort.Strings(misses)
	sort.Strings(fpFlagged)
	t.Logf("iam-vulnerable, per principal (expected, flagged, finding):\n%s", report.String())
	t.Logf("iam-vulnerable: %d of %d exploitable scenarios found; %d of %d designed false positives flagged", found, exploitable, flagged, fps)
	t.Logf("misses: %s", strings.Join(misses, ", "))
	t.Logf("false positives flagged: %s", strings.Join(fpFlagged, ", "))
	if b, err := json.Marshal(map[string]any{"found": found, "exploitable": exploitable, "fp_flagged": flagged, "fp": fps}); err == nil {
		t.Logf("totals: %s", b)
	}
	// The lab: 36 exploitable scenarios, 5 designed false positives.
	if exploitable != 36 || fps != 5 {
		t.Fatalf("the lab has %d exploitable scenarios and %d false positives here, want 36 and 5: the corpus file changed", exploitable, fps)
	}
	// The floor measured when this test was written; raise it as the
	// analysis improves, never lower it.
	if found < minIAMVulnerableFound {
		t.Errorf("found %d exploitable scenarios, want at least %d", found, minIAMVulnerableFound)
	}
	if flagged > maxIAMVulnerableFPFlagged {
		t.Errorf("flagged %d designed false positives, want at most %d", flagged, maxIAMVulnerableFPFlagged)
	}
	// The lab's role that trusts the whole account is reported as such.
	if _, err := queries.Run(ctx, c.DB, queries.Params{Rules: []string{"role_trusts_whole_account"}}); err != nil {
		t.Fatal(err)
	}
	var whole int
	if err := c.DB.QueryRowContext(ctx, `select count(*) from findings where principal_arn like '%:role/privesc-permissive-role-trust'`).Scan(&whole); err != nil {
		t.Fatal(err)
	}
	if whole != 1 {
		t.Errorf("privesc-permissive-role-trust: %d role_trusts_whole_account findings, want 1", whole)
	}
}

const (
	minIAMVulnerableFound     = 36
	maxIAMVulnerableFPFlagged = 0
)
