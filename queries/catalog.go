// Package queries runs the finding rules over a case database. One rule is
// one SQL file in this folder: a header of metadata comments and one SELECT
// returning the columns of a finding. The runner writes every rule's rows
// into the findings table and the parameters of the run into
// analysis_parameters; the case schema is owned by package ingest.
package queries

import (
	"bufio"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
)

//go:embed *.sql
var ruleFiles embed.FS

// Severities, most severe first.
var Severities = []string{"critical", "high", "medium", "low", "info"}

// SeverityRank is 0 for critical, up to 4 for info, and 5 for an unknown name.
func SeverityRank(s string) int {
	for i, v := range Severities {
		if v == s {
			return i
		}
	}
	return len(Severities)
}

// Rule is one finding rule: its metadata and its SQL.
type Rule struct {
	ID          string
	Title       string
	Severity    string
	Controls    []string // "CIS 1.4", "IAM.4"
	Rationale   string
	Remediation string
	SQL         string // the SELECT, header comments removed
}

var headerKeys = map[string]bool{"id": true, "title": true, "severity": true, "controls": true, "rationale": true, "remediation": true}

// parseRule reads a rule file: leading "-- key: value" lines, then the SELECT.
func parseRule(name, text string) (Rule, error) {
	r := Rule{}
	var body strings.Builder
	inHeader := true
	seen := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		s := sc.Text()
		if inHeader {
			t := strings.TrimSpace(s)
			if t == "" {
				continue
			}
			if rest, ok := strings.CutPrefix(t, "--"); ok {
				key, value, ok := strings.Cut(rest, ":")
				key = strings.TrimSpace(key)
				if ok && headerKeys[key] {
					if seen[key] {
						return r, fmt.Errorf("%s:%d: %s given twice", name, line, key)
					}
					seen[key] = true
					value = strings.TrimSpace(value)
					switch key {
					case "id":
						r.ID = value
					case "title":
						r.Title = value
					case "severity":
						r.Severity = value
					case "controls":
						for _, c := range strings.Split(value, ",") {
							if c = strings.TrimSpace(c); c != "" && c != "-" {
								r.Controls = append(r.Controls, c)
							}
						}
					case "rationale":
						r.Rationale = value
					case "remediation":
						r.Remediation = value
					}
				}
				continue
			}
			inHeader = false
		}
		body.WriteString(s)
		body.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return r, fmt.Errorf("%s: %w", name, err)
	}
	r.SQL = strings.TrimRight(strings.TrimSpace(body.String()), ";")
	for k := range headerKeys {
		if !seen[k] {
			return r, fmt.Errorf("%s: header has no %s", name, k)
		}
	}
	if want := strings.TrimSuffix(path.Base(name), ".sql"); r.ID != want {
		return r, fmt.Errorf("%s: id %q is not the file name", name, r.ID)
	}
	if !ruleID.MatchString(r.ID) {
		return r, fmt.Errorf("%s: id %q is not lower_snake_case", name, r.ID)
	}
	if SeverityRank(r.Severity) == len(Severities) {
		return r, fmt.Errorf("%s: severity %q is not one of %s", name, r.Severity, strings.Join(Severities, ", "))
	}
	if r.Title == "" || r.Rationale == "" || r.Remediation == "" {
		return r, fmt.Errorf("%s: title, rationale and remediation must not be empty", name)
	}
	for _, c := range r.Controls {
		if !ValidControl(c) {
			return r, fmt.Errorf("%s: unknown control %q", name, c)
		}
	}
	if r.SQL == "" {
		return r, fmt.Errorf("%s: no SELECT after the header", name)
	}
	return r, nil
}

var ruleID = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// Control references a rule may name: CIS AWS Foundations Benchmark v3.0
// recommendations of sections 1 (IAM), 3 (logging) and 4 (monitoring), and
// AWS Security Hub IAM controls.
var (
	cisControl = regexp.MustCompile(`^CIS ([134])\.([0-9]+)$`)
	hubControl = regexp.MustCompile(`^IAM\.([0-9]+)$`)
	cisLast    = map[string]int{"1": 22, "3": 9, "4": 16}
)

// ValidControl reports whether c names a known control.
func ValidControl(c string) bool {
	if m := cisControl.FindStringSubmatch(c); m != nil {
		n := atoi(m[2])
		return n >= 1 && n <= cisLast[m[1]]
	}
	if m := hubControl.FindStringSubmatch(c); m != nil {
		n := atoi(m[1])
		return n >= 1 && n <= 28 && n != 20
	}
	return false
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// Rules returns the catalog, ordered by severity then id.
func Rules() ([]Rule, error) {
	names, err := fs.Glob(ruleFiles, "*.sql")
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var rules []Rule
	for _, n := range names {
		b, err := ruleFiles.ReadFile(n)
		if err != nil {
			return nil, err
		}
		r, err := parseRule(n, string(b))
		if err != nil {
			return nil, err
		}
		if seen[r.ID] {
			return nil, fmt.Errorf("%s: duplicate id %q", n, r.ID)
		}
		seen[r.ID] = true
		rules = append(rules, r)
	}
	sort.Slice(rules, func(i, j int) bool {
		a, b := rules[i], rules[j]
		if SeverityRank(a.Severity) != SeverityRank(b.Severity) {
			return SeverityRank(a.Severity) < SeverityRank(b.Severity)
		}
		return a.ID < b.ID
	})
	return rules, nil
}

// MarkdownTable is the README's rule table.
func MarkdownTable(rules []Rule) string {
	var b strings.Builder
	b.WriteString("| rule | severity | controls | title |\n|---|---|---|---|\n")
	for _, r := range rules {
		controls := strings.Join(r.Controls, ", ")
		if controls == "" {
			controls = "—"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", r.ID, r.Severity, controls, r.Title)
	}
	return b.String()
}
