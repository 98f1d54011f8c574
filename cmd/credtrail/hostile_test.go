package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/credtrail/credtrail/ingest"
)

// cliEnv makes the test binary run credtrail's main: a test runs the
// command as a process of its own (to kill it, or to measure its memory)
// without linking a second binary.
const cliEnv = "CREDTRAIL_TEST_CLI"

const sampleCase = "../../samples/case"

// credtrailCommand is credtrail as a child process. Its address space is
// capped at 4 GB (ulimit -v) so that a run that does not bound its memory
// fails rather than take the machine's.
func credtrailCommand(args ...string) *exec.Cmd {
	cmd := exec.Command("/bin/sh", append([]string{"-c", `ulimit -v 4000000 && exec "$0" "$@"`, os.Args[0]}, args...)...)
	cmd.Env = append(os.Environ(), cliEnv+"=1")
	return cmd
}

// peakRSS is the largest resident set of a finished child, in bytes.
func peakRSS(cmd *exec.Cmd) int64 {
	return cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10
}

// gzipMembers writes head, mib MiB of fill and tail as one gzip body: a
// member compressed once is written mib times (a reader takes the members
// as one body), so gigabytes cost megabytes and no memory to make.
func gzipMembers(t *testing.T, path, head string, mib int, tail string) {
	t.Helper()
	member := func(b []byte) []byte {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(b)
		zw.Close()
		return buf.Bytes()
	}
	var out bytes.Buffer
	out.Write(member([]byte(head)))
	block := member(bytes.Repeat([]byte("a"), 1<<20))
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Write(out.Bytes())
	for range mib {
		f.Write(block)
	}
	if _, err := f.Write(member([]byte(tail))); err != nil {
		t.Fatal(err)
	}
}

// tarGz writes a tar.gz of entries, streaming; a nil body is size zeros.
func tarGz(t *testing.T, path string, entries ...tarFile) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw, _ := gzip.NewWriterLevel(f, gzip.BestSpeed)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		var r io.Reader = bytes.NewReader(e.body)
		size := int64(len(e.body))
		if e.body == nil {
			r, size = io.LimitReader(zeroReader{}, e.size), e.size
		}
		tw.WriteHeader(&tar.Header{Name: e.name, Typeflag: tar.TypeReg, Mode: 0o644, Size: size})
		if _, err := io.Copy(tw, r); err != nil {
			t.Fatal(err)
		}
	}
	tw.Close()
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}

