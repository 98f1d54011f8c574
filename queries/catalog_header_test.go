package queries

import (
	"strings"
	"testing"
)

func TestParseRuleAttackAndNeeds(t *testing.T) {
	const head = "-- id: x\n-- title: t\n-- severity: high\n-- controls: -\n-- rationale: r\n-- remediation: m\n"
	r, err := parseRule("x.sql", head+"-- attack: TA0005/T1562.008, TA0003/T1098\n-- needs: cloudtrail\nselect 1")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Attack) != 2 || r.Attack[0].String() != "TA0005/T1562.008" || r.Attack[1].Technique != "T1098" {
		t.Errorf("attack = %v", r.Attack)
	}
	if len(r.Needs) != 1 || r.Needs[0] != "cloudtrail" {
		t.Errorf("needs = %v", r.Needs)
	}
	for _, bad := range []string{"-- attack: TA9999/T1098\n", "-- attack: TA0005/T12\n", "-- needs: cloudtrails\n",
		"-- needs: cloudtrail.event_name\n", "-- needs: credential_report.MFA\n"} {
		if _, err := parseRule("x.sql", head+bad+"select 1"); err == nil || !strings.Contains(err.Error(), "x.sql:7") {
			t.Errorf("%q: err = %v, want one naming line 7", bad, err)
		}
	}
}

func TestParseRuleNeedsRequired(t *testing.T) {
	const head = "-- id: x\n-- title: t\n-- severity: high\n-- controls: -\n-- rationale: r\n-- remediation: m\n"
	if _, err := parseRule("x.sql", head+"select 1"); err == nil || !strings.Contains(err.Error(), "no needs") {
		t.Errorf("rule without needs: err = %v", err)
	}
	r, err := parseRule("x.sql", head+"-- needs: credential_report.mfa_active, -\nselect 1")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Needs) != 1 || r.Needs[0] != "credential_report.mfa_active" {
		t.Errorf("needs = %v", r.Needs)
	}
}

// TestParseRuleGradedSeverity: "severity: low..medium" is a graded rule
// whose rows give their own severity within that range; a range that runs
// the wrong way or names no severity is refused.
func TestParseRuleGradedSeverity(t *testing.T) {
	const rest = "-- controls: -\n-- rationale: r\n-- remediation: m\n-- needs: cloudtrail\nselect 1"
	r, err := parseRule("x.sql", "-- id: x\n-- title: t\n-- severity: low..medium\n"+rest)
	if err != nil {
		t.Fatal(err)
	}
	if r.MinSeverity != "low" || r.Severity != "medium" || r.SeverityText() != "low..medium" {
		t.Errorf("graded severity = %q..%q (%s)", r.MinSeverity, r.Severity, r.SeverityText())
	}
	for _, bad := range []string{"medium..low", "high..high", "low..severe", "lowish..high"} {
		if _, err := parseRule("x.sql", "-- id: x\n-- title: t\n-- severity: "+bad+"\n"+rest); err == nil {
			t.Errorf("severity %q accepted", bad)
		}
	}
}
