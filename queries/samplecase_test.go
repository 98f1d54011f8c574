package queries_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/credtrail/credtrail/queries"
)

// factRules maps each fact of samples/case/expected.json to the rules that
// report it. Facts mapped to nil belong to the unused-permissions analysis
// (issue #5), not to this rule pack.
var factRules = map[string][]string{
	"root_access_key_active":         {"root_access_key_active"},
	"root_access_key_used":           {"root_access_key_used"},
	"root_console_activity":          {"root_activity"},
	"root_console_login_without_mfa": {"root_console_login_without_mfa"},
	"root_mfa_not_enabled":           {"root_mfa_not_enabled"},

	"access_key_never_used":          {"access_key_never_used"},
	"access_key_not_rotated_90_days": {"access_key_not_rotated"},
	"console_user_without_mfa":       {"console_user_without_mfa"},
	"credentials_unused_45_days":     {"access_key_unused", "password_unused"}, // with --unused-after 45d
	"credentials_unused_90_days":     {"access_key_unused", "password_unused"},
	"multiple_active_access_keys":    {"multiple_active_access_keys"},
	"password_never_used":            {"password_never_used"},
	"inactive_old_key_not_flagged":   nil, // checked apart: no key finding on that slot

	"access_key_created_for_another_user":    {"access_key_created_for_another_user"},
	"activity_after_brute_force":             {"console_brute_force"},
	"activity_in_new_region":                 {"activity_in_unusual_region"},
	"admin_role_assumed_with_leaked_key":     {"admin_role_assumed_from_new_ip"},
	"cloudtrail_logging_stopped":             {"cloudtrail_logging_tampering"},
	"console_brute_force":                    {"console_brute_force"},
	"leaked_access_key_used_from_new_ip":     {"get_caller_identity_from_new_ip"},
	"login_profile_created_for_another_user": {"login_profile_created_for_another_user"},
	"reconnaissance_burst":                   {"access_denied_burst"},
	"s3_bulk_download":                       {"s3_bulk_download"},

	"empty_group":                   {"empty_group"},
	"notaction_allow":               {"notaction_allow"},
	"privilege_escalation_possible": {"privilege_escalation_possible"},
	"role_admin":                    {"full_admin_access"},
	"user_admin_direct":             {"full_admin_access"},
	"user_admin_via_group":          {"full_admin_access"},
	"user_has_attached_policy":      {"user_has_attached_policy"},
	"user_has_inline_policy":        {"user_has_inline_policy"},
	"user_in_no_group":              {"user_in_no_group"},

	"permissions_boundary_removes_permissions": {"permissions_boundary_removes_permissions"},

	"cross_account_trust_with_external_id":    {"cross_account_trust_with_external_id"},
	"cross_account_trust_without_external_id": {"cross_account_trust_without_external_id"},
	"github_oidc_trust_without_sub":           {"oidc_trust_without_sub"},
	"trust_any_principal":                     {"trust_any_principal"},
	"trusted_by_service":                      {"role_trusted_by_service"},

	"role_never_used":        {"role_never_used"},
	"no_cloudtrail_coverage": {"no_cloudtrail_coverage"},
	"unused_actions":         {"unused_actions"},
	"unused_services":        {"unused_services"},
}

type fact struct {
	Fact, Category, Subject, Detail string
	Evidence                        []string
}

