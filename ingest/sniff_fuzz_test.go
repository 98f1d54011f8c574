package ingest

import (
	"bufio"
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
		var out bytes.Buffer
		rw := &recordsWriter{w: bufio.NewWriter(&out)}
		var err error
		switch s.format {
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
			return
		}
		if err := rw.close(); err != nil {
			t.Fatal(err)
		}
		dec := jsonDecoder(&out)
		for {
			var chunk struct {
				Offset  int              `json:"offset"`
				Records []map[string]any `json:"Records"`
			}
			if err := dec.Decode(&chunk); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("conversion wrote invalid JSON: %v\n%s", err, out.String())
			}
		}
	})
}

func jsonDecoder(r io.Reader) *json.Decoder { return json.NewDecoder(r) }
