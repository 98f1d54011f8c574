package queries_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/tools/txtar"

	"github.com/credtrail/credtrail/ingest"
	"github.com/credtrail/credtrail/queries"
)

var update = flag.Bool("update", false, "rewrite the findings sections of the fixtures")

// Each rule has testdata/<rule_id>/fire.txtar and quiet.txtar: the archive's
// comment holds the parameters ("key: value" lines), its files the evidence
// to ingest, and its file "findings" the rule's findings on that evidence
// (refreshed with -update). A fire case must find something, a quiet one nothing.
func TestCatalogFixtures(t *testing.T) {
	rules, err := queries.Rules()
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, r := range rules {
		ids[r.ID] = true
		for _, c := range []string{"fire", "quiet"} {
			if _, err := os.Stat(filepath.Join("testdata", r.ID, c+".txtar")); err != nil {
				t.Errorf("rule %s has no %s fixture: %v", r.ID, c, err)
			}
		}
	}
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() && !ids[e.Name()] && !strings.HasPrefix(e.Name(), "_") {
			t.Errorf("testdata/%s names no rule", e.Name())
		}
	}
}

func TestRuleFixtures(t *testing.T) {
	rules, err := queries.Rules()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules {
		// fire.txtar and quiet.txtar, and more cases of either kind:
		// fire_<shape>.txtar, quiet_<shape>.txtar (a shape seen on real data)
		paths, err := filepath.Glob(filepath.Join("testdata", r.ID, "*.txtar"))
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range paths {
			c := strings.TrimSuffix(filepath.Base(path), ".txtar")
			fire := c == "fire" || strings.HasPrefix(c, "fire_")
			if !fire && c != "quiet" && !strings.HasPrefix(c, "quiet_") {
				t.Errorf("%s: a fixture is fire[_shape].txtar or quiet[_shape].txtar", path)
				continue
			}
			t.Run(r.ID+"/"+c, func(t *testing.T) {
				t.Parallel()
				checkFixture(t, r, path, fire)
			})
		}
	}
}

