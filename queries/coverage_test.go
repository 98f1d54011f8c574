package queries_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/credtrail/credtrail/queries"
)

// Each rule is assessed per account only when the inputs it needs are in the
// case for that account: an IAM-only case assesses no CloudTrail rule, and a
// credential report without the mfa_active column assesses no MFA rule of
// its account while its other credential rules are assessed.
func TestRuleCoverage(t *testing.T) {
	dir := t.TempDir()
	// Account 111122223333's report as a tool that drops columns writes it.
	noMFA := "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,access_key_1_active,access_key_1_last_rotated\n" +
		"<root_account>,arn:aws:iam::111122223333:root,2022-09-22T00:20:31+00:00,not_supported,2026-10-27T02:24:00+00:00,not_supported,false,N/A\n" +
		"ana,arn:aws:iam::111122223333:user/ana,2024-09-22T03:44:36+00:00,true,2026-10-30T06:42:05+00:00,2024-11-29T03:44:36+00:00,true,2024-11-29T03:44:36+00:00\n"
	report := filepath.Join(dir, "credential-report.csv")
	if err := os.WriteFile(report, []byte(noMFA), 0o644); err != nil {
		t.Fatal(err)
	}
	c := ingestCase(t, filepath.Join(dir, "case.duckdb"), []string{filepath.Join("..", "samples", "case", "iam", "298228927586"), report})
	if _, err := queries.Run(context.Background(), c.DB, queries.Params{}); err != nil {
		t.Fatal(err)
	}
	rows, err := c.DB.Query(`select rule_id, account_id, assessed, array_to_string(missing_inputs, ',') from rule_coverage
		where rule_id in ('console_user_without_mfa', 'root_mfa_not_enabled', 'access_key_not_rotated', 'root_activity', 'full_admin_access', 'password_policy_min_length')
		order by account_id, rule_id`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var rule, account, missing string
		var assessed bool
		if err := rows.Scan(&rule, &account, &assessed, &missing); err != nil {
			t.Fatal(err)
		}
		if assessed != (missing == "") {
			t.Errorf("%s %s: assessed %v with missing %q", rule, account, assessed, missing)
		}
		got = append(got, rule+" "+account+": "+missing)
	}
	rows.Close()
	want := []string{
		"access_key_not_rotated 111122223333: ",
		"console_user_without_mfa 111122223333: credential_report.mfa_active",
		"full_admin_access 111122223333: authorization_details",
		"password_policy_min_length 111122223333: password_policy",
		"root_activity 111122223333: cloudtrail",
		"root_mfa_not_enabled 111122223333: credential_report.mfa_active",
		"access_key_not_rotated 298228927586: ",
		"console_user_without_mfa 298228927586: ",
		"full_admin_access 298228927586: ",
		"password_policy_min_length 298228927586: password_policy",
		"root_activity 298228927586: cloudtrail",
		"root_mfa_not_enabled 298228927586: ",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rule coverage:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
