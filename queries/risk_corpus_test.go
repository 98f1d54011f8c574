package queries_test

import (
	"context"
	"testing"

	"github.com/credtrail/credtrail/queries"
)

// TestRiskCategoriesIAMVulnerable runs the risk-category rules and the
// account checks on the iam-vulnerable authorization details (no CloudTrail)
// and checks what an auditor would: at most one finding per principal and
// category, none for an administrator, none where a Deny removes the grant,
// the lab's single-action scenarios in the category of their action, and
// the use side not assessed. The counts are logged (-v).
func TestRiskCategoriesIAMVulnerable(t *testing.T) {
	c := iamVulnerableCase(t)
	ctx := context.Background()
	risk := []string{"risk_data_exfiltration", "risk_credentials_exposure", "risk_resource_exposure", "risk_infrastructure_modification"}
	if _, err := queries.Run(ctx, c.DB, queries.Params{Rules: append(risk,
		"full_admin_access", "support_role_missing", "customer_policy_grants_admin")}); err != nil {
		t.Fatal(err)
	}
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := c.DB.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	principals := count(`select count(*) from (select arn from iam_users union all select arn from iam_roles)`)
	for _, r := range risk {
		n := count(`select count(*) from findings where rule_id = ?`, r)
		t.Logf("%s: %d findings for %d users and roles", r, n, principals)
		if n == 0 {
			t.Errorf("%s: no finding on the lab", r)
		}
		if dup := count(`select count(*) from (select principal_arn from findings where rule_id = ? group by 1 having count(*) > 1)`, r); dup > 0 {
			t.Errorf("%s: %d principals with more than one finding", r, dup)
		}
	}
	if n := count(`select count(*) from findings r join findings a on a.principal_arn = r.principal_arn and a.rule_id = 'full_admin_access'
		where r.rule_id like 'risk_%'`); n > 0 {
		t.Errorf("%d risk findings on administrators, whom full_admin_access reports", n)
	}
	// fp1 allows iam:* and denies iam:* in the same policy: nothing is granted.
	if n := count(`select count(*) from findings where principal_arn like '%/fp1-allow-and-deny-%'`); n > 0 {
		t.Errorf("%d findings on the fp1 principals, whose iam:* is denied", n)
	}
	for _, want := range []struct{ rule, principal, action string }{
		{"risk_credentials_exposure", "user/privesc4-CreateAccessKey-user", "iam:CreateAccessKey"},
		{"risk_credentials_exposure", "role/privesc5-CreateLoginProfile-role", "iam:CreateLoginProfile"},
		{"risk_resource_exposure", "user/privesc15-PassExistingRoleToNewLambdaThenInvoke-user", "iam:PassRole"},
		{"risk_resource_exposure", "user/privesc14-UpdatingAssumeRolePolicy-user", "iam:UpdateAssumeRolePolicy"},
		{"risk_data_exfiltration", "user/privesc-sre-user", "s3:GetObject"},
		{"risk_infrastructure_modification", "user/privesc7-AttachUserPolicy-user", "iam:AttachUserPolicy"},
	} {
		if count(`select count(*) from findings, unnest(from_json(evidence->'granted', '["JSON"]')) as g(item)
			where rule_id = ? and principal_arn like ('%:' || ?) and json_extract_string(g.item, '$.action') = ?`, want.rule, want.principal, want.action) != 1 {
			t.Errorf("%s: no finding on %s granting %s", want.rule, want.principal, want.action)
		}
	}
	if n := count(`select count(*) from findings where rule_id like 'risk_%'
		and (detail not like '%use not assessed: the case holds no CloudTrail%' or json_extract(evidence, '$.cloudtrail_assessed')::boolean)`); n > 0 {
		t.Errorf("%d risk findings judge use though the case holds no CloudTrail", n)
	}
	if count(`select count(*) from findings where rule_id = 'support_role_missing' and account_id = '200611803367'`) != 1 {
		t.Error("support_role_missing: the lab account has no role with AWSSupportAccess, not reported")
	}
	if count(`select count(*) from findings where rule_id = 'customer_policy_grants_admin' and resource like '%:policy/fp2-allow-all'`) != 1 ||
		count(`select count(*) from findings where rule_id = 'customer_policy_grants_admin' and resource like '%:policy/fp1-allow-and-deny'`) != 0 {
		t.Error("customer_policy_grants_admin: want fp2-allow-all (* on *) reported and fp1-allow-and-deny (iam:* allowed and denied) not")
	}
}
