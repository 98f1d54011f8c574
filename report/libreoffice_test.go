package report_test

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
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
	summary := strings.Join(flatten(sheet("Summary")), "\n")
	for _, want := range []string{"CloudTrail events,4", "Findings,4", "As of (UTC),2024-03-07 00:00:00", "critical,1,1", "2024-03-04,2,2"} {
		if !strings.Contains(summary, want) {
			t.Errorf("Summary in LibreOffice lacks %q:\n%s", want, summary)
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
	if findings[2][0] != "critical" || findings[2][1] != "root_console_login_without_mfa" || findings[2][7] != "1" {
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

// TestLibreOfficePrintLayout prints the workbook of a case with 40 accounts
// and a long rule id to PDF with LibreOffice and measures the words on the
// pages: the Summary stays at a readable size although its Accounts value
// is long (it wraps instead of widening the page), and the first Findings
// page is landscape, readable, and holds the rule id whole.
func TestLibreOfficePrintLayout(t *testing.T) {
	soffice, err := exec.LookPath("soffice")
	if err != nil {
		t.Skip("soffice not on PATH: install libreoffice-calc-nogui (.ci/run does in CI) to check the printed workbook")
	}
	pdftotext, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Skip("pdftotext not on PATH: install poppler-utils (.ci/run does in CI) to measure the printed workbook")
	}
	if testing.Short() {
		t.Skip("LibreOffice conversion takes seconds; skipped with -short")
	}
	const longRule = "cross_account_trust_without_external_id"
	c := newCase(t)
	if _, err := c.DB.Exec(`
insert into events (event_id, event_time, file_id, record_index, recipient_account_id, key_hash)
select 'layout-' || i, timestamp '2024-03-05 00:00:00', (select min(file_id) from evidence_files), 1000 + i, (100000000000 + i * 7919)::varchar,
       md5_number_lower((100000000000 + i * 7919)::varchar || '/layout-' || i)
from range(40) t(i);
insert into findings (finding_id, rule_id, severity, account_id, principal_arn, title) values
  ('f-long', '` + longRule + `', 'high', '111122223333', 'arn:aws:iam::111122223333:role/OrganizationAccountAccessRole', 'Cross-account trust without external id')`); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	book := filepath.Join(dir, "case.xlsx")
	if err := load(t, c, report.Options{}).WriteFile(context.Background(), book); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, soffice, "--headless", "--norestore", "-env:UserInstallation=file://"+filepath.Join(dir, "profile"),
		"--convert-to", "pdf", "--outdir", dir, book).CombinedOutput(); err != nil {
		t.Fatalf("soffice --convert-to pdf: %v\n%s", err, out)
	}
	out, err := exec.Command(pdftotext, "-bbox", filepath.Join(dir, "case.pdf"), "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	pages := printedPages(t, string(out))
	summary := pages[0]
	if h := summary.height("Accounts"); h < 6 {
		t.Errorf("Summary printed with words %.1f pt high: a long cell shrinks the page", h)
	}
	var findings *printedPage
	for i := range pages {
		if pages[i].has("One") && pages[i].has("finding,") {
			findings = &pages[i]
			break
		}
	}
	if findings == nil {
		t.Fatal("no Findings page in the PDF")
	}
	t.Logf("printed word heights: Summary %.1f pt, Findings %.1f pt", summary.height("Accounts"), findings.height("Severity"))
	if findings.width <= findings.pageHeight {
		t.Errorf("Findings printed portrait (%.0f x %.0f)", findings.width, findings.pageHeight)
	}
	if h := findings.height("Severity"); h < 5.5 {
		t.Errorf("Findings printed with words %.1f pt high: too many columns on the page", h)
	}
	if !findings.has(longRule) {
		t.Errorf("Findings page does not hold the rule id %s whole: %q", longRule, findings.words)
	}
}

type printedPage struct {
	width, pageHeight float64
	words             []string
	heights           map[string]float64
}

func (p *printedPage) has(word string) bool { _, ok := p.heights[word]; return ok }

func (p *printedPage) height(word string) float64 { return p.heights[word] }

var (
	pageTag = regexp.MustCompile(`<page width="([\d.]+)" height="([\d.]+)">`)
	wordTag = regexp.MustCompile(`<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>`)
)

// printedPages reads pdftotext -bbox output: each page's size, words and their heights.
func printedPages(tb testing.TB, html string) []printedPage {
	tb.Helper()
	var pages []printedPage
	for _, chunk := range strings.Split(html, "</page>") {
		m := pageTag.FindStringSubmatch(chunk)
		if m == nil {
			continue
		}
		p := printedPage{heights: map[string]float64{}}
		p.width, _ = strconv.ParseFloat(m[1], 64)
		p.pageHeight, _ = strconv.ParseFloat(m[2], 64)
		for _, w := range wordTag.FindAllStringSubmatch(chunk, -1) {
			y0, _ := strconv.ParseFloat(w[2], 64)
			y1, _ := strconv.ParseFloat(w[4], 64)
			p.words = append(p.words, w[5])
			if _, seen := p.heights[w[5]]; !seen {
				p.heights[w[5]] = y1 - y0
			}
		}
		pages = append(pages, p)
	}
	if len(pages) == 0 {
		tb.Fatal("pdftotext found no pages")
	}
	return pages
}
