package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/credtrail/credtrail/queries"
)

// No control passes without its evidence: a CloudTrail-only, an IAM-only and
// an empty case each give a workbook and a controls.jsonl in which every
// passing control's rules need only inputs the case holds.
func TestRunControlsNeedEvidence(t *testing.T) {
	rules, err := queries.Rules()
	if err != nil {
		t.Fatal(err)
	}
	needs := map[string][]string{}
	for _, r := range rules {
		for _, c := range r.Controls {
			for _, n := range r.Needs {
				input, _, _ := strings.Cut(n, ".")
				if !slices.Contains(needs[c], input) {
					needs[c] = append(needs[c], input)
				}
			}
		}
	}
	empty := t.TempDir()
	tests := []struct {
		name     string
		path     string
		inputs   []string // what the case holds
		notPass  []string // controls that must not pass
		verdicts bool     // whether there are accounts to judge
	}{
		{"cloudtrail only", "../../samples/case/AWSLogs/o-hjot2hwz7m/298228927586", []string{"cloudtrail"},
			[]string{"CIS 1.8", "CIS 1.9", "CIS 1.10", "CIS 1.11", "CIS 1.12", "CIS 1.13", "CIS 1.14", "IAM.3", "IAM.5", "IAM.7", "IAM.8", "IAM.22"}, true},
		{"iam only", "../../samples/case/iam", []string{"credential_report", "authorization_details"},
			[]string{"CIS 3.1", "CIS 4.1", "CIS 4.2", "CIS 4.3", "CIS 4.4", "CIS 4.5", "CIS 4.6"}, true},
		{"empty", empty, nil, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			book := filepath.Join(dir, "ct.xlsx")
			code, _, errOut := runCLI(t, "run", "-o", book, tc.path)
			if code != exitOK {
				t.Fatalf("run: exit %d\n%s", code, errOut)
			}
			tables := filepath.Join(dir, "tables")
			if code, _, errOut := runCLI(t, "report", filepath.Join(dir, "ct.duckdb"), "--format", "jsonl", "--tables", "-o", tables); code != exitOK {
				t.Fatalf("report: exit %d\n%s", code, errOut)
			}
			f, err := os.Open(filepath.Join(tables, "controls.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var records int
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				records++
				var cs struct {
					Control, Status string
					AccountID       string   `json:"account_id"`
					Missing         []string `json:"missing_inputs"`
				}
				if err := json.Unmarshal(sc.Bytes(), &cs); err != nil {
					t.Fatal(err)
				}
				if cs.Status == "pass" {
					for _, n := range needs[cs.Control] {
						if !slices.Contains(tc.inputs, n) {
							t.Errorf("%s passes for %s without %s", cs.Control, cs.AccountID, n)
						}
					}
					if slices.Contains(tc.notPass, cs.Control) {
						t.Errorf("%s passes for %s", cs.Control, cs.AccountID)
					}
				}
				if cs.Status == "not assessed" && len(cs.Missing) == 0 {
					t.Errorf("%s not assessed for %s without naming what is missing", cs.Control, cs.AccountID)
				}
			}
			if tc.verdicts != (records > 0) {
				t.Errorf("%d control verdicts", records)
			}
			wb, err := excelize.OpenFile(book)
			if err != nil {
				t.Fatal(err)
			}
			defer wb.Close()
			rows, _ := wb.GetRows("Summary")
			var text []string
			for _, r := range rows {
				text = append(text, strings.Join(r, " | "))
				if len(r) >= 2 && r[1] == "pass" && (slices.Contains(tc.notPass, r[0]) || !tc.verdicts) {
					t.Errorf("Summary: %s passes", r[0])
				}
				if len(r) >= 2 && r[1] == "pass" {
					for _, n := range needs[r[0]] {
						if !slices.Contains(tc.inputs, n) {
							t.Errorf("Summary: %s passes without %s", r[0], n)
						}
					}
				}
			}
			all := strings.Join(text, "\n")
			findings, _ := wb.GetRows("Findings")
			if !tc.verdicts {
				for _, want := range []string{"The case holds no evidence", "As of (UTC) | no evidence", "Not assessed: the case holds no evidence."} {
					if !strings.Contains(all, want) {
						t.Errorf("Summary of an empty case lacks %q:\n%s", want, all)
					}
				}
				if strings.Contains(all, "1980") || len(findings) == 0 || strings.Contains(strings.Join(findings[0], " "), "found nothing") {
					t.Errorf("empty case: Summary or Findings claim an analysis of evidence:\n%s\n%q", all, findings)
				}
			}
		})
	}
}
