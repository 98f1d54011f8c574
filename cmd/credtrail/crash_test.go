package main

import (
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"
)

// credtrail ingest killed (SIGKILL) at any point, then run again to its end,
// gives the same case as one clean run: the same events, the same files
// loaded, the same digest of the events.
func TestIngestKilledThenRunAgainEqualsACleanRun(t *testing.T) {
	if testing.Short() {
		t.Skip("about a minute: several ingests of the sample case")
	}
	t.Setenv("TMPDIR", t.TempDir())
	paths := []string{filepath.Join(sampleCase, "AWSLogs"), filepath.Join(sampleCase, "iam")}
	dir := t.TempDir()
	clean := filepath.Join(dir, "clean.duckdb")
	start := time.Now()
	if out, err := credtrailCommand(append([]string{"ingest", clean}, paths...)...).CombinedOutput(); err != nil {
		t.Fatalf("clean ingest: %v\n%s", err, out)
	}
	took := time.Since(start)
	want := factsOf(t, clean, sampleCase)

	// Kill points spread over the clean run's duration, each moved at random
	// within its share of it (the seed is logged to replay a failure).
	seed := time.Now().UnixNano()
	t.Logf("clean ingest took %v; seed %d", took, seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	const kills = 4
	for i := range kills {
		delay := time.Duration((float64(i) + rng.Float64()) / kills * float64(took))
		caseDB := filepath.Join(dir, "killed"+string(rune('a'+i))+".duckdb")
		cmd := credtrailCommand(append([]string{"ingest", caseDB}, paths...)...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay)
		cmd.Process.Kill()
		err := cmd.Wait()
		t.Logf("killed after %v: %v", delay, err)
		if out, err := credtrailCommand(append([]string{"ingest", caseDB}, paths...)...).CombinedOutput(); err != nil {
			t.Fatalf("ingest after a kill at %v: %v\n%s", delay, err, out)
		}
		if got := factsOf(t, caseDB, sampleCase); got != want {
			t.Errorf("killed at %v, then run again: %+v, want %+v as a clean run", delay, got, want)
		}
	}
}
