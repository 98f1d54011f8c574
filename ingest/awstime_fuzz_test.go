package ingest

import (
	"encoding/json"
	"testing"
	"time"
)

// FuzzAWSTime parses arbitrary timestamps as every parser here reads them.
// It must not panic; an accepted time is UTC, and written back as RFC 3339
// or as a JSON string it parses to the same instant.
func FuzzAWSTime(f *testing.F) {
	for _, s := range []string{"2026-10-30T10:00:00Z", "2026-10-30T10:00:00.123456+02:00", "2026-10-30 10:00:00+00:00",
		"20131102T010628Z", "1453076702.0", "1453076702", "1.453076702e9", "9999-12-31T23:59:59Z", "epoch", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseAWSTime(s)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("refused without a reason")
			}
			return
		}
		if got.Location() != time.UTC {
			t.Fatalf("%q: %v is not UTC", s, got)
		}
		back, err := parseAWSTime(got.Format(time.RFC3339Nano))
		if err != nil || !back.Equal(got) {
			t.Fatalf("%q: %v written as RFC 3339 reads %v, %v", s, got, back, err)
		}
		raw, _ := json.Marshal(s)
		viaJSON, err := parseJSONTime(raw)
		if err != nil || !viaJSON.Equal(got) {
			t.Fatalf("%q as JSON: %v, %v; want %v", s, viaJSON, err, got)
		}
	})
}
