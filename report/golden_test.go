package report_test

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/credtrail/credtrail/report"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// dumpWorkbook renders every sheet as text: one line per row, each cell as
// type:value, where the type is s (text), n (number), d (date shown as
// given), b (boolean); a cell with a link shows it after →.
func dumpWorkbook(tb testing.TB, f *excelize.File) string {
	tb.Helper()
	var out strings.Builder
	for _, sheet := range f.GetSheetList() {
		fmt.Fprintf(&out, "== %s\n", sheet)
		rows, err := f.Rows(sheet)
		if err != nil {
			tb.Fatal(err)
		}
		r := 0
		for rows.Next() {
			r++
			cols, err := rows.Columns()
			if err != nil {
				tb.Fatal(err)
			}
			var cells []string
			for c, shown := range cols {
				if shown == "" {
					continue
				}
				name, _ := excelize.CoordinatesToCellName(c+1, r)
				raw, _ := f.GetCellValue(sheet, name, excelize.Options{RawCellValue: true})
				typ, _ := f.GetCellType(sheet, name)
				kind := "s"
				switch {
				case typ == excelize.CellTypeBool:
					kind = "b"
				case typ == excelize.CellTypeUnset || typ == excelize.CellTypeNumber:
					if _, err := strconv.ParseFloat(raw, 64); err == nil {
						kind = "n"
						if raw != shown && strings.Count(shown, "-") == 2 {
							kind = "d"
						}
					}
				}
				cell := kind + ":" + shown
				if ok, target, _ := f.GetCellHyperLink(sheet, name); ok {
					cell += " → " + target
				}
				cells = append(cells, name+" "+cell)
			}
			if len(cells) > 0 {
				fmt.Fprintf(&out, "%s\n", strings.Join(cells, " | "))
			}
		}
		rows.Close()
	}
	return out.String()
}

// ingestedAt masks the ingestion times of the Evidence sheet: the clock of the test run.
var ingestedAt = regexp.MustCompile(`(O\d+ d:)\d{4}-\d\d-\d\d \d\d:\d\d:\d\d`)

func TestWorkbookGolden(t *testing.T) {
	r := load(t, newCase(t), report.Options{
		BaselinePath:     "previous.jsonl",
		Baseline:         []report.Finding{{FindingID: "f-root-login", RuleID: "root_console_login_without_mfa", Severity: "critical"}, {FindingID: "f-gone", RuleID: "old_rule", Severity: "low", Title: "Gone"}},
		SuppressionsPath: "accepted.json",
		Suppressions:     []report.Suppression{{FindingID: "f-denied", Reason: "test account", Expires: "2025-01-01"}},
		Rules: []report.Rule{
			{ID: "root_console_login_without_mfa", Controls: []string{"CIS 1.5", "CIS 4.2"}, Remediation: "Enable MFA on the root user.", Attack: "Initial Access T1078.004"},
			{ID: "root_mfa_not_enabled", Controls: []string{"CIS 1.5", "IAM.9"}},
			{ID: "access_key_not_rotated", Controls: []string{"CIS 1.14", "IAM.3"}, Remediation: "Rotate the key."},
			{ID: "iam_privilege_escalation_denied", Controls: []string{"CIS 4.4"}},
		},
	})
	got := ingestedAt.ReplaceAllString(dumpWorkbook(t, open(t, workbook(t, r))), "${1}INGESTED")
	const path = "testdata/workbook.golden"
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -run Golden -update)", err)
	}
	if got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("workbook differs from %s at line %d:\n got %s\nwant %s\n(go test ./report -run Golden -update after review)", path, i+1, g, w)
			}
		}
	}
}
