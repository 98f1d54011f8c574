package report

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// Control statuses.
const (
	ControlPass        = "pass"
	ControlFail        = "fail"
	ControlNotAssessed = "not assessed"
)

// ControlStatus is the verdict on one control for one account. A control
// passes for an account only when every rule mapped to it was assessed
// there (the case holds every input the rule needs for that account) and
// none has a finding that is neither suppressed nor info; it fails when one
// has; otherwise it is not assessed, naming what is missing.
type ControlStatus struct {
	Control   string `json:"control"`
	AccountID string `json:"account_id"`
	Status    string `json:"status"` // pass, fail, not assessed
	// MissingInputs are the inputs the case lacks for the account:
	// credential_report, credential_report.COLUMN (a report without that
	// column), authorization_details, password_policy, cloudtrail (no events
	// of the account in the analysis window), log_validation (no credtrail
	// verify results).
	MissingInputs []string `json:"missing_inputs"`
	// RulesNotAssessed are the rules that could not judge the account: an
	// input missing, not run (credtrail analyze --rules), or a *_not_assessed
	// rule that fired.
	RulesNotAssessed []string `json:"rules_not_assessed"`
	FailingRules     []string `json:"failing_rules"` // rules with a finding that fails the control
	Rules            []string `json:"rules"`         // every rule mapped to the control
}

// Controls returns the verdict on every control of the rule catalog for
// every account the last analysis saw, ordered by control then account.
// It is empty before any analysis, on a case without evidence, and without
// a rule catalog; Analysed and Accounts tell these apart.
func (r *Report) Controls() []ControlStatus { return r.controls }

// Analysed reports whether the case holds an analysis.
func (r *Report) Analysed() bool { return len(r.params) > 0 }

// Accounts are the accounts the last analysis judged: every account seen in
// any evidence.
func (r *Report) Accounts() []string { return r.accounts }

// ControlCatalog reports whether the report knows which rules map to which controls.
func (r *Report) ControlCatalog() bool { return len(r.catalog) > 0 }

// loadCatalog reads the rule catalog: the options', else a rules table
// (rule_id, controls) in the case.
func (r *Report) loadCatalog(ctx context.Context) error {
	r.catalog = map[string][]string{}
	for _, rule := range r.opts.Rules {
		r.catalog[rule.ID] = rule.Controls
	}
	if len(r.opts.Rules) == 0 && r.tables["rules"] {
		rows, err := queryRows(ctx, r.db, `select rule_id, controls::varchar from rules order by rule_id`)
		if err != nil {
			return fmt.Errorf("rule catalog: %w", err)
		}
		for _, row := range rows {
			r.catalog[text(row[0])] = splitList(text(row[1]))
		}
	}
	return nil
}

// loadControls judges every control for every account from the rule
// coverage of the last analysis and the findings (suppressions applied).
func (r *Report) loadControls(ctx context.Context) error {
	if err := r.loadCatalog(ctx); err != nil {
		return err
	}
	if !r.Analysed() || !r.tables["rule_coverage"] {
		return nil
	}
	// coverage[rule][account] = missing inputs; absent: the rule did not run.
	coverage := map[string]map[string][]string{}
	rows, err := queryRows(ctx, r.db, `select rule_id, account_id, array_to_string(missing_inputs, ',') from rule_coverage order by account_id, rule_id`)
	if err != nil {
		return fmt.Errorf("rule coverage: %w", err)
	}
	seen := map[string]bool{}
	for _, row := range rows {
		rule, account := text(row[0]), text(row[1])
		if coverage[rule] == nil {
			coverage[rule] = map[string][]string{}
		}
		coverage[rule][account] = splitList(text(row[2]))
		if !seen[account] {
			seen[account] = true
			r.accounts = append(r.accounts, account)
		}
	}
	sort.Strings(r.accounts)
	// Info findings imply no action and fail nothing; a rule named
	// ..._not_assessed that fired says it could not judge its account. A
	// finding without an account counts for every account.
	failing, unjudged := map[[2]string]bool{}, map[[2]string]bool{}
	for _, f := range r.Findings {
		key := [2]string{f.RuleID, f.AccountID}
		switch {
		case f.Suppressed != nil:
		case strings.HasSuffix(f.RuleID, "_not_assessed"):
			unjudged[key] = true
		case f.Severity != "info":
			failing[key] = true
		}
	}
	byControl := map[string][]string{}
	for rule, controls := range r.catalog {
		for _, c := range controls {
			byControl[c] = append(byControl[c], rule)
		}
	}
	names := make([]string, 0, len(byControl))
	for c, rules := range byControl {
		sort.Strings(rules)
		names = append(names, c)
	}
	sort.Slice(names, func(i, j int) bool { return naturalLess(names[i], names[j]) })
	for _, c := range names {
		rules := byControl[c]
		for _, account := range r.accounts {
			cs := ControlStatus{Control: c, AccountID: account, Rules: rules,
				MissingInputs: []string{}, RulesNotAssessed: []string{}, FailingRules: []string{}}
			for _, rule := range rules {
				if failing[[2]string{rule, account}] || failing[[2]string{rule, ""}] {
					cs.FailingRules = append(cs.FailingRules, rule)
				}
				missing, ran := coverage[rule][account]
				if !ran || len(missing) > 0 || unjudged[[2]string{rule, account}] || unjudged[[2]string{rule, ""}] {
					cs.RulesNotAssessed = append(cs.RulesNotAssessed, rule)
				}
				for _, m := range missing {
					if !contains(cs.MissingInputs, m) {
						cs.MissingInputs = append(cs.MissingInputs, m)
					}
				}
			}
			sort.Strings(cs.MissingInputs)
			switch {
			case len(cs.FailingRules) > 0:
				cs.Status = ControlFail
			case len(cs.RulesNotAssessed) > 0:
				cs.Status = ControlNotAssessed
			default:
				cs.Status = ControlPass
			}
			r.controls = append(r.controls, cs)
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// inputNames say in words what each input is.
var inputNames = map[string]string{
	"credential_report":     "credential report",
	"authorization_details": "authorization details",
	"password_policy":       "password policy export",
	"cloudtrail":            "CloudTrail events in the window",
	"log_validation":        "digest validation (credtrail verify)",
}

// MissingText says in words what a not-assessed control lacks.
func (cs ControlStatus) MissingText() string {
	var parts []string
	for _, m := range cs.MissingInputs {
		if input, column, ok := strings.Cut(m, "."); ok {
			parts = append(parts, "the "+inputNames[input]+" has no "+column+" column")
		} else {
			parts = append(parts, "no "+inputNames[m])
		}
	}
	if len(parts) == 0 && len(cs.RulesNotAssessed) > 0 {
		return "not assessed by " + strings.Join(cs.RulesNotAssessed, ", ")
	}
	return strings.Join(parts, "; ")
}
