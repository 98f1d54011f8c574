package ingest

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
)

// A batch's duplicate-key lookup and commit run with part of the memory
// limit; the limit the case was opened with holds again after every batch,
// into an empty case and into one that holds events.
func TestBatchRestoresMemoryLimit(t *testing.T) {
	ctx := context.Background()
	c, err := Open(ctx, filepath.Join(t.TempDir(), "case.duckdb"), Options{MemoryLimit: "300MB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	limit := func() string {
		var v string
		if err := c.DB.QueryRow("select current_setting('memory_limit')").Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	before := limit()
	for _, dir := range []string{copyTree(t, filepath.Join(fixtureDir, "AWSLogs")), copyTree(t, filepath.Join(fixtureDir, "AWSLogs"))} {
		for _, o := range ingestPaths(t, c, dir) {
			if o.Status != StatusLoaded && o.Status != StatusResubmitted {
				t.Fatalf("%s: %s (%s)", o.Path, o.Status, o.Error)
			}
		}
		if got := limit(); got != before {
			t.Errorf("memory limit after ingest %s, want %s", got, before)
		}
	}
}

func TestParseDuckDBSize(t *testing.T) {
	for s, want := range map[string]int64{"476.8 MiB": 499961036, "500MB": 500000000, "1.5GiB": 1610612736, "0 bytes": 0, "1.0 KiB": 1024} {
		got, err := parseDuckDBSize(s)
		if err != nil || got != want {
			t.Errorf("parseDuckDBSize(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	if _, err := parseDuckDBSize("lots"); err == nil {
		t.Error("parseDuckDBSize(\"lots\") gave no error")
	}
}

// When DuckDB cannot lower its limit that far, the batch loads at the full
// limit: lowering it is a saving, never a reason to reject evidence.
func TestBatchLoadsWhenTheLimitCannotBeLowered(t *testing.T) {
	old := lookupShare
	lookupShare = 1e-9 // one byte of 300MB: more than DuckDB can free
	defer func() { lookupShare = old }()
	ctx := context.Background()
	c, err := Open(ctx, filepath.Join(t.TempDir(), "case.duckdb"), Options{MemoryLimit: "300MB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var log bytes.Buffer
	outcomes, err := c.Ingest(ctx, []string{copyTree(t, filepath.Join(fixtureDir, "AWSLogs"))},
		IngestOptions{Log: slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outcomes {
		if o.Status != StatusLoaded {
			t.Errorf("%s: %s (%s)", o.Path, o.Status, o.Error)
		}
	}
	if !strings.Contains(log.String(), "cloudtrail batch at the full memory limit") {
		t.Errorf("DuckDB took a limit of one byte, so this test no longer sees a refusal:\n%s", log.String())
	}
}
