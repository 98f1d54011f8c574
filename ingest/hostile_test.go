package ingest

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"runtime/metrics"
	"strings"
	"testing"
)

// writeGzipBomb writes a gzip file whose body is head, then mib MiB of fill,
// then tail: one small gzip member compressed once and written mib times (a
// reader takes the members as one body), so a body of gigabytes costs a
// file of megabytes and no memory to make.
func writeGzipBomb(tb testing.TB, path, head string, fill byte, mib int, tail string) {
	tb.Helper()
	member := func(b []byte) []byte {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(b)
		zw.Close()
		return buf.Bytes()
	}
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	f.Write(member([]byte(head)))
	block := member(bytes.Repeat([]byte{fill}, 1<<20))
	for range mib {
		if _, err := f.Write(block); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := f.Write(member([]byte(tail))); err != nil {
		tb.Fatal(err)
	}
}

// heapAllocated is the total of bytes the Go heap has handed out so far.
func heapAllocated() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// One JSON value of 100-300 MiB, in a file of a few hundred KB, in every place a
// decoder meets it, is rejected with a reason without being read into memory;
// so is nesting 100,000 deep. The good files beside them load in full.
func TestHugeAndDeepJSONValuesAreRejectedInBoundedMemory(t *testing.T) {
	c := openTestCase(t)
	dir := copyTree(t, filepath.Join(fixtureDir, "shapes"))
	hostile := filepath.Join(dir, "hostile")
	os.Mkdir(hostile, 0o755)
	event := `{"eventVersion":"1.08","eventTime":"2024-03-07T01:00:00Z","eventSource":"iam.amazonaws.com","eventName":"ListUsers","eventID":"huge-1","requestParameters":{"x":"`
	// Each value is past the bound that stops it: maxJSONValueBytes,
	// read_json's object size for a Records file read in place, maxBodyBytes.
	bombs := map[string]struct {
		head, tail string
		mib        int
		reason     string
	}{
		"unknown-key.json.gz":   {`{"x":"`, `","Records":[]}`, 300, "larger than 16 MiB"},
		"records-value.json.gz": {`{"Records":[` + event, `"}}]}`, 100, "record 0: a JSON value larger than 16 MiB"},
		"array.json.gz":         {`[` + event, `"}}]`, 300, "record 0: a JSON value larger than 16 MiB"},
		"ndjson.json.gz":        {event, `"}}` + "\n", 300, "record 0: a JSON value larger than 16 MiB"},
		"lookup.json.gz":        {`{"Events":[{"EventId":"e","CloudTrailEvent":"`, `"}]}`, 300, "Events[0]: a JSON value larger than 16 MiB"},
		"credreport.json.gz":    {`{"GeneratedTime":"2024-01-01T00:00:00Z","ReportFormat":"text/csv","Content":"`, `"}`, 300, "larger than 256 MiB uncompressed"},
	}
	for name, b := range bombs {
		writeGzipBomb(t, filepath.Join(hostile, name), b.head, 'a', b.mib, b.tail)
	}
	deep := strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000)
	deepFiles := map[string]string{
		"deep-ndjson.json": strings.TrimSuffix(event, `{"x":"`) + deep + "}\n",
		"deep-array.json":  deep,
		"deep-key.json":    `{"a":` + deep + `}`,
	}
	for name, body := range deepFiles {
		os.WriteFile(filepath.Join(hostile, name), []byte(body), 0o644)
	}

	before := heapAllocated()
	outcomes := ingestPaths(t, c, dir)
	// Read whole, each value would take its size at least once, and more
	// as a decoder's buffer grows to hold it.
	got := heapAllocated() - before
	t.Logf("ingest allocated %d MiB", got>>20)
	if got > 1<<30 {
		t.Errorf("ingest allocated %d MiB for 1.6 GiB of values, want them skipped, not read", got>>20)
	}
	for name, b := range bombs {
		o := outcomeOf(t, outcomes, name)
		if o.Status != StatusRejected || !strings.Contains(o.Error, b.reason) {
			t.Errorf("%s: %s %q, want rejected saying %q", name, o.Status, o.Error, b.reason)
		}
	}
	for name := range deepFiles {
		if o := outcomeOf(t, outcomes, name); o.Status != StatusRejected {
			t.Errorf("%s: %+v, want rejected", name, o)
		}
	}
	if n := queryInt(t, c.DB, "select count(*) from events"); n != 9 {
		t.Errorf("good files beside them: %d events, want all 9", n)
	}
}
