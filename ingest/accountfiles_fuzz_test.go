package ingest

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
)

// FuzzDigest loads arbitrary bodies as CloudTrail digest files into a case,
// each in a transaction that is rolled back. Loading must not crash (a
// value DuckDB cannot take must be refused, not bound); the same body is
// accepted or refused alike every time; an accepted digest counts its log
// files and names its account and period.
func FuzzDigest(f *testing.F) {
	addFuzzSeeds(f, 5, "testdata/accountfiles/digest*.json", filepath.Join(fuzzCorpus, "digest", "*", "*"))
	c, err := Open(context.Background(), filepath.Join(f.TempDir(), "case.duckdb"), Options{Threads: 1})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { c.Close() })
	load := func(body []byte) (fileStats, error) {
		ctx := context.Background()
		tx, err := c.DB.BeginTx(ctx, nil)
		if err != nil {
			f.Fatal(err)
		}
		defer tx.Rollback()
		return loadDigest(ctx, tx, 1, body)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		st, err := load(body)
		_, err2 := load(body)
		if (err == nil) != (err2 == nil) {
			t.Fatalf("accepted once and refused once: %v / %v", err, err2)
		}
		if err != nil {
			if err.Error() == "" {
				t.Fatal("refused without a reason")
			}
			return
		}
		var d struct {
			LogFiles []json.RawMessage `json:"logFiles"`
		}
		json.Unmarshal(body, &d)
		if st.Records != int64(len(d.LogFiles)) {
			t.Fatalf("%d records for %d log files", st.Records, len(d.LogFiles))
		}
		if st.AccountID == "" || st.First.IsZero() || st.Last.IsZero() {
			t.Fatalf("accepted digest without account or period: %+v", st)
		}
	})
}
