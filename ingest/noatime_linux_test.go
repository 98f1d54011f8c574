package ingest

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func accessTime(tb testing.TB, name string) time.Time {
	tb.Helper()
	info, err := os.Stat(name)
	if err != nil {
		tb.Fatal(err)
	}
	st := info.Sys().(*syscall.Stat_t)
	return time.Unix(st.Atim.Sec, st.Atim.Nsec)
}

// Reading evidence leaves its access time as it was: files hashed, sniffed,
// parsed whole, rewritten, and bundles unpacked.
func TestEvidenceIsReadWithoutTouchingItsAccessTime(t *testing.T) {
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	dir := copyTree(t, filepath.Join(fixtureDir, "shapes"))
	credReport, _ := os.ReadFile("../samples/case/iam/298228927586/credential-report.csv")
	os.WriteFile(filepath.Join(dir, "report.csv"), credReport, 0o644)
	control := filepath.Join(t.TempDir(), "control")
	os.WriteFile(control, []byte("x"), 0o644)
	os.Chtimes(control, old, old)
	os.ReadFile(control)
	if accessTime(t, control).Equal(old) {
		t.Skip("this file system does not record access times")
	}
	names := []string{"report.csv", "events.ndjson", "array.json", "lookup-events.json", "event-history.csv"}
	for _, n := range names {
		if err := os.Chtimes(filepath.Join(dir, n), old, old); err != nil {
			t.Fatal(err)
		}
	}
	c := openTestCase(t)
	outcomes := ingestPaths(t, c, dir)
	for _, n := range names {
		if o := outcomeOf(t, outcomes, n); o.Status != StatusLoaded {
			t.Errorf("%s: %+v", n, o)
		}
		if at := accessTime(t, filepath.Join(dir, n)); !at.Equal(old) {
			t.Errorf("%s: access time %v after ingest, want %v as before", n, at, old)
		}
	}
}
