package ingest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
)

// convertBody runs one CloudTrail body converter and returns the records it
// wrote, checking that its chunks are well formed.
func convertBody(t *testing.T, scratch *fuzzScratch, format string, body []byte) ([]json.RawMessage, error) {
	t.Helper()
	rw := scratch.writer()
	defer func() {
		for _, name := range rw.files {
			os.Remove(name)
		}
	}()
	convert := map[string]func(io.Reader, *recordsWriter) error{
		formatRecords:      convertRecordsObjects,
		formatArray:        convertArray,
		formatNDJSON:       convertStream,
		formatLookupEvents: convertLookupEvents,
		formatEventHistory: convertEventHistoryCSV,
	}[format]
	if err := convert(bytes.NewReader(body), rw); err != nil {
		rw.endChunk()
		if err.Error() == "" {
			t.Fatalf("%s: refused without a reason", format)
		}
		return nil, err
	}
	if err := rw.close(); err != nil {
		t.Fatal(err)
	}
	var records []json.RawMessage
	for _, name := range rw.files {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		var chunk struct {
			Offset  int               `json:"offset"`
			Records []json.RawMessage `json:"Records"`
		}
		if err := json.Unmarshal(data, &chunk); err != nil {
			t.Fatalf("%s wrote invalid JSON: %v\n%s", format, err, data)
		}
		if chunk.Offset != len(records) {
			t.Fatalf("%s: chunk at offset %d after %d records", format, chunk.Offset, len(records))
		}
		records = append(records, chunk.Records...)
	}
	if len(records) != rw.n {
		t.Fatalf("%s: chunks hold %d records, %d were written", format, len(records), rw.n)
	}
	for i, r := range records {
		if !isObject(r) {
			t.Fatalf("%s: record %d is not an object: %s", format, i, r)
		}
	}
	return records, nil
}

// fuzzScratch hands out records writers in one folder, sharing one buffer:
// a new 1 MiB buffer per writer made each run allocation-bound.
type fuzzScratch struct {
	dir string
	n   int
	w   *bufio.Writer
}

func (s *fuzzScratch) writer() *recordsWriter {
	s.n++
	if s.w == nil {
		s.w = bufio.NewWriterSize(io.Discard, 1<<20)
	}
	return &recordsWriter{prefix: filepath.Join(s.dir, strconv.Itoa(s.n)), w: s.w}
}

// sameRecords compares records as JSON values.
func sameRecords(a, b []json.RawMessage) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		var x, y any
		if json.Unmarshal(a[i], &x) != nil || json.Unmarshal(b[i], &y) != nil || !reflect.DeepEqual(x, y) {
			return false
		}
	}
	return true
}

// FuzzCloudTrailShapes gives one body to every CloudTrail body converter
// ({"Records":[…]} objects, a bare array, NDJSON or a single event,
// lookup-events output, console Event-history CSV): none may panic, and what
// each writes is well-formed chunks of objects. The records one shape
// accepts, written in each other JSON shape, convert to the same records.
func FuzzCloudTrailShapes(f *testing.F) {
	addFuzzSeeds(f, 12, filepath.Join(fixtureDir, "shapes", "*"), filepath.Join(fixtureDir, "bad", "*"),
		filepath.Join(fuzzCorpus, "cloudtrail", "*", "*.json"), filepath.Join(fuzzCorpus, "eventhistory", "*", "*.csv"))
	scratch := &fuzzScratch{dir: f.TempDir()}
	f.Fuzz(func(t *testing.T, body []byte) {
		var accepted []json.RawMessage
		found := false
		for _, format := range []string{formatRecords, formatArray, formatNDJSON, formatLookupEvents, formatEventHistory} {
			records, err := convertBody(t, scratch, format, body)
			if err == nil && format != formatEventHistory && !found && len(records) > 0 {
				accepted, found = records, true
			}
		}
		if !found {
			return
		}
		raws := make([][]byte, len(accepted))
		lines := make([][]byte, len(accepted))
		lookup := make([]map[string]string, len(accepted))
		for i, r := range accepted {
			var compact bytes.Buffer
			json.Compact(&compact, r)
			raws[i], lines[i] = r, compact.Bytes()
			lookup[i] = map[string]string{"CloudTrailEvent": string(r)}
		}
		joined := bytes.Join(raws, []byte(","))
		lookupBody, _ := json.Marshal(map[string]any{"Events": lookup})
		for format, shaped := range map[string][]byte{
			formatRecords:      append(append([]byte(`{"Records":[`), joined...), "]}"...),
			formatArray:        append(append([]byte("["), joined...), ']'),
			formatNDJSON:       bytes.Join(lines, []byte("\n")),
			formatLookupEvents: lookupBody,
		} {
			records, err := convertBody(t, scratch, format, shaped)
			if err != nil {
				t.Fatalf("%d records written as %s refused: %v\n%s", len(accepted), format, err, shaped)
			}
			if !sameRecords(records, accepted) {
				t.Fatalf("%d records written as %s came back as %d different ones", len(accepted), format, len(records))
			}
		}
	})
}