// findRepoDir walks up from the working directory to the folder holding rel.
func findRepoDir(rel string) string {
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, rel)); err == nil {
			return filepath.Join(dir, rel)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

var reportKey = regexp.MustCompile(`^credential_report:account=(\d+):user=([^:]+)(?::(access_key_\d))?$`)

// sampleCase returns the folder of the sample case and its expected facts:
// samples/case, or the case CREDTRAIL_SAMPLE_CASE names (credtrail samples
// generate DIR). It skips in -short and when there is none.
func sampleCase(t *testing.T) (string, []fact) {
	t.Helper()
	if testing.Short() {
		t.Skip("sample case: not in -short")
	}
	dir := os.Getenv("CREDTRAIL_SAMPLE_CASE")
	if dir == "" {
		dir = findRepoDir(filepath.Join("samples", "case"))
	}
	if dir == "" {
		t.Skip("no samples/case")
	}
	b, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var facts []fact
	if err := json.Unmarshal(b, &facts); err != nil {
		t.Fatal(err)
	}
	return dir, facts
}

// TestSampleCase: every fact of expected.json is found, and nothing of high
// or critical severity is reported that expected.json does not name.
func TestSampleCase(t *testing.T) {
	dir, facts := sampleCase(t)
	var inputs []string
	for _, sub := range []string{"AWSLogs", "iam"} {
		inputs = append(inputs, filepath.Join(dir, sub))
	}
	c := ingestCase(t, filepath.Join(t.TempDir(), "case.duckdb"), inputs)
	ctx := context.Background()

	run := func(p queries.Params) []queries.Finding {
		if _, err := queries.Run(ctx, c.DB, p); err != nil {
			t.Fatal(err)
		}
		fs, err := queries.Findings(ctx, c.DB, 0)
		if err != nil {
			t.Fatal(err)
		}
		return fs
	}
	findings := run(queries.Params{})
	findings45 := run(queries.Params{UnusedAfterDays: 45})

	matches := func(f queries.Finding, subject string) bool {
		return f.PrincipalARN == subject || f.Resource == subject || strings.Contains(f.Evidence, `"`+subject+`"`)
	}
	matched := map[string]bool{} // finding ids that an expected fact names
	checked := 0
	for _, fc := range facts {
		rules, known := factRules[fc.Fact]
		if !known {
			t.Errorf("expected.json names fact %q that no rule is mapped to: map it in factRules", fc.Fact)
			continue
		}
		pool := findings
		if fc.Fact == "credentials_unused_45_days" {
			pool = findings45
		}
		if fc.Fact == "inactive_old_key_not_flagged" {
			for _, ev := range fc.Evidence {
				m := reportKey.FindStringSubmatch(ev)
				for _, f := range findings45 {
					if m != nil && f.PrincipalARN == fc.Subject && f.Resource == m[3] {
						t.Errorf("%s: %s reports the inactive key: %s", fc.Fact, f.RuleID, f.Detail)
					}
				}
			}
			continue
		}
		if rules == nil {
			continue
		}
		checked++
		var hits []queries.Finding
		for _, f := range pool {
			for _, r := range rules {
				if f.RuleID == r && matches(f, fc.Subject) {
					hits = append(hits, f)
				}
			}
		}
		if len(hits) == 0 {
			t.Errorf("fact %s on %s not found by %v (%s)", fc.Fact, fc.Subject, rules, fc.Detail)
			continue
		}
		for _, h := range hits {
			matched[h.FindingID] = true
			checkUsageDetail(t, fc, h)
		}
		// The findings point at the fact's evidence: an event id, or the report row (and key slot).
		found := false
		for _, ev := range fc.Evidence {
			for _, h := range hits {
				if m := reportKey.FindStringSubmatch(ev); m != nil {
					if strings.Contains(h.Evidence, `"user":"`+m[2]+`"`) && (m[3] == "" || h.Resource == m[3]) {
						found = true
					}
				} else if strings.HasPrefix(ev, "authorization_details:") {
					found = true // the rows name the principal or policy; checked by the subject
				} else if strings.Contains(h.Evidence, `"`+ev+`"`) {
					found = true
				}
			}
		}
		if !found {
			t.Errorf("fact %s on %s: no evidence of %v in the findings %v", fc.Fact, fc.Subject, fc.Evidence, hits)
		}
	}
	t.Logf("%d of %d facts checked against %d findings (%d with --unused-after 45d)", checked, len(facts), len(findings), len(findings45))
	if checked == 0 {
		t.Error("no fact checked")
	}
	for _, f := range findings {
		if queries.SeverityRank(f.Severity) <= queries.SeverityRank("high") && !matched[f.FindingID] {
			t.Errorf("%s finding not in expected.json: %s %s %s: %s", f.Severity, f.RuleID, f.PrincipalARN, f.Resource, f.Detail)
		}
	}
}

// usageLists are the lists a usage fact's detail names, each sorted as written.
var usageLists = map[string]*regexp.Regexp{
	"used services":   regexp.MustCompile(`in the window \(calls without error\): used ([^;]*)`),
	"unused services": regexp.MustCompile(`granted but unused ([^;]*)`),
	"granted count":   regexp.MustCompile(`^granted (\d+) services, used (\d+) `),
	"unused actions":  regexp.MustCompile(`granted actions never called: ([^;]*)`),
	"used actions":    regexp.MustCompile(`actions used: ([^;]*)`),
}

// checkUsageDetail: an unused_services or unused_actions finding names
// exactly the services and actions of its fact, no more and no fewer.
func checkUsageDetail(t *testing.T, fc fact, f queries.Finding) {
	t.Helper()
	if fc.Fact != "unused_services" && fc.Fact != "unused_actions" {
		return
	}
	for name, re := range usageLists {
		want := re.FindStringSubmatch(fc.Detail)
		if want == nil {
			continue
		}
		got := re.FindStringSubmatch(f.Detail)
		if got == nil || strings.Join(got[1:], " ") != strings.Join(want[1:], " ") {
			t.Errorf("%s on %s: %s differ\nwant %q\n got %q", fc.Fact, fc.Subject, name, want[1:], got)
		}
	}
}

// TestSampleCaseGeneratedPolicies: the policy generated for each planted
// role allows exactly the actions the role used (its unused_actions fact
// lists them), and is a valid IAM policy document.
func TestSampleCaseGeneratedPolicies(t *testing.T) {
	dir, facts := sampleCase(t)
	c := ingestCase(t, filepath.Join(t.TempDir(), "case.duckdb"), []string{filepath.Join(dir, "AWSLogs"), filepath.Join(dir, "iam")})
	ctx := context.Background()
	if _, err := queries.Run(ctx, c.DB, queries.Params{}); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, fc := range facts {
		if fc.Fact != "unused_actions" || !strings.Contains(fc.Subject, ":role/") {
			continue
		}
		want := strings.Split(usageLists["used actions"].FindStringSubmatch(fc.Detail)[1], ", ")
		var doc string
		if err := c.DB.QueryRowContext(ctx, "select policy::varchar from generated_policies where principal_arn = ? and not incident_activity", fc.Subject).Scan(&doc); err != nil {
			t.Errorf("%s: no generated policy: %v", fc.Subject, err)
			continue
		}
		var pol struct {
			Version   string
			Statement []struct {
				Sid, Effect string
				Action      []string
				Resource    any
			}
		}
		if err := json.Unmarshal([]byte(doc), &pol); err != nil {
			t.Fatalf("%s: policy is not JSON: %v\n%s", fc.Subject, err, doc)
		}
		if pol.Version != "2012-10-17" || len(pol.Statement) == 0 {
			t.Errorf("%s: not a policy document: %s", fc.Subject, doc)
		}
		var got []string
		sids := map[string]bool{}
		for _, st := range pol.Statement {
			if st.Effect != "Allow" || st.Resource == nil || !regexp.MustCompile(`^[A-Za-z0-9]+$`).MatchString(st.Sid) || sids[st.Sid] {
				t.Errorf("%s: bad statement %+v", fc.Subject, st)
			}
			sids[st.Sid] = true
			got = append(got, st.Action...)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: generated policy allows\n%v\nthe role used\n%v", fc.Subject, got, want)
		}
		checked++
	}
	if checked == 0 {
		t.Error("no planted role checked")
	}
	t.Logf("%d generated role policies checked", checked)
}
