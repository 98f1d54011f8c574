package queries_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/credtrail/credtrail/queries"
)

const evalAccount = "111122223333"

func evalUser(name string, groups []string, boundary string, statements ...map[string]any) map[string]any {
	u := map[string]any{
		"Path": "/", "UserName": name, "UserId": "AIDA" + name, "Arn": "arn:aws:iam::" + evalAccount + ":user/" + name,
		"CreateDate": "2025-01-01T00:00:00Z", "GroupList": groups, "AttachedManagedPolicies": []any{},
		"UserPolicyList": []any{map[string]any{"PolicyName": "p", "PolicyDocument": map[string]any{"Version": "2012-10-17", "Statement": statements}}},
	}
	if boundary != "" {
		u["PermissionsBoundary"] = map[string]any{"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary}
	}
	return u
}

func allow(action, resource any) map[string]any {
	return map[string]any{"Effect": "Allow", "Action": action, "Resource": resource}
}

func with(s map[string]any, k string, v any) map[string]any {
	s[k] = v
	return s
}

// TestEvaluator: the policy evaluator every IAM rule uses answers per
// principal, action and resource in AWS's order: an explicit Deny anywhere
// (a group's policy too) wins, an identity Allow is needed, a permissions
// boundary must allow it too; NotAction and NotResource exclude; a date
// condition already past grants nothing, one always true grants, any other
// condition gives "conditional".
func TestEvaluator(t *testing.T) {
	boundaryARN := "arn:aws:iam::" + evalAccount + ":policy/s3-only"
	gaad := map[string]any{
		"UserDetailList": []any{
			evalUser("grouped", []string{"nokeys"}, "", allow("iam:*", "*")),
			evalUser("bounded", nil, boundaryARN, allow("*", "*")),
			evalUser("notaction", nil, "", map[string]any{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}),
			evalUser("notresource", nil, "", map[string]any{"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::secret/*"}),
			evalUser("dated", nil, "",
				with(allow("iam:CreateAccessKey", "*"), "Condition", map[string]any{"DateLessThan": map[string]any{"aws:CurrentTime": "2020-01-01T00:00:00Z"}}),
				with(allow("iam:ListUsers", "*"), "Condition", map[string]any{"DateGreaterThan": map[string]any{"aws:TokenIssueTime": "2020-01-01T00:00:00Z"}}),
				with(allow("s3:ListBucket", "*"), "Condition", map[string]any{"Bool": map[string]any{"aws:MultiFactorAuthPresent": "true"}})),
			evalUser("self", nil, "", allow("iam:CreateAccessKey", "arn:aws:iam::"+evalAccount+":user/${aws:username}")),
			evalUser("scoped", nil, "", allow("s3:GetObject", "arn:aws:s3:::data/*")),
			evalUser("mfadeny", nil, "", allow("*", "*"),
				with(map[string]any{"Effect": "Deny", "Action": "*", "Resource": "*"}, "Condition",
					map[string]any{"BoolIfExists": map[string]any{"aws:MultiFactorAuthPresent": "false"}})),
		},
		"GroupDetailList": []any{map[string]any{
			"Path": "/", "GroupName": "nokeys", "GroupId": "AGPANOKEYS", "Arn": "arn:aws:iam::" + evalAccount + ":group/nokeys",
			"CreateDate": "2025-01-01T00:00:00Z", "AttachedManagedPolicies": []any{},
			"GroupPolicyList": []any{map[string]any{"PolicyName": "deny-keys", "PolicyDocument": map[string]any{"Version": "2012-10-17",
				"Statement": []any{map[string]any{"Effect": "Deny", "Action": "iam:CreateAccessKey", "Resource": "*"}}}}},
		}},
		"RoleDetailList": []any{},
		"Policies": []any{map[string]any{
			"PolicyName": "s3-only", "PolicyId": "ANPAS3ONLY", "Arn": boundaryARN, "Path": "/", "DefaultVersionId": "v1",
			"AttachmentCount": 0, "PermissionsBoundaryUsageCount": 1, "IsAttachable": true,
			"CreateDate": "2025-01-01T00:00:00Z", "UpdateDate": "2025-01-01T00:00:00Z",
			"PolicyVersionList": []any{map[string]any{"VersionId": "v1", "IsDefaultVersion": true, "CreateDate": "2025-01-01T00:00:00Z",
				"Document": map[string]any{"Version": "2012-10-17", "Statement": []any{allow("s3:*", "*")}}}},
		}},
	}
	b, err := json.Marshal(gaad)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "gaad.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	c := ingestCase(t, filepath.Join(dir, "case.duckdb"), []string{path})
	u := func(n string) string { return "arn:aws:iam::" + evalAccount + ":user/" + n }
	cases := []struct {
		principal, action, resource string
		decision, reason            string
	}{
		// Deny in a group policy beats the user's own Allow.
		{"grouped", "iam:CreateAccessKey", "*", "denied", "explicit_deny"},
		{"grouped", "iam:ListUsers", "*", "allowed", ""},
		{"grouped", "*", "*", "denied", "not_allowed"},
		// The boundary limits an administrator to S3.
		{"bounded", "s3:GetObject", "arn:aws:s3:::b/k", "allowed", ""},
		{"bounded", "iam:CreateUser", "*", "denied", "outside_boundary"},
		{"bounded", "*", "*", "denied", "outside_boundary"},
		// NotAction: everything but IAM, which is not "every action".
		{"notaction", "ec2:RunInstances", "*", "allowed", ""},
		{"notaction", "iam:CreateUser", "*", "denied", "not_allowed"},
		{"notaction", "*", "*", "denied", "not_allowed"},
		// NotResource: every object but the secret ones.
		{"notresource", "s3:GetObject", "arn:aws:s3:::public/k", "allowed", ""},
		{"notresource", "s3:GetObject", "arn:aws:s3:::secret/k", "denied", "not_allowed"},
		{"notresource", "s3:GetObject", "arn:aws:s3:::secret/*", "denied", "not_allowed"},
		{"notresource", "s3:GetObject", "*", "denied", "not_allowed"},
		// Conditions judged at the as-of time.
		{"dated", "iam:CreateAccessKey", "*", "denied", "not_allowed"},
		{"dated", "iam:ListUsers", "*", "allowed", ""},
		{"dated", "s3:ListBucket", "*", "conditional", ""},
		// ${aws:username} is the caller's own name.
		{"self", "iam:CreateAccessKey", u("self"), "allowed", ""},
		{"self", "iam:CreateAccessKey", u("dave"), "denied", "not_allowed"},
		// A resource-scoped grant: on some resource yes, on every one no.
		{"scoped", "s3:GetObject", "", "allowed", ""},
		{"scoped", "s3:GetObject", "*", "denied", "not_allowed"},
		// A Deny under a condition leaves the Allow conditional.
		{"mfadeny", "*", "*", "conditional", ""},
	}
	var reqs []queries.Request
	for _, tc := range cases {
		reqs = append(reqs, queries.Request{PrincipalARN: u(tc.principal), Action: tc.action, Resource: tc.resource})
	}
	asOf := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	got, err := queries.Decide(context.Background(), c.DB, queries.Params{AsOf: asOf}, reqs)
	if err != nil {
		t.Fatal(err)
	}
	type key struct{ p, a, r string }
	byKey := map[key]queries.Decision{}
	for _, d := range got {
		byKey[key{d.PrincipalARN, d.Action, d.Resource}] = d
	}
	for _, tc := range cases {
		d, ok := byKey[key{u(tc.principal), tc.action, tc.resource}]
		if !ok {
			t.Errorf("%s %s on %q: no decision", tc.principal, tc.action, tc.resource)
			continue
		}
		if d.Decision != tc.decision || d.Reason != tc.reason {
			t.Errorf("%s %s on %q: %s (%s), want %s (%s); allowed by %v, denied by %v, boundary %v",
				tc.principal, tc.action, tc.resource, d.Decision, d.Reason, tc.decision, tc.reason, d.AllowedBy, d.DeniedBy, d.BoundaryBy)
		}
	}
	// The deciding statements are named: the group's Deny.
	if d := byKey[key{u("grouped"), "iam:CreateAccessKey", "*"}]; len(d.DeniedBy) != 1 || d.DeniedBy[0] != "arn:aws:iam::"+evalAccount+":group/nokeys#inline/deny-keys#0" {
		t.Errorf("grouped iam:CreateAccessKey denied by %v, want the group's inline policy statement 0", d.DeniedBy)
	}
}
