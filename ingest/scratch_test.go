//go:build unix

package ingest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// A scratch folder left by a run that was killed (its process is gone) is
// removed by the next run; one of a running process, and other folders of
// the temporary folder, are left alone.
func TestStaleScratchIsRemoved(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	gone := exec.Command(os.Args[0], "-test.run=^$")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(tmp, scratchPrefix+strconv.Itoa(gone.Process.Pid)+"-123")
	running := filepath.Join(tmp, scratchPrefix+"1-456") // PID 1 always runs
	other := filepath.Join(tmp, "credtrail-notes")
	for _, d := range []string{stale, running, other} {
		if err := os.MkdirAll(filepath.Join(d, "sub"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "sub", "1.entry"), []byte("{}"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c := openTestCase(t)
	ingestPaths(t, c, filepath.Join(fixtureDir, "shapes", "array.json"))
	if _, err := os.Stat(stale); err == nil {
		t.Error("the scratch folder of a killed run is still there")
	}
	for _, d := range []string{running, other} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("%s was removed", d)
		}
	}
	left, _ := os.ReadDir(tmp)
	if len(left) != 2 {
		t.Errorf("temporary folder holds %d entries after the run, want 2", len(left))
	}
}
