package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// The responder's question: given a leaked key, what did it do, and what
// did the credentials it minted do. The sample case's leaked key assumes
// ops-admin and, through that temporary key, stops the trail.
func TestTimelineCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("ingests the sample case")
	}
	caseDB := filepath.Join(t.TempDir(), "case.duckdb")
	if code, out, errOut := runCLI(t, "ingest", caseDB, "../../samples/case/AWSLogs"); code != exitOK {
		t.Fatalf("ingest: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut := runCLI(t, "timeline", caseDB, "--access-key", "AKIA5XA34JIJ56INAKEG")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	for _, want := range []string{
		"hop 1, minted by AKIA5XA34JIJ56INAKEG with AssumeRole",
		"lead: AKIAL3PFX6EXKQNUKJZF created for alice",
		"defense evasion  cloudtrail:StopLogging",
		"StopLogging",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("timeline lacks %q:\n%s", want, out)
		}
	}
	// The sample plants escape characters in user agents: none reaches the terminal.
	if strings.ContainsAny(out, "\x1b\u2028\t") {
		t.Errorf("control characters reached the terminal")
	}

	_, out, _ = runCLI(t, "timeline", caseDB, "--access-key", "AKIA5XA34JIJ56INAKEG", "--follow-created-keys")
	if !strings.Contains(out, "AKIAL3PFX6EXKQNUKJZF  created for alice by the actor with CreateAccessKey") {
		t.Errorf("the followed created key does not say where it came from:\n%s", out)
	}
	code, out, _ = runCLI(t, "timeline", caseDB, "--access-key", "ASIATXEYDAKSOVVGRVO3", "--format", "json", "--since", "2026-10-30T02:28:37Z", "--until", "2026-10-30T02:28:37Z")
	if code != exitOK {
		t.Fatalf("json: exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var ev map[string]any
	if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &ev) != nil || ev["event_name"] != "StopLogging" || ev["evidence_file"] == nil {
		t.Errorf("json timeline of one second: %s", out)
	}

	book := filepath.Join(t.TempDir(), "leak.xlsx")
	if code, _, errOut := runCLI(t, "timeline", caseDB, "--access-key", "AKIA5XA34JIJ56INAKEG", "-o", book); code != exitOK {
		t.Fatalf("-o xlsx: exit %d\n%s", code, errOut)
	}
	f, err := excelize.OpenFile(book)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows("Events")
	f.Close()
	if err != nil || len(rows) != 2+359 {
		t.Errorf("Events sheet: %d rows, want the 359 events of the terminal summary (%v)", len(rows)-2, err)
	}

	// The case workbook takes the same timeline as a sheet, and the Proof of
	// a finding whose events it holds leads there.
	if code, _, errOut := runCLI(t, "analyze", caseDB); code != exitOK {
		t.Fatalf("analyze: %s", errOut)
	}
	caseBook := filepath.Join(t.TempDir(), "case.xlsx")
	if code, _, errOut := runCLI(t, "report", caseDB, "-o", caseBook, "--timeline", "AKIA5XA34JIJ56INAKEG"); code != exitOK {
		t.Fatalf("report --timeline: %s", errOut)
	}
	f, err = excelize.OpenFile(caseBook)
	if err != nil {
		t.Fatal(err)
	}
	actorRows, err := f.GetRows("Actor Timeline")
	if err != nil || len(actorRows) != 2+359 {
		t.Errorf("Actor Timeline sheet: %d rows (%v)", len(actorRows)-2, err)
	}
	findings, _ := f.GetRows("Findings")
	f.Close()
	linked := false
	for _, r := range findings {
		for _, c := range r {
			if strings.HasPrefix(c, "Actor Timeline row ") {
				linked = true
			}
		}
	}
	if !linked {
		t.Error("no finding's Proof leads to the Actor Timeline")
	}
	if code, _, errOut := runCLI(t, "report", caseDB, "-o", filepath.Join(t.TempDir(), "f.csv"), "--timeline", "AKIA5XA34JIJ56INAKEG"); code != exitUsage {
		t.Errorf("--timeline with csv: exit %d %s", code, errOut)
	}

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"timeline", caseDB}, exitUsage, "name the actor"},
		{[]string{"timeline", caseDB, "--ip", "1.2.3.4", "-o", "x.txt"}, exitUsage, "extension names the format"},
		{[]string{"timeline", caseDB, "--ip", "1.2.3.4", "--format", "xml"}, exitUsage, "unknown --format"},
		{[]string{"timeline", caseDB, "--ip", "1.2.3.4", "--since", "2026-10-30", "--until", "2026-10-01"}, exitUsage, "--until is before --since"},
		{[]string{"timeline", caseDB, "--ip", "192.0.2.254"}, exitOK, "no events of this actor"},
		{[]string{"timeline", filepath.Join(t.TempDir(), "none.duckdb"), "--ip", "1.2.3.4"}, exitError, "no such file"},
	} {
		code, out, errOut := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(out+errOut, tc.want) {
			t.Errorf("%v: exit %d, want %d with %q\n%s%s", tc.args, code, tc.code, tc.want, out, errOut)
		}
	}
}
