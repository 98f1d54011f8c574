package queries_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/credtrail/credtrail/ingest"
	"github.com/credtrail/credtrail/queries"
)

// sansAccount is the account of the SANS SEC504 S3-ransomware lab trail in
// the shared corpus, whose root user signs in and works from the console.
const sansAccount = "342082656213"

// TestCorpus: analyze runs over every real sample of ../shared/corpus and
// reports the root activity of the SANS-504 set.
func TestCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("corpus: not in -short")
	}
	dir := findRepoDir(filepath.Join("shared", "corpus"))
	if dir == "" {
		t.Skip("no shared/corpus folder above the working directory: corpus test skipped")
	}
	ctx := context.Background()
	c, err := ingest.Open(ctx, filepath.Join(t.TempDir(), "case.duckdb"), ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Ingest(ctx, []string{dir}, ingest.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	sum, err := queries.Run(ctx, c.DB, queries.Params{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d findings: %v", sum.Total, sum.Counts)
	var n int
	err = c.DB.QueryRowContext(ctx, `select count(*) from findings where account_id = ? and principal_arn = ?
		and rule_id in ('root_activity', 'root_console_login_without_mfa', 'root_console_login', 'root_access_key_used')`,
		sansAccount, "arn:aws:iam::"+sansAccount+":root").Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Errorf("no root activity reported for the SANS-504 account %s", sansAccount)
	}
	// Determinism on real data: the same evidence gives the same findings.
	first, err := queries.Findings(ctx, c.DB, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := queries.Run(ctx, c.DB, queries.Params{}); err != nil {
		t.Fatal(err)
	}
	second, err := queries.Findings(ctx, c.DB, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != len(second) {
		t.Fatalf("second run: %d findings, first %d", len(second), len(first))
	}
	for i := range first {
		if first[i] != second[i] {
			t.Errorf("second run differs at %d:\n%+v\n%+v", i, first[i], second[i])
			break
		}
	}
}
