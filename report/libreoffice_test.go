package report_test

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/credtrail/credtrail/report"
)

// TestLibreOfficeReadsWorkbook has a real spreadsheet application open the
// workbook: LibreOffice converts every sheet to CSV, and the workbook to
// PDF. With CREDTRAIL_RENDER_DIR set and pdftoppm installed, the first PDF
// page (the Summary) is also rendered there as summary-1.png for a look.
func TestLibreOfficeReadsWorkbook(t *testing.T) {
	soffice, err := exec.LookPath("soffice")
	if err != nil {
		t.Skip("soffice not on PATH: install libreoffice-calc-nogui (.ci/run does in CI) to check the workbook in LibreOffice")
	}
	if testing.Short() {
		t.Skip("LibreOffice conversion takes seconds; skipped with -short")
	}
	dir := t.TempDir()
	book := filepath.Join(dir, "case.xlsx")
	r := load(t, newCase(t), report.Options{})
	if err := r.WriteFile(context.Background(), book); err != nil {
		t.Fatal(err)
	}
	convert := func(to string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, soffice, "--headless", "--norestore",
			"-env:UserInstallation=file://"+filepath.Join(dir, "profile"),
			"--convert-to", to, "--outdir", filepath.Join(dir, "out"), book)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("soffice --convert-to %s: %v\n%s", to, err, out)
		}
	}
	// Filter options: comma, double quote, UTF-8, ..., and -1 = every sheet to its own file.
	convert("csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1")
	convert("pdf")

	sheet := func(name string) [][]string {
		t.Helper()
		f, err := os.Open(filepath.Join(dir, "out", "case-"+name+".csv"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		cr := csv.NewReader(f)
		cr.FieldsPerRecord = -1
		rows, err := cr.ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return rows
	}
	for _, name := range []string{"Summary", "Findings", "Root Activity", "Credentials", "Unused Permissions", "Principals", "Policies", "Timeline", "Evidence", "Method"} {
		if rows := sheet(name); len(rows) < 2 {
			t.Errorf("%s: %d rows in LibreOffice", name, len(rows))
		}
	}
	// The formula-like user agent is read as the text it is, not run.
	root := sheet("Root Activity")
	if got := root[2][6]; got != formulaUA {
		t.Errorf("Root Activity user agent in LibreOffice: %q, want %q", got, formulaUA)
	}
	// Dates read as dates in UTC, counts as numbers.
	if root[2][0] != "2024-03-04 09:15:00" {
		t.Errorf("Root Activity time in LibreOffice: %q", root[2][0])
	}
	findings := sheet("Findings")
	if findings[2][0] != "critical" || findings[2][3] != "root_console_login_without_mfa" || findings[2][10] != "1" {
		t.Errorf("Findings row in LibreOffice: %q", findings[2])
	}
	// Evidence carries the SHA-256 of what was read.
	body, err := os.ReadFile("testdata/case/cloudtrail.json")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	if ev := strings.Join(flatten(sheet("Evidence")), "\n"); !strings.Contains(ev, hex.EncodeToString(sum[:])) {
		t.Errorf("Evidence in LibreOffice lacks the SHA-256 of cloudtrail.json")
	}
	pdf, err := os.ReadFile(filepath.Join(dir, "out", "case.pdf"))
	if err != nil || !strings.HasPrefix(string(pdf), "%PDF") {
		t.Fatalf("no PDF: %v", err)
	}
	if renderDir := os.Getenv("CREDTRAIL_RENDER_DIR"); renderDir != "" {
		if _, err := exec.LookPath("pdftoppm"); err == nil {
			out, err := exec.Command("pdftoppm", "-r", "90", "-png", "-f", "1", "-l", "1",
				filepath.Join(dir, "out", "case.pdf"), filepath.Join(renderDir, "summary")).CombinedOutput()
			if err != nil {
				t.Errorf("pdftoppm: %v\n%s", err, out)
			}
		}
	}
}

func flatten(rows [][]string) []string {
	var out []string
	for _, r := range rows {
		out = append(out, strings.Join(r, ","))
	}
	return out
}
