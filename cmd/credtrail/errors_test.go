package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/credtrail/credtrail/ingest"
)

// holdCaseEnv makes the test binary a process that holds a case open for
// writing until its stdin closes, as a long ingest does.
const holdCaseEnv = "CREDTRAIL_TEST_HOLD_CASE"

func TestMain(m *testing.M) {
	if os.Getenv(cliEnv) != "" {
		main() // the test binary is credtrail itself (see credtrailCommand)
	}
	if path := os.Getenv(holdCaseEnv); path != "" {
		c, err := ingest.Open(context.Background(), path, ingest.Options{Threads: 1})
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		fmt.Println("holding")
		io.Copy(io.Discard, os.Stdin)
		c.Close()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestCaseInUseNamesTheWriter(t *testing.T) {
	dir := t.TempDir()
	caseDB := filepath.Join(dir, "case.duckdb")
	if code, _, errOut := runCLI(t, "ingest", caseDB, shapes); code != exitOK {
		t.Fatal(errOut)
	}
	holder := exec.Command(os.Args[0], "-test.run=^$")
	holder.Env = append(os.Environ(), holdCaseEnv+"="+caseDB)
	stdin, err := holder.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := holder.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		holder.Wait()
	}()
	if line, _ := bufio.NewReader(stdout).ReadString('\n'); line != "holding\n" {
		t.Fatalf("holder: %q", line)
	}
	pid := "(PID " + strconv.Itoa(holder.Process.Pid) + ")"
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"query", []string{"query", caseDB, "select 1"}, "the case is being written by"},
		{"report", []string{"report", caseDB, "-o", filepath.Join(dir, "case.xlsx")}, "the case is being written by"},
		{"ingest", []string{"ingest", caseDB, shapes}, "the case is open in"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, tc.args...)
			if code != exitError || !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, pid+"; try again when it finishes") ||
				strings.Contains(errOut, "IO Error") {
				t.Errorf("exit %d; want %q and %q in\n%s", code, tc.want, pid, errOut)
			}
		})
	}
}

func TestOutputErrorsNameTheUsersPath(t *testing.T) {
	caseDB := reportCase(t)
	dir := t.TempDir()
	missing := filepath.Join(dir, "nodir", "out.xlsx")
	code, _, errOut := runCLI(t, "report", caseDB, "-o", missing)
	want := "cannot write " + missing + ": folder " + filepath.Join(dir, "nodir") + " does not exist"
	if code != exitError || !strings.Contains(errOut, want) || strings.Contains(errOut, ".tmp") {
		t.Errorf("report to a missing folder: exit %d, want %q in\n%s", code, want, errOut)
	}
	// run makes the folders its outputs go to.
	book := filepath.Join(dir, "newdir", "sub", "case.xlsx")
	if code, _, errOut := runCLI(t, "run", "-o", book, reportFixture); code != exitOK {
		t.Fatalf("run into a new folder: exit %d\n%s", code, errOut)
	}
	for _, p := range []string{book, filepath.Join(dir, "newdir", "sub", "case.duckdb")} {
		if _, err := os.Stat(p); err != nil {
			t.Error(err)
		}
	}
	// ingest into a missing folder says so.
	code, _, errOut = runCLI(t, "ingest", filepath.Join(dir, "nodir", "case.duckdb"), shapes)
	if code != exitError || !strings.Contains(errOut, "folder "+filepath.Join(dir, "nodir")+" does not exist") {
		t.Errorf("ingest into a missing folder: exit %d\n%s", code, errOut)
	}
}

// A run killed while writing leaves its temporary files; the next run
// removes them, but not those of a process still writing.
func TestKilledRunsTemporaryFilesAreRemoved(t *testing.T) {
	caseDB := reportCase(t)
	dir, tmpDir := t.TempDir(), t.TempDir()
	t.Setenv("TMPDIR", tmpDir)
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	dead, alive := strconv.Itoa(gone.Process.Pid), strconv.Itoa(os.Getppid())
	stale := []string{filepath.Join(dir, ".out.xlsx.tmp-"+dead+"-123"), filepath.Join(tmpDir, "credtrail-workbook-"+dead+"-456")}
	kept := []string{filepath.Join(dir, ".out.xlsx.tmp-"+alive+"-123"), filepath.Join(tmpDir, "credtrail-workbook-"+alive+"-456"),
		filepath.Join(dir, ".other.xlsx.tmp-"+dead+"-1")}
	for _, p := range append(append([]string{}, stale...), kept...) {
		if err := os.WriteFile(p, []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if code, _, errOut := runCLI(t, "report", caseDB, "-o", filepath.Join(dir, "out.xlsx")); code != exitOK {
		t.Fatal(errOut)
	}
	for _, p := range stale {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s of a finished process was not removed", p)
		}
	}
	for _, p := range kept {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s should stay: %v", p, err)
		}
	}
}
