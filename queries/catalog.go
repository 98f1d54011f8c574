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
	"slices"
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
	ID       string
	Title    string
	Severity string // the most severe finding the rule reports
	// MinSeverity, for a graded rule (header "severity: low..medium"), is
	// its least severe finding; each row then gives its own severity as a
	// ninth column, from MinSeverity to Severity. "" for a rule of one severity.
	MinSeverity string
	Controls    []string // "CIS 1.4", "IAM.4"
	Rationale   string
	Remediation string
	Attack      []Technique // MITRE ATT&CK tactic and technique, for incident rules
	// Needs are the inputs the rule reads, each one of Inputs, or
	// "credential_report.COLUMN" when the rule reads a column that a
	// credential report may lack. A rule whose input is missing for an
	// account is not assessed there.
	Needs []string
	SQL   string // the SELECT, header comments removed
}

// Technique is one MITRE ATT&CK (Enterprise, cloud) tactic and technique.
type Technique struct {
	Tactic    string // "TA0005"
	Technique string // "T1562.008"
}

// SeverityText is the rule's severity, "low..medium" for a graded rule.
func (r Rule) SeverityText() string {
	if r.MinSeverity != "" {
		return r.MinSeverity + ".." + r.Severity
	}
	return r.Severity
}

// String is "TA0005/T1562.008".
func (t Technique) String() string { return t.Tactic + "/" + t.Technique }

// AttackText is the rule's ATT&CK techniques grouped by tactic, in header
// order: "Defense Evasion T1562.008, T1562.001; Persistence T1098"; "" for
// a rule that names none.
func (r Rule) AttackText() string {
	var tactics []string
	by := map[string][]string{}
	for _, t := range r.Attack {
		if by[t.Tactic] == nil {
			tactics = append(tactics, t.Tactic)
		}
		if !slices.Contains(by[t.Tactic], t.Technique) {
			by[t.Tactic] = append(by[t.Tactic], t.Technique)
		}
	}
	parts := make([]string, len(tactics))
	for i, t := range tactics {
		parts[i] = Tactics[t] + " " + strings.Join(by[t], ", ")
	}
	return strings.Join(parts, "; ")
}

// Tactics names the ATT&CK Enterprise tactics by id.
var Tactics = map[string]string{
	"TA0043": "Reconnaissance", "TA0042": "Resource Development", "TA0001": "Initial Access",
	"TA0002": "Execution", "TA0003": "Persistence", "TA0004": "Privilege Escalation",
	"TA0005": "Defense Evasion", "TA0006": "Credential Access", "TA0007": "Discovery",
	"TA0008": "Lateral Movement", "TA0009": "Collection", "TA0011": "Command and Control",
	"TA0010": "Exfiltration", "TA0040": "Impact",
}

// Inputs a rule may need: the kinds of evidence whose absence makes its
// verdict "not assessed".
// log_validation is the result of credtrail verify (digest validation).
var Inputs = []string{"credential_report", "authorization_details", "password_policy", "cloudtrail", "log_validation"}

var (
	headerKeys   = map[string]bool{"id": true, "title": true, "severity": true, "controls": true, "rationale": true, "remediation": true, "attack": true, "needs": true}
	optionalKeys = map[string]bool{"attack": true}
	techniqueID  = regexp.MustCompile(`^T[0-9]{4}(\.[0-9]{3})?$`)
	reportColumn = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

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
						if lo, hi, ok := strings.Cut(value, ".."); ok {
							r.MinSeverity, r.Severity = strings.TrimSpace(lo), strings.TrimSpace(hi)
							if SeverityRank(r.MinSeverity) <= SeverityRank(r.Severity) || SeverityRank(r.MinSeverity) == len(Severities) {
								return r, fmt.Errorf("%s:%d: severity %q: a graded severity goes from the least to the most severe", name, line, value)
							}
						}
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
					case "attack":
						for _, a := range strings.Split(value, ",") {
							if a = strings.TrimSpace(a); a == "" {
								continue
							}
							tactic, technique, _ := strings.Cut(a, "/")
							if Tactics[tactic] == "" || !techniqueID.MatchString(technique) {
								return r, fmt.Errorf("%s:%d: attack %q is not TAnnnn/Tnnnn[.nnn]", name, line, a)
							}
							r.Attack = append(r.Attack, Technique{Tactic: tactic, Technique: technique})
						}
					case "needs":
						for _, n := range strings.Split(value, ",") {
							if n = strings.TrimSpace(n); n == "" || n == "-" {
								continue
							}
							input, column, hasColumn := strings.Cut(n, ".")
							if !slices.Contains(Inputs, input) || hasColumn && (input != "credential_report" || !reportColumn.MatchString(column)) {
								return r, fmt.Errorf("%s:%d: needs %q is not one of %s (or credential_report.COLUMN)", name, line, n, strings.Join(Inputs, ", "))
							}
							r.Needs = append(r.Needs, n)
						}
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
		if !seen[k] && !optionalKeys[k] {
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
	b.WriteString("| rule | severity | controls | ATT&CK | title |\n|---|---|---|---|---|\n")
	for _, r := range rules {
		controls := strings.Join(r.Controls, ", ")
		if controls == "" {
			controls = "—"
		}
		attack := r.AttackText()
		if attack == "" {
			attack = "—"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", r.ID, r.SeverityText(), controls, attack, r.Title)
	}
	return b.String()
}
