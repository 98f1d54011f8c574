package ingest

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// FuzzSniffAndConvert feeds arbitrary bodies to the sniffer and, for
// CloudTrail shapes, to the converter: neither may panic, and a conversion
// that succeeds writes valid Records objects.
func FuzzSniffAndConvert(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join(fixtureDir, "*", "*"))
	catalog, _ := filepath.Glob(filepath.Join(catalogDir, "*"))
	seeds = append(seeds, catalog...)
	for _, p := range seeds {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		s := sniffStream(bytes.NewReader(body))
		if s.kind != KindCloudTrail {
			return
		}
		rw := &recordsWriter{prefix: filepath.Join(t.TempDir(), "fuzz")}
		var err error
		switch s.format {
		case formatRecords:
			err = convertRecordsObjects(bytes.NewReader(body), rw)
		case formatArray:
			err = convertArray(bytes.NewReader(body), rw)
		case formatNDJSON:
			err = convertStream(bytes.NewReader(body), rw)
		case formatLookupEvents:
			err = convertLookupEvents(bytes.NewReader(body), rw)
		case formatEventHistory:
			err = convertEventHistoryCSV(bytes.NewReader(body), rw)
		default:
			return
		}
		if err != nil {
			rw.endChunk()
			return
		}
		if err := rw.close(); err != nil {
			t.Fatal(err)
		}
		// Every chunk is one {"offset","Records"} object whose offset counts
		// the records before it.
		seen := 0
		for _, name := range rw.files {
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			dec := jsonDecoder(bytes.NewReader(data))
			var chunk struct {
				Offset  int              `json:"offset"`
				Records []map[string]any `json:"Records"`
			}
			if err := dec.Decode(&chunk); err != nil {
				t.Fatalf("conversion wrote invalid JSON: %v\n%s", err, data)
			}
			if chunk.Offset != seen {
				t.Fatalf("chunk %s at offset %d after %d records", name, chunk.Offset, seen)
			}
			seen += len(chunk.Records)
			if _, err := dec.Token(); err != io.EOF {
				t.Fatalf("chunk %s holds more than one object", name)
			}
		}
		if seen != rw.n {
			t.Fatalf("chunks hold %d records, %d were written", seen, rw.n)
		}
	})
}

func jsonDecoder(r io.Reader) *json.Decoder { return json.NewDecoder(r) }
