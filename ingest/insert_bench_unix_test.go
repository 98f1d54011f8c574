//go:build unix

package ingest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// BenchmarkInsertStatement measures the statement that loads a batch of
// CloudTrail files into events against the same read of the same files into
// a plain table (the Records fields as read, nothing derived), on the log
// files under $CREDTRAIL_BENCH_ARCHIVE (a folder credtrail samples generate
// wrote), each run into a new case at the default memory limit, the two in
// turn. It reports the CPU seconds of each and their ratio: what the
// normalised columns cost, apart from the rest of ingest (evidence hashing,
// sniffing, digests, IAM exports, de-duplication; see docs/performance.md):
//
//	CREDTRAIL_BENCH_ARCHIVE=out/bench/archive-17000x30x2 go test ./ingest -run '^$' -bench InsertStatement -benchtime 3x
func BenchmarkInsertStatement(b *testing.B) {
	root := os.Getenv("CREDTRAIL_BENCH_ARCHIVE")
	if root == "" {
		b.Skip("CREDTRAIL_BENCH_ARCHIVE names no archive")
	}
	var files []ctFile
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(d.Name(), "_CloudTrail_") && strings.HasSuffix(d.Name(), ".json.gz") {
			files = append(files, ctFile{fileID: int64(len(files) + 1), locals: []string{p}})
		}
		return err
	})
	if err != nil || len(files) == 0 {
		b.Fatalf("no CloudTrail log files under %s (%v)", root, err)
	}
	plain := `create table plain as ` + readRecords(`unnest(r)`)
	// the two alternate, as this machine's speed drifts from minute to minute
	var plainCPU, eventsCPU float64
	for range b.N {
		plainCPU += loadOnce(b, files, plain)
		eventsCPU += loadOnce(b, files, insertEventsSQL)
	}
	b.ReportMetric(plainCPU/float64(b.N), "plain-cpu-s/op")
	b.ReportMetric(eventsCPU/float64(b.N), "events-cpu-s/op")
	b.ReportMetric(eventsCPU/plainCPU, "events/plain")
}

// loadOnce runs stmt over files in a new case and returns its CPU seconds.
func loadOnce(b *testing.B, files []ctFile, stmt string) float64 {
	b.StopTimer()
	ctx := context.Background()
	c, err := Open(ctx, filepath.Join(b.TempDir(), "bench.duckdb"), Options{MemoryLimit: "500MB"})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	tx, err := c.DB.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	args, err := bindFiles(ctx, tx, files...)
	if err != nil {
		b.Fatal(err)
	}
	b.StartTimer()
	start := processCPU()
	if _, err := tx.ExecContext(ctx, stmt, args...); err != nil {
		b.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return processCPU() - start
}

// processCPU is the process's user and system CPU seconds so far.
func processCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}
