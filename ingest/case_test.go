package ingest

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// openTestCase opens a new case in a temporary folder.
func openTestCase(tb testing.TB) *Case {
	tb.Helper()
	c, err := Open(context.Background(), filepath.Join(tb.TempDir(), "case.duckdb"), Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// loadBody runs a body loader in its own transaction, committing on success.
func loadBody(tb testing.TB, c *Case, load bodyLoader, fileID int64, body []byte) (fileStats, error) {
	tb.Helper()
	ctx := context.Background()
	tx, err := c.DB.BeginTx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	st, err := load(ctx, tx, fileID, body)
	if err != nil {
		tx.Rollback()
		return st, err
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
	return st, nil
}

// queryInt returns the single integer a query yields.
func queryInt(tb testing.TB, db *sql.DB, q string, args ...any) int64 {
	tb.Helper()
	var n int64
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestOpenCreatesSchemaAndRefusesOtherVersions(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "case.duckdb")
	c, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := queryInt(t, c.DB, "select count(*) from evidence_files"); got != 0 {
		t.Fatalf("new case has %d evidence rows", got)
	}
	if _, err := c.DB.Exec("update case_meta set value = '999' where key = 'schema_version'"); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if _, err := Open(ctx, path, Options{}); err == nil {
		t.Fatal("opening a case of another schema version succeeded")
	}
}

func TestBuiltInExtensionsNeedNoNetwork(t *testing.T) {
	c := openTestCase(t)
	for _, ext := range []string{"json", "parquet", "icu"} {
		n := queryInt(t, c.DB, "select count(*) from duckdb_extensions() where extension_name = ? and loaded", ext)
		if n != 1 {
			t.Errorf("extension %s is not loaded", ext)
		}
	}
}

func TestIAMActionMacro(t *testing.T) {
	c := openTestCase(t)
	var got string
	if err := c.DB.QueryRow("select iam_action_of('lambda.amazonaws.com', 'UpdateFunctionCode20150331v2')").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != "lambda:UpdateFunctionCode" {
		t.Fatalf("got %q", got)
	}
}

func TestOpenRefusesAMalformedMemoryLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "case.duckdb")
	for _, limit := range []string{"1GB'; drop table events; --", "lots", "1 GB x"} {
		if c, err := Open(context.Background(), path, Options{MemoryLimit: limit}); err == nil {
			c.Close()
			t.Errorf("memory limit %q accepted", limit)
		}
	}
	c, err := Open(context.Background(), path, Options{MemoryLimit: "512MB"})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

// A new case is written in DuckDB 1.5's storage format (its string
// compression is what keeps the case near the size of the gzipped input),
// and a case created in the DuckDB 1.0 format still opens and keeps it.
func TestNewCasesUseTheCurrentStorageFormat(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	stringCompression := func(path string) string {
		c, err := Open(ctx, path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for _, q := range []string{
			"create or replace table probe as select 'value ' || (i % 7) as s from range(300000) t(i)",
			"checkpoint",
		} {
			if _, err := c.DB.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		var compression string
		if err := c.DB.QueryRowContext(ctx,
			"select any_value(compression) from pragma_storage_info('probe') where column_name = 's' and segment_type = 'VARCHAR'").Scan(&compression); err != nil {
			t.Fatal(err)
		}
		return compression
	}
	if got := stringCompression(filepath.Join(dir, "new.duckdb")); got != "DICT_FSST" {
		t.Errorf("string compression of a new case = %q, want DICT_FSST (the current storage format)", got)
	}

	old := filepath.Join(dir, "old.duckdb")
	db, err := sql.Open("duckdb", old+"?storage_compatibility_version=v1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("checkpoint"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if got := stringCompression(old); got == "DICT_FSST" || got == "" {
		t.Errorf("a case in the DuckDB 1.0 format was rewritten in the current one (%s)", got)
	}
}

// A path that exists and is not a case is refused and left as it was: a
// report named where the case belongs (the case argument forgotten), a
// folder, or a DuckDB database of something else. An empty DuckDB database
// (what a case creation that was cut short leaves) becomes a case.
func TestOpenRefusesWhatIsNotACase(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	report := filepath.Join(dir, "report.csv")
	body := []byte("user,arn,user_creation_time\n<root_account>,arn:aws:iam::111122223333:root,2020-01-01T00:00:00+00:00\n")
	if err := os.WriteFile(report, body, 0o644); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other.duckdb")
	db, err := sql.Open("duckdb", other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("create table invoices (n int); insert into invoices values (1)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	empty := filepath.Join(dir, "empty.duckdb")
	db, err = sql.Open("duckdb", empty)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("checkpoint"); err != nil {
		t.Fatal(err)
	}
	db.Close()

	for _, tc := range []struct {
		path, want string
	}{
		{report, "not a DuckDB database"},
		{dir, "is a folder"},
		{other, "not a credtrail case"},
	} {
		for _, open := range []func(context.Context, string, Options) (*Case, error){Open, OpenReadOnly} {
			c, err := open(ctx, tc.path, Options{})
			if err == nil {
				c.Close()
				t.Errorf("%s: opened as a case", tc.path)
				continue
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.path) {
				t.Errorf("%s: error %q, want one naming the path and saying %q", tc.path, err, tc.want)
			}
		}
	}
	if got, _ := os.ReadFile(report); !bytes.Equal(got, body) {
		t.Errorf("the report was changed: %q", got)
	}
	if _, err := os.Stat(report + ".wal"); err == nil {
		t.Error("a write-ahead log was created beside the report")
	}
	db, err = sql.Open("duckdb", other+"?access_mode=READ_ONLY")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n := queryInt(t, db, "select count(*) from information_schema.tables where table_name = 'case_meta'"); n != 0 {
		t.Error("the other database was made a case")
	}

	c, err := Open(ctx, empty, Options{})
	if err != nil {
		t.Fatalf("an empty DuckDB database: %v", err)
	}
	c.Close()
}
