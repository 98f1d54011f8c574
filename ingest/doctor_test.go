package ingest

import (
	"archive/tar"
	"bytes"
	"context"
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// doctorCase ingests the CloudTrail shapes and a tar bundle into a new case,
// closes it, and returns the case path and the evidence folder.
func doctorCase(t *testing.T) (casePath, evidence string) {
	t.Helper()
	evidence = copyTree(t, filepath.Join(fixtureDir, "shapes"))
	ndjson, err := os.ReadFile(filepath.Join(evidence, "events.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	var bundle bytes.Buffer
	tw := tar.NewWriter(&bundle)
	tw.WriteHeader(&tar.Header{Name: "logs/again.ndjson", Mode: 0o644, Size: int64(len(ndjson)), Typeflag: tar.TypeReg})
	tw.Write(ndjson)
	tw.Close()
	if err := os.WriteFile(filepath.Join(evidence, "bundle.tar"), bundle.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	casePath = filepath.Join(t.TempDir(), "case.duckdb")
	c, err := Open(context.Background(), casePath, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ingestPaths(t, c, evidence)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	return casePath, evidence
}

// tamper changes a closed case behind credtrail's back.
func tamper(t *testing.T, casePath string, statements ...string) {
	t.Helper()
	db, err := sql.Open("duckdb", casePath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range statements {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// problemsOf returns the problems doctor found, as "check: what" lines.
func problemsOf(t *testing.T, casePath string) []string {
	t.Helper()
	up, err := Doctor(context.Background(), casePath)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ch := range up.Checks {
		for _, p := range ch.Problems {
			if p.Do == "" {
				t.Errorf("%s: problem without what to do: %s", ch.Name, p.What)
			}
			out = append(out, ch.Name+": "+p.What)
		}
	}
	if up.Healthy() != (len(out) == 0) {
		t.Errorf("Healthy() = %v with %d problems", up.Healthy(), len(out))
	}
	return out
}

func TestDoctor(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir()) // scratch folders of this test only
	t.Run("healthy", func(t *testing.T) {
		casePath, _ := doctorCase(t)
		if got := problemsOf(t, casePath); len(got) != 0 {
			t.Errorf("problems in a fresh case: %q", got)
		}
		up, _ := Doctor(context.Background(), casePath)
		notes := ""
		for _, ch := range up.Checks {
			notes += strings.Join(ch.Notes, "\n") + "\n"
		}
		for _, want := range []string{"9 file(s) hashed again", "1 bundle entr(ies) not checkable"} {
			if !strings.Contains(notes, want) {
				t.Errorf("notes lack %q:\n%s", want, notes)
			}
		}
	})
	plants := []struct {
		name  string
		plant func(t *testing.T, casePath, evidence string)
		want  string
	}{
		{"schema version", func(t *testing.T, casePath, _ string) {
			tamper(t, casePath, "update case_meta set value = '1' where key = 'schema_version'")
		}, "schema: the case has schema version 1, this credtrail reads version " + strconv.Itoa(SchemaVersion)},
		{"orphan rows", func(t *testing.T, casePath, _ string) {
			tamper(t, casePath, "delete from evidence_files where file_id = (select min(file_id) from events)")
		}, "row(s) of events name evidence file(s) the case does not hold"},
		{"loaded file without its rows", func(t *testing.T, casePath, _ string) {
			tamper(t, casePath, "delete from events where file_id = (select file_id from evidence_files where path like '%single-event.json')")
		}, "single-event.json, cloudtrail) is recorded as loaded with 1 new record(s), but the case holds none of them"},
		{"evidence changed on disk", func(t *testing.T, _, evidence string) {
			f, err := os.OpenFile(filepath.Join(evidence, "array.json"), os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString("\n")
			f.Close()
		}, "array.json: its SHA-256 is now"},
		{"scratch left by a stopped run", func(t *testing.T, _, _ string) {
			gone := exec.Command("true")
			if err := gone.Run(); err != nil {
				t.Skip("no true command to get a stopped process id")
			}
			dir := filepath.Join(os.TempDir(), scratchPrefix+strconv.Itoa(gone.Process.Pid)+"-x")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(dir) })
		}, "scratch: 1 scratch folder(s) left by stopped runs"},
		{"interrupted run", func(t *testing.T, casePath, _ string) {
			tamper(t, casePath, "pragma disable_checkpoint_on_shutdown", "insert into case_meta values ('note', 'x')")
			if _, err := os.Stat(casePath + ".wal"); err != nil {
				t.Skip("DuckDB checkpointed anyway: no write-ahead log to find")
			}
		}, "interrupted: a write-ahead log"},
	}
	for _, p := range plants {
		t.Run(p.name, func(t *testing.T) {
			casePath, evidence := doctorCase(t)
			p.plant(t, casePath, evidence)
			got := problemsOf(t, casePath)
			if len(got) != 1 || !strings.Contains(got[0], p.want) {
				t.Errorf("problems %q, want exactly one with %q", got, p.want)
			}
		})
	}
}
