package queries_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/credtrail/credtrail/queries"
)

// baselineRule: a rule that judges "new" or "routine" against what the case
// saw earlier (the account's first baseline hours, a credential's history
// before a new address).
var baselineRule = regexp.MustCompile(`\b(baseline_hours|new_ip_hours|account_spans)\b`)

// TestBaselineRulesKnown: the rules judged against a baseline are found by
// their SQL, so checkBaselineStated applies to every one (a rule added later
// included); the incident rules that learn from history are among them.
func TestBaselineRulesKnown(t *testing.T) {
	rules, err := queries.Rules()
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, r := range rules {
		if baselineRule.MatchString(r.SQL) {
			found[r.ID] = true
		}
	}
	for _, id := range []string{"discovery_burst", "instance_remote_access", "lambda_changed_by_new_principal", "bedrock_used_by_new_principal",
		"iam_change_from_new_ip", "session_token_from_new_address", "get_caller_identity_from_new_ip", "activity_in_unusual_region"} {
		if !found[id] {
			t.Errorf("rule %s is not recognised as judged against a baseline", id)
		}
	}
}

// checkBaselineStated: a finding of a rule judged against a baseline states,
// under "baseline" in its evidence, the window of events it looked at and
// whether that window was too short to judge; a too-short one says so in
// its detail. At least one finding of a fire case names its window (a rule
// may leave it null on findings that no baseline judged).
func checkBaselineStated(t *testing.T, path string, r queries.Rule, fs []queries.Finding) {
	t.Helper()
	if !baselineRule.MatchString(r.SQL) {
		return
	}
	named := false
	for _, f := range fs {
		var ev map[string]json.RawMessage
		if err := json.Unmarshal([]byte(f.Evidence), &ev); err != nil {
			t.Fatalf("%s: evidence %s: %v", path, f.Evidence, err)
		}
		raw, ok := ev["baseline"]
		if !ok {
			t.Errorf("%s: finding of %s has no baseline in its evidence: %s", path, r.ID, f.Evidence)
			continue
		}
		if string(raw) == "null" {
			continue
		}
		var b struct {
			From, To    string
			HoursNeeded *int  `json:"hours_needed"`
			TooShort    *bool `json:"too_short"`
		}
		if err := json.Unmarshal(raw, &b); err != nil || b.From == "" || b.To == "" || b.HoursNeeded == nil || b.TooShort == nil {
			t.Errorf("%s: baseline of %s lacks from, to, hours_needed or too_short: %s", path, r.ID, raw)
			continue
		}
		named = true
		if *b.TooShort != strings.Contains(f.Detail, "too short to judge") {
			t.Errorf("%s: baseline too_short=%v but the detail %s", path, *b.TooShort, map[bool]string{true: "says so", false: "does not say so"}[!*b.TooShort])
		}
	}
	if !named {
		t.Errorf("%s: no finding of %s names the baseline it looked at", path, r.ID)
	}
}
