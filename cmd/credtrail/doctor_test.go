package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDoctorExitCodes(t *testing.T) {
	dir := t.TempDir()
	evidence := filepath.Join(dir, "evidence")
	if err := os.Mkdir(evidence, 0o755); err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile(filepath.Join(shapes, "array.json"))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(evidence, "array.json")
	if err := os.WriteFile(file, body, 0o644); err != nil {
		t.Fatal(err)
	}
	caseDB := filepath.Join(dir, "case.duckdb")
	if code, _, errOut := runCLI(t, "ingest", caseDB, evidence); code != exitOK {
		t.Fatal(errOut)
	}
	if code, out, errOut := runCLI(t, "doctor", caseDB); code != exitOK || !strings.Contains(out, "healthy") {
		t.Errorf("healthy case: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	if err := os.WriteFile(file, append(body, ' '), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "doctor", caseDB)
	if code != exitError || !strings.Contains(out, "array.json: its SHA-256 is now") || !strings.Contains(out, "do:") ||
		!strings.Contains(errOut, "1 problem(s) found") {
		t.Errorf("changed evidence: exit %d, want %d\nstdout: %s\nstderr: %s", code, exitError, out, errOut)
	}
	if code, _, errOut := runCLI(t, "doctor", filepath.Join(dir, "none.duckdb")); code != exitError || !strings.Contains(errOut, "no such file") {
		t.Errorf("missing case: exit %d\nstderr: %s", code, errOut)
	}
}
