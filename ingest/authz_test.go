package ingest

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// authzCorpusDir returns shared/corpus, found by walking up from the working
// directory, or skips the test when there is none.
func authzCorpusDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		candidate := filepath.Join(dir, "shared", "corpus")
		if st, err := os.Stat(candidate); err == nil && st.IsDir() {
			return candidate
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Skip("no shared/corpus above the working directory: corpus tests skipped")
		}
		dir = parent
	}
}

// authzManifestEntry is a GAAD file listed in corpus/MANIFEST.tsv with its
// entity counts, from a kind like authz{U=44,G=5,R=78,P=84}.
type authzManifestEntry struct {
	Path       string
	U, G, R, P int64
}

var authzKindPattern = regexp.MustCompile(`^authz\{U=(\d+),G=(\d+),R=(\d+),P=(\d+)\}$`)

func authzManifest(tb testing.TB, corpus string) []authzManifestEntry {
	tb.Helper()
	f, err := os.Open(filepath.Join(corpus, "MANIFEST.tsv"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []authzManifestEntry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if len(fields) < 2 {
			continue
		}
		m := authzKindPattern.FindStringSubmatch(fields[1])
		if m == nil {
			continue
		}
		n := make([]int64, 4)
		for i := range n {
			n[i], _ = strconv.ParseInt(m[i+1], 10, 64)
		}
		out = append(out, authzManifestEntry{Path: fields[0], U: n[0], G: n[1], R: n[2], P: n[3]})
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

func TestAuthzCorpus(t *testing.T) {
	corpus := authzCorpusDir(t)
	entries := authzManifest(t, corpus)
	if len(entries) != 8 {
		t.Fatalf("MANIFEST.tsv lists %d authz files, want 8", len(entries))
	}
	all := openTestCase(t) // every file into one case, as an analyst would
	var records, duplicates int64
	for i, e := range entries {
		body, err := os.ReadFile(filepath.Join(corpus, e.Path))
		if err != nil {
			t.Fatal(err)
		}
		t.Run(e.Path, func(t *testing.T) {
			c := openTestCase(t)
			st, err := loadBody(t, c, loadAuthorizationDetails, 1, body)
			if err != nil {
				t.Fatal(err)
			}
			if want := e.U + e.G + e.R + e.P; st.Records != want || st.Duplicates != 0 {
				t.Errorf("records %d, duplicates %d; want %d, 0", st.Records, st.Duplicates, want)
			}
			for _, table := range []struct {
				name string
				want int64
			}{{"iam_users", e.U}, {"iam_groups", e.G}, {"iam_roles", e.R}, {"iam_policies", e.P}} {
				if got := queryInt(t, c.DB, "select count(*) from "+table.name); got != table.want {
					t.Errorf("%s: %d rows, manifest says %d", table.name, got, table.want)
				}
			}
			if st.AccountID == "" && e.U+e.G+e.R > 0 {
				t.Errorf("no account id")
			}
			if n := queryInt(t, c.DB, "select count(*) from group_members where not group_resolved"); n != 0 {
				t.Errorf("%d group memberships unresolved", n)
			}
			t.Logf("account %s, note %q", st.AccountID, st.Note)
		})
		st, err := loadBody(t, all, loadAuthorizationDetails, int64(i+1), body)
		if err != nil {
			t.Fatalf("%s into the shared case: %v", e.Path, err)
		}
		records += st.Records
		duplicates += st.Duplicates
	}
	entities := queryInt(t, all.DB, `select (select count(*) from iam_users) + (select count(*) from iam_groups)
		+ (select count(*) from iam_roles) + (select count(*) from iam_policies)`)
	if entities != records-duplicates {
		t.Errorf("shared case: %d entities, want records %d - duplicates %d", entities, records, duplicates)
	}
}
