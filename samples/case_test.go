package samples

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the committed sample case (samples/case) from the generator")

// caseOptions are the options of the committed case, samples/case.
func caseOptions() Options {
	return Options{Accounts: 2, Users: 2, Roles: 2, Days: 7, EventsPerDay: 700, Seed: 1, AsOf: DefaultAsOf}
}

// caseCommand is the command that writes the committed case, as its README gives it.
func caseCommand() string {
	o := caseOptions()
	return fmt.Sprintf("credtrail samples generate samples/case --accounts %d --users %d --roles %d --days %d --events-per-day %d --seed %d --as-of %s",
		o.Accounts, o.Users, o.Roles, o.Days, o.EventsPerDay, o.Seed, o.AsOf.Format("2006-01-02"))
}

const caseSizeLimit = 5_000_000 // bytes; the committed case stays small

// TestCommittedCase regenerates the committed case and compares every byte,
// so that it can never drift from the generator. go test -run
// TestCommittedCase -update rewrites it.
func TestCommittedCase(t *testing.T) {
	if testing.Short() {
		t.Skip("generates the committed case")
	}
	dir := filepath.Join(t.TempDir(), "case")
	if _, err := Generate(context.Background(), dir, caseOptions()); err != nil {
		t.Fatal(err)
	}
	got := readTree(t, dir)
	if *update {
		entries, err := os.ReadDir("case")
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Name() != "README.md" {
				if err := os.RemoveAll(filepath.Join("case", e.Name())); err != nil {
					t.Fatal(err)
				}
			}
		}
		for name, data := range got {
			path := filepath.Join("case", filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := readTree(t, "case")
	diffTrees(t, got, want, "README.md")
	size := 0
	for _, data := range want {
		size += len(data)
	}
	if size > caseSizeLimit {
		t.Errorf("samples/case holds %d bytes, more than %d", size, caseSizeLimit)
	}
	if readme := string(want["README.md"]); !strings.Contains(readme, caseCommand()) {
		t.Errorf("samples/case/README.md does not give the command that writes the case:\n%s", caseCommand())
	}
	c, err := loadCase("case", caseOptions())
	if err != nil {
		t.Fatal(err)
	}
	checkFacts(t, c)
	checkConsistency(t, c)
}
