package ingest

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tarEntry is one entry of a test bundle: a body, or size bytes of zeros.
type tarEntry struct {
	name string
	body []byte
	size int64
}

// writeTarGz writes a tar.gz streaming, so that a bundle of gigabytes of
// zeros costs no memory to make.
func writeTarGz(tb testing.TB, path string, entries ...tarEntry) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	zw, _ := gzip.NewWriterLevel(f, gzip.BestSpeed)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		var r io.Reader = bytes.NewReader(e.body)
		size := int64(len(e.body))
		if e.body == nil {
			r, size = io.LimitReader(zeros{}, e.size), e.size
		}
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Typeflag: tar.TypeReg, Mode: 0o644, Size: size}); err != nil {
			tb.Fatal(err)
		}
		if _, err := io.Copy(tw, r); err != nil {
			tb.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func readFile(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// Bundles unpack within limits on their expansion, the bytes of a run and
// their nesting; a bundle that passes one stops there with the reason, the
// entries before it and the files beside it load in full, and a bundle
// that repeats is unpacked once.
func TestBundleUnpackLimits(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	shapes := filepath.Join(fixtureDir, "shapes")
	array := readFile(t, filepath.Join(shapes, "array.json"))
	ndjson := readFile(t, filepath.Join(shapes, "events.ndjson"))
	single := readFile(t, filepath.Join(shapes, "single-event.json"))
	dir := t.TempDir()
	bomb := filepath.Join(dir, "bomb.tgz")
	writeTarGz(t, bomb, tarEntry{name: "a/array.json", body: array}, tarEntry{name: "a/zeros.json", size: 300 << 20},
		tarEntry{name: "a/after.json", body: single})
	var zbuf bytes.Buffer
	zipw := zip.NewWriter(&zbuf)
	w, _ := zipw.Create("zeros.json")
	io.Copy(w, io.LimitReader(zeros{}, 300<<20))
	zipw.Close()
	os.WriteFile(filepath.Join(dir, "bomb.zip"), zbuf.Bytes(), 0o644)
	os.WriteFile(filepath.Join(dir, "beside.ndjson"), ndjson, 0o644)

	c := openTestCase(t)
	outcomes := ingestPaths(t, c, dir)
	for _, name := range []string{"bomb.tgz!a/zeros.json", "bomb.zip!zeros.json"} {
		if o := outcomeOf(t, outcomes, name); o.Status != StatusRejected || !strings.Contains(o.Error, "--max-unpack-ratio") {
			t.Errorf("%s: %s %q, want rejected naming the ratio limit", name, o.Status, o.Error)
		}
	}
	if o := outcomeOf(t, outcomes, "bomb.tgz"); o.Status != StatusPartial || !strings.Contains(o.Error, "--max-unpack-ratio") {
		t.Errorf("bomb.tgz: %s %q, want partial naming the limit", o.Status, o.Error)
	}
	if n := queryInt(t, c.DB, "select count(*) from events"); n != 2+3 {
		t.Errorf("%d events, want those of the entry before the bomb and of the file beside it", n)
	}

	// Nesting: a bundle in a bundle in a bundle, with two limits; a bundle
	// that repeats, under other names and levels, is unpacked once.
	dir = t.TempDir()
	inner := filepath.Join(t.TempDir(), "inner.tgz")
	writeTarGz(t, inner, tarEntry{name: "array.json", body: array})
	middle := filepath.Join(t.TempDir(), "middle.tgz")
	writeTarGz(t, middle, tarEntry{name: "inner.tgz", body: readFile(t, inner)}, tarEntry{name: "again/inner.tgz", body: readFile(t, inner)})
	writeTarGz(t, filepath.Join(dir, "outer.tgz"), tarEntry{name: "middle.tgz", body: readFile(t, middle)}, tarEntry{name: "single.json", body: single})
	os.WriteFile(filepath.Join(dir, "z-inner.tgz"), readFile(t, inner), 0o644)
	c = openTestCase(t)
	outcomes, err := c.Ingest(context.Background(), []string{filepath.Join(dir, "outer.tgz")}, IngestOptions{Unpack: UnpackLimits{MaxDepth: 2}})
	if err != nil {
		t.Fatal(err)
	}
	// (Its copy under another name is a duplicate of it.)
	if o := outcomeOf(t, outcomes, "outer.tgz!middle.tgz!again/inner.tgz"); o.Status != StatusRejected || !strings.Contains(o.Error, "--max-bundle-depth") {
		t.Errorf("again/inner.tgz: %s %q, want rejected naming the depth limit", o.Status, o.Error)
	}
	if n := queryInt(t, c.DB, "select count(*) from events"); n != 1 {
		t.Errorf("%d events, want the one of single.json", n)
	}

	c = openTestCase(t)
	outcomes = ingestPaths(t, c, dir)
	unpacked := 0
	for _, o := range outcomes {
		if strings.HasSuffix(o.Path, "inner.tgz!array.json") {
			unpacked++
		}
	}
	if unpacked != 1 {
		t.Errorf("the repeated bundle was unpacked %d times, want once", unpacked)
	}
	// The copy found first (the shallowest, then by name) is unpacked.
	if o := outcomeOf(t, outcomes, "z-inner.tgz"); o.Status != StatusLoaded || o.Records != 1 {
		t.Errorf("z-inner.tgz: %+v, want unpacked", o)
	}
	for _, name := range []string{"outer.tgz!middle.tgz!inner.tgz", "outer.tgz!middle.tgz!again/inner.tgz"} {
		if o := outcomeOf(t, outcomes, name); o.Status != StatusDuplicate || o.Records != 1 {
			t.Errorf("%s: %+v, want a duplicate of the bundle unpacked", name, o)
		}
	}
	if n := queryInt(t, c.DB, "select count(*) from events"); n != 2+1 {
		t.Errorf("%d events, want 3", n)
	}

	// The bytes of a whole run.
	c = openTestCase(t)
	outcomes, err = c.Ingest(context.Background(), []string{filepath.Join(dir, "outer.tgz")}, IngestOptions{Unpack: UnpackLimits{MaxBytes: 1 << 10}})
	if err != nil {
		t.Fatal(err)
	}
	if o := outcomeOf(t, outcomes, "outer.tgz"); !strings.Contains(o.Error, "--max-unpack-gib") {
		t.Errorf("outer.tgz: %+v, want the run's limit named", o)
	}
}