func checkFixture(t *testing.T, rule queries.Rule, path string, fire bool) {
	ruleID := rule.ID
	ar, err := txtar.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := fixtureParams(string(ar.Comment))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	p.Rules = []string{ruleID}
	dir := t.TempDir()
	var evidence []txtar.File
	want, hasWant := "", false
	for _, f := range ar.Files {
		if f.Name == "findings" {
			want, hasWant = string(f.Data), true
			continue
		}
		evidence = append(evidence, f)
	}
	c := ingestCase(t, filepath.Join(dir, "case.duckdb"), writeEvidence(t, filepath.Join(dir, "evidence"), evidence))
	ctx := context.Background()
	// Digests are checked by credtrail verify, whose results rules read.
	for _, f := range evidence {
		if strings.Contains(f.Name, "CloudTrail-Digest") {
			if _, err := c.Verify(ctx, nil); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	if _, err := queries.Run(ctx, c.DB, p); err != nil {
		t.Fatal(err)
	}
	got := dumpFindings(t, c)
	if *update {
		var files []txtar.File
		for _, f := range ar.Files {
			if f.Name != "findings" {
				files = append(files, f)
			}
		}
		ar.Files = append(files, txtar.File{Name: "findings", Data: []byte(got)})
		if err := os.WriteFile(path, txtar.Format(ar), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if fire && got == "" {
		t.Errorf("%s: rule %s found nothing", path, ruleID)
	}
	if !fire && got != "" {
		t.Errorf("%s: rule %s should stay quiet, found:\n%s", path, ruleID, got)
	}
	if !hasWant {
		t.Errorf("%s: no findings section (run with -update and review it)", path)
	} else if got != want {
		t.Errorf("%s: findings differ\n--- got\n%s--- want\n%s", path, got, want)
	}
	// Determinism: a second run gives the same rows.
	if !fire {
		return
	}
	fs, err := queries.Findings(ctx, c.DB, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkBaselineStated(t, path, rule, fs)
	if _, err := queries.Run(ctx, c.DB, p); err != nil {
		t.Fatal(err)
	}
	if again := dumpFindings(t, c); again != got {
		t.Errorf("%s: second run differs\n--- first\n%s--- second\n%s", path, got, again)
	}
}

// emptyCase is a new case written once per test run and copied for each
// fixture: creating the schema costs more than most fixtures.
var emptyCase = sync.OnceValues(func() ([]byte, error) {
	dir, err := os.MkdirTemp("", "credtrail-queries-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "empty.duckdb")
	c, err := ingest.Open(context.Background(), path, ingest.Options{Threads: 1})
	if err != nil {
		return nil, err
	}
	if err := c.Close(); err != nil {
		return nil, err
	}
	return os.ReadFile(path)
})

// writeEvidence writes the files of a txtar archive into dir and returns their paths.
func writeEvidence(tb testing.TB, dir string, files []txtar.File) []string {
	tb.Helper()
	var paths []string
	for _, f := range files {
		name := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(name, f.Data, 0o644); err != nil {
			tb.Fatal(err)
		}
		paths = append(paths, name)
	}
	return paths
}

func ingestCase(tb testing.TB, path string, inputs []string) *ingest.Case {
	tb.Helper()
	ctx := context.Background()
	empty, err := emptyCase()
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, empty, 0o644); err != nil {
		tb.Fatal(err)
	}
	c, err := ingest.Open(ctx, path, ingest.Options{Threads: 1})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	if len(inputs) > 0 {
		mustIngest(tb, c, inputs...)
	}
	return c
}

// mustIngest ingests inputs into c and fails unless every file loads.
func mustIngest(tb testing.TB, c *ingest.Case, inputs ...string) {
	tb.Helper()
	outcomes, err := c.Ingest(context.Background(), inputs, ingest.IngestOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	for _, o := range outcomes {
		if o.Status != ingest.StatusLoaded {
			tb.Fatalf("%s: %s %s", o.Path, o.Status, o.Error)
		}
	}
}

// dumpFindings writes the findings as the fixtures record them.
func dumpFindings(tb testing.TB, c *ingest.Case) string {
	tb.Helper()
	fs, err := queries.Findings(context.Background(), c.DB, 0)
	if err != nil {
		tb.Fatal(err)
	}
	slices.SortFunc(fs, func(a, b queries.Finding) int {
		return strings.Compare(a.AccountID+a.PrincipalARN+a.Resource, b.AccountID+b.PrincipalARN+b.Resource)
	})
	var b strings.Builder
	ts := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.Format(time.RFC3339)
	}
	for _, f := range fs {
		fmt.Fprintf(&b, "- %s %s account=%s principal=%s resource=%s\n", f.Severity, f.RuleID, f.AccountID, f.PrincipalARN, f.Resource)
		fmt.Fprintf(&b, "  seen: %s .. %s, %d events\n", ts(f.FirstSeen), ts(f.LastSeen), f.EventCount)
		fmt.Fprintf(&b, "  detail: %s\n", f.Detail)
		fmt.Fprintf(&b, "  evidence: %s\n", f.Evidence)
	}
	return b.String()
}

func fixtureParams(comment string) (queries.Params, error) {
	var p queries.Params
	for _, line := range strings.Split(comment, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return p, fmt.Errorf("comment line %q is not key: value", line)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		list := func() []string {
			var l []string
			for _, s := range strings.Split(v, ",") {
				if s = strings.TrimSpace(s); s != "" {
					l = append(l, s)
				}
			}
			return l
		}
		var err error
		tm := func() time.Time {
			var t time.Time
			t, err = time.Parse(time.RFC3339, v)
			return t
		}
		num := func() int {
			var n int
			n, err = strconv.Atoi(v)
			return n
		}
		switch k {
		case "since":
			p.Since = tm()
		case "until":
			p.Until = tm()
		case "as_of":
			p.AsOf = tm()
		case "key_max_age_days":
			p.KeyMaxAgeDays = num()
		case "unused_after_days":
			p.UnusedAfterDays = num()
		case "allowed_regions":
			p.AllowedRegions = list()
		case "trusted_accounts":
			p.TrustedAccounts = list()
		case "trusted_cidrs":
			p.TrustedCIDRs = list()
		case "note":
		default:
			return p, fmt.Errorf("unknown parameter %q", k)
		}
		if err != nil {
			return p, fmt.Errorf("%s: %w", k, err)
		}
	}
	return p, nil
}
