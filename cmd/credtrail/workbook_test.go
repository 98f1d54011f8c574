package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// TestWorkbookNamesRealCommands: every credtrail command the workbook of the
// sample case tells its reader to run exists, and the Timeline's command for
// one actor's events runs on the case and finds that actor's events.
func TestWorkbookNamesRealCommands(t *testing.T) {
	dir := t.TempDir()
	book := filepath.Join(dir, "case.xlsx")
	if code, _, errOut := runCLI(t, "run", "-o", book, "../../samples/case"); code != exitOK && code != exitFindings {
		t.Fatalf("run: exit %d\n%s", code, errOut)
	}
	f, err := excelize.OpenFile(book)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	commands := map[string]bool{}
	for _, c := range newRootCmd(&streams{}).Commands() {
		commands[c.Name()] = true
	}
	// labels that name the product, not a command
	labels := map[string]bool{"credtrail case report": true, "credtrail version": true}
	verb := regexp.MustCompile(`credtrail ([a-z]+)`)
	actor := regexp.MustCompile(`credtrail (timeline CASE\.duckdb --principal ARN)`)
	var actorCmd string
	for _, sheet := range f.GetSheetList() {
		rows, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		for r, row := range rows {
			for _, cell := range row {
				if labels[cell] {
					continue
				}
				for _, m := range verb.FindAllStringSubmatch(cell, -1) {
					if !commands[m[1]] {
						t.Errorf("%s row %d names credtrail %s, which is no command: %s", sheet, r+1, m[1], cell)
					}
				}
				if m := actor.FindStringSubmatch(cell); m != nil && sheet == "Timeline" {
					actorCmd = m[1]
				}
			}
		}
	}
	if actorCmd == "" {
		t.Fatal("the Timeline names no command for one actor's events")
	}
	caseDB := filepath.Join(dir, "case.duckdb")
	const arn = "arn:aws:iam::927587041124:role/ops-admin"
	args := strings.Fields(strings.NewReplacer("CASE.duckdb", caseDB, "ARN", arn).Replace(actorCmd))
	code, out, errOut := runCLI(t, append(args, "--format", "csv")...)
	if code != exitOK || strings.Count(out, "\n") < 2 {
		t.Errorf("the Timeline's command %v: exit %d, want rows\n%s%s", args, code, out, errOut)
	}
}