type tarFile struct {
	name string
	body []byte
	size int64
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// caseFacts is what two ingests of the same evidence must agree on.
type caseFacts struct {
	events, loaded int64
	digest         string
}

// factsOf reads the facts of a case's evidence under the folder prefix.
func factsOf(t *testing.T, path, prefix string) caseFacts {
	t.Helper()
	c, err := ingest.OpenReadOnly(context.Background(), path, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var f caseFacts
	err = c.DB.QueryRow(`select (select count(*) from events e join evidence_files f using (file_id) where starts_with(f.path, $1)),
		(select count(distinct sha256) from evidence_files where status = 'loaded' and starts_with(path, $1)),
		(select md5(coalesce(string_agg(concat_ws('|', e.event_id, e.event_time, e.event_name, e.principal_arn, e.record_index, f.sha256),
		                        ',' order by e.event_id, f.sha256, e.record_index), ''))
		 from events e join evidence_files f using (file_id) where starts_with(f.path, $1))`, prefix).Scan(&f.events, &f.loaded, &f.digest)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func evidenceRows(t *testing.T, path string) map[string][2]string {
	t.Helper()
	c, err := ingest.OpenReadOnly(context.Background(), path, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rows, err := c.DB.Query("select path, status, coalesce(error, '') from evidence_files")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][2]string{}
	for rows.Next() {
		var p, status, reason string
		if err := rows.Scan(&p, &status, &reason); err != nil {
			t.Fatal(err)
		}
		out[p] = [2]string{status, reason}
	}
	return out
}

// The hostile suite: each input below is refused with a reason of its own,
// in bounded memory, and the sample case given beside them loads in full.
func TestHostileInputs(t *testing.T) {
	if testing.Short() {
		t.Skip("about a minute: a 7 GiB value, a 1 GiB bomb, a 200 MB record")
	}
	t.Setenv("TMPDIR", t.TempDir())
	dir := t.TempDir()
	hostile := filepath.Join(dir, "hostile")
	os.Mkdir(hostile, 0o755)
	event := `{"eventVersion":"1.08","eventTime":"2024-03-07T01:00:00Z","eventSource":"iam.amazonaws.com","eventName":"ListUsers","eventID":"hostile-1","recipientAccountId":"111122223333","requestParameters":`

	// A 7 GiB JSON value in a 7 MB gzip file.
	gzipMembers(t, filepath.Join(hostile, "huge-value.json.gz"), event+`{"x":"`, 7<<10, `"}}`+"\n")
	// A gzip bomb inside a bundle, after a good entry.
	single, _ := os.ReadFile(filepath.Join(shapes, "single-event.json"))
	tarGz(t, filepath.Join(hostile, "bomb.tgz"), tarFile{name: "ok/single.json", body: single}, tarFile{name: "ok/zeros.json", size: 1 << 30})
	// Tar entries that climb out of the scratch folder, or name an absolute path.
	tarGz(t, filepath.Join(hostile, "traversal.tgz"), tarFile{name: "../../escaped.json", body: single}, tarFile{name: "/tmp/absolute-" + filepath.Base(dir) + ".json", body: single})
	// Nesting 100,000 deep.
	os.WriteFile(filepath.Join(hostile, "deep.json"), []byte(event+strings.Repeat("[", 100_000)+strings.Repeat("]", 100_000)+"}\n"), 0o644)
	// A single record of 200 MB.
	big := bytes.NewBufferString(`{"Records":[` + event + `{"x":"`)
	big.Write(bytes.Repeat([]byte("b"), 200<<20))
	big.WriteString(`"}}]}`)
	os.WriteFile(filepath.Join(hostile, "big-record.json"), big.Bytes(), 0o644)
	big = nil
	// A link to a file outside the evidence.
	secret := filepath.Join(t.TempDir(), "shadow")
	os.WriteFile(secret, []byte("root:$6$secret-hash:19000:0:99999:7:::\n"), 0o600)
	os.Symlink(secret, filepath.Join(hostile, "shadow"))
	// A bundle cut short.
	var whole bytes.Buffer
	zw := gzip.NewWriter(&whole)
	tw := tar.NewWriter(zw)
	for i := range 50 {
		body := []byte(fmt.Sprintf(`{"Records":[{"eventID":"cut-%d","eventTime":"2024-03-07T01:00:00Z","eventName":"x","x":"%s"}]}`, i, strings.Repeat(strconv.Itoa(i), 2000)))
		tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("cut/%02d.json", i), Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(body))})
		tw.Write(body)
	}
	tw.Close()
	zw.Close()
	os.WriteFile(filepath.Join(hostile, "truncated.tgz"), whole.Bytes()[:whole.Len()/2], 0o644)

	clean := filepath.Join(dir, "clean.duckdb")
	if out, err := credtrailCommand("ingest", clean, filepath.Join(sampleCase, "AWSLogs"), filepath.Join(sampleCase, "iam")).CombinedOutput(); err != nil {
		t.Fatalf("clean ingest: %v\n%s", err, out)
	}
	caseDB := filepath.Join(dir, "case.duckdb")
	cmd := credtrailCommand("ingest", "--memory-limit", "512MB", caseDB, filepath.Join(sampleCase, "AWSLogs"), filepath.Join(sampleCase, "iam"), hostile)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ingest with hostile inputs: %v\n%s", err, stderr.String())
	}
	rss := peakRSS(cmd)
	t.Logf("peak resident memory of the ingest: %d MiB", rss>>20)
	if rss > 1<<30 {
		t.Errorf("peak resident memory %d MiB, want at most 1 GiB", rss>>20)
	}

	rows := evidenceRows(t, caseDB)
	for name, want := range map[string][2]string{
		"huge-value.json.gz":               {"rejected", "larger than 16 MiB"},
		"bomb.tgz":                         {"partial", "--max-unpack-ratio"},
		"bomb.tgz!ok/zeros.json":           {"rejected", "--max-unpack-ratio"},
		"bomb.tgz!ok/single.json":          {"loaded", ""},
		"traversal.tgz!../../escaped.json": {"rejected", `".."`},
		"deep.json":                        {"rejected", "exceeded max depth"},
		"big-record.json":                  {"rejected", "larger than 16 MiB"},
		"shadow":                           {"rejected", "link outside the evidence"},
		"truncated.tgz":                    {"partial", "lost"},
	} {
		got, ok := rows[hostile+string(filepath.Separator)+name]
		if !ok || got[0] != want[0] || !strings.Contains(got[1], want[1]) {
			t.Errorf("%s: %q, want %s saying %q", name, got, want[0], want[1])
		}
	}
	for p, r := range rows {
		if strings.Contains(r[1], "secret-hash") {
			t.Errorf("%s: reason quotes a file outside the evidence: %q", p, r[1])
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(filepath.Dir(dir)), "escaped.json")); err == nil {
		t.Error("a tar entry was written outside the scratch folder")
	}
	if _, err := os.Stat("/tmp/absolute-" + filepath.Base(dir) + ".json"); err == nil {
		t.Error("a tar entry with an absolute name was written there")
	}
	// The sample case beside them loads in full.
	if want, got := factsOf(t, clean, sampleCase), factsOf(t, caseDB, sampleCase); got != want {
		t.Errorf("the sample case beside hostile inputs: %+v, want %+v as alone", got, want)
	}
}
