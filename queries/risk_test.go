package queries

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestRiskActions: the category lists are actions as the service
// authorization reference names them, each once, and every action whose use
// CloudTrail cannot show is in a list.
func TestRiskActions(t *testing.T) {
	action := regexp.MustCompile(`^[a-z0-9-]+:[A-Za-z0-9]+$`)
	seen := map[string]string{}
	for _, c := range []string{RiskDataExfiltration, RiskCredentialsExposure, RiskResourceExposure} {
		if len(RiskActions[c]) == 0 {
			t.Errorf("category %s has no actions", c)
		}
		for _, a := range RiskActions[c] {
			if !action.MatchString(a) {
				t.Errorf("%s: %q is not service:Action", c, a)
			}
			key := strings.ToLower(a)
			if prev, dup := seen[key]; dup {
				t.Errorf("%s: %s is already listed in %s", c, a, prev)
			}
			seen[key] = c
		}
	}
	if len(RiskActions) != 3 {
		t.Errorf("RiskActions has %d categories, want the three listed ones", len(RiskActions))
	}
	for a, how := range RiskUnlogged {
		if _, ok := seen[strings.ToLower(a)]; !ok {
			t.Errorf("RiskUnlogged names %s, which no category lists", a)
		}
		if !slices.Contains([]string{"data", "none"}, how) {
			t.Errorf("RiskUnlogged[%s] = %q, want data or none", a, how)
		}
	}
}
