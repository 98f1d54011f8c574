package queries_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/credtrail/credtrail/queries"
)

// TestEscalationMethodTable: the method table parses, names each public
// catalogue's methods, and every method has a fixture below.
func TestEscalationMethodTable(t *testing.T) {
	methods, err := queries.EscalationMethods()
	if err != nil {
		t.Fatal(err)
	}
	sources := map[string]int{}
	for _, m := range methods {
		for _, s := range m.Sources {
			sources[s]++
		}
	}
	// Rhino Security Labs' 21 methods (Lambda with DynamoDB counted once),
	// cloudsplaining's 59 and PMapper's edge kinds.
	if sources["rhino"] != 21 || sources["cloudsplaining"] != 59 || sources["pmapper"] < 20 {
		t.Errorf("methods per source: %v, want rhino 21, cloudsplaining 59, pmapper at least 20", sources)
	}
}

// escalationCase builds authorization details in which, for each method of
// the table, a principal m-N holds exactly the actions the method needs
// (on "*") and x-N all of them but the last, next to what the methods act
// on: an administrator user, an administrator group, an administrator role
// trusted by every service of the table (with an instance profile) and by
// the account, and for the methods that rewrite a target role, a plain
// role the account trusts.
func escalationCase(t *testing.T, methods []queries.EscalationMethod) string {
	t.Helper()
	const acct = "111122223333"
	arn := func(kind, name string) string { return "arn:aws:iam::" + acct + ":" + kind + "/" + name }
	doc := func(statements ...any) map[string]any {
		return map[string]any{"Version": "2012-10-17", "Statement": statements}
	}
	managed := func(name string, d map[string]any) map[string]any {
		return map[string]any{"PolicyName": name, "PolicyId": "ANPA" + strings.ToUpper(strings.ReplaceAll(name, "-", "")),
			"Arn": arn("policy", name), "Path": "/", "DefaultVersionId": "v1", "AttachmentCount": 1, "IsAttachable": true,
			"CreateDate": "2025-01-01T00:00:00Z", "UpdateDate": "2025-01-01T00:00:00Z",
			"PolicyVersionList": []any{map[string]any{"VersionId": "v1", "IsDefaultVersion": true, "CreateDate": "2025-01-01T00:00:00Z", "Document": d}}}
	}
	attached := func(name string) []any {
		return []any{map[string]any{"PolicyName": name, "PolicyArn": arn("policy", name)}}
	}
	admin := []any{map[string]any{"PolicyName": "AdministratorAccess", "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}}
	trust := func(principal map[string]any) map[string]any {
		return doc(map[string]any{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"})
	}
	var services []string
	for _, m := range methods {
		if m.Service != "" && !slices.Contains(services, m.Service) {
			services = append(services, m.Service)
		}
	}
	users := []any{map[string]any{"Path": "/", "UserName": "admin-user", "UserId": "AIDAADMIN", "Arn": arn("user", "admin-user"),
		"CreateDate": "2025-01-01T00:00:00Z", "GroupList": []any{}, "AttachedManagedPolicies": admin, "UserPolicyList": []any{}}}
	groups := []any{map[string]any{"Path": "/", "GroupName": "admins", "GroupId": "AGPAADMINS", "Arn": arn("group", "admins"),
		"CreateDate": "2025-01-01T00:00:00Z", "AttachedManagedPolicies": admin, "GroupPolicyList": []any{}}}
	roles := []any{map[string]any{"Path": "/", "RoleName": "compute-admin", "RoleId": "AROACOMPUTE", "Arn": arn("role", "compute-admin"),
		"CreateDate": "2025-01-01T00:00:00Z",
		"AssumeRolePolicyDocument": doc(
			map[string]any{"Effect": "Allow", "Principal": map[string]any{"Service": services}, "Action": "sts:AssumeRole"},
			map[string]any{"Effect": "Allow", "Principal": map[string]any{"AWS": "arn:aws:iam::" + acct + ":root"}, "Action": "sts:AssumeRole"}),
		"InstanceProfileList":     []any{map[string]any{"InstanceProfileName": "compute-admin", "Arn": arn("instance-profile", "compute-admin"), "Path": "/", "Roles": []any{}}},
		"AttachedManagedPolicies": admin, "RolePolicyList": []any{}}}
	policies := []any{managed("plain", doc(map[string]any{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}))}
	adminPolicy := managed("AdministratorAccess", doc(map[string]any{"Effect": "Allow", "Action": "*", "Resource": "*"}))
	adminPolicy["Arn"] = "arn:aws:iam::aws:policy/AdministratorAccess"
	policies = append(policies, adminPolicy)
	for i, m := range methods {
		for _, variant := range []string{"m", "x"} {
			name := fmt.Sprintf("%s-%d", variant, i)
			var actions []string
			for _, r := range m.Requires {
				actions = append(actions, r.Action)
			}
			if variant == "x" {
				actions = actions[:len(actions)-1]
				if len(actions) == 0 {
					continue
				}
			}
			// the caller's grant is a customer-managed policy attached to it:
			// the policy a CreatePolicyVersion method rewrites
			policies = append(policies, managed("grant-"+name, doc(map[string]any{"Effect": "Allow", "Action": actions, "Resource": "*"})))
			if m.Caller == "role" {
				roles = append(roles, map[string]any{"Path": "/", "RoleName": name, "RoleId": "AROA" + name, "Arn": arn("role", name),
					"CreateDate": "2025-01-01T00:00:00Z", "AssumeRolePolicyDocument": trust(map[string]any{"Service": "ec2.amazonaws.com"}),
					"AttachedManagedPolicies": attached("grant-" + name), "RolePolicyList": []any{}})
			} else {
				group := "grp-" + name
				groups = append(groups, map[string]any{"Path": "/", "GroupName": group, "GroupId": "AGPA" + name, "Arn": arn("group", group),
					"CreateDate": "2025-01-01T00:00:00Z", "AttachedManagedPolicies": []any{}, "GroupPolicyList": []any{}})
				users = append(users, map[string]any{"Path": "/", "UserName": name, "UserId": "AIDA" + name, "Arn": arn("user", name),
					"CreateDate": "2025-01-01T00:00:00Z", "GroupList": []any{group}, "AttachedManagedPolicies": attached("grant-" + name),
					"UserPolicyList": []any{}})
			}
			if m.Target == "role" && m.Gains == "admin" {
				// a plain role the account's principals may assume when their
				// policies allow it, with a customer-managed policy
				roles = append(roles, map[string]any{"Path": "/", "RoleName": "t-" + name, "RoleId": "AROAT" + name, "Arn": arn("role", "t-"+name),
					"CreateDate": "2025-01-01T00:00:00Z", "AssumeRolePolicyDocument": trust(map[string]any{"AWS": "arn:aws:iam::" + acct + ":root"}),
					"AttachedManagedPolicies": attached("plain"), "RolePolicyList": []any{}})
			}
		}
	}
	b, err := json.Marshal(map[string]any{"UserDetailList": users, "GroupDetailList": groups, "RoleDetailList": roles, "Policies": policies})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "gaad.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestEscalationMethods: each method of the table is found when a
// principal holds exactly its actions, and not when one is missing.
func TestEscalationMethods(t *testing.T) {
	methods, err := queries.EscalationMethods()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	c := ingestCase(t, filepath.Join(dir, "case.duckdb"), []string{escalationCase(t, methods)})
	ctx := context.Background()
	if _, err := queries.Run(ctx, c.DB, queries.Params{Rules: []string{"privilege_escalation_possible"}}); err != nil {
		t.Fatal(err)
	}
	rows, err := c.DB.QueryContext(ctx, `select regexp_extract(principal_arn, '[^/]+$'), evidence->>'escalations' from findings`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	found := map[string][]string{}
	for rows.Next() {
		var name, list string
		if err := rows.Scan(&name, &list); err != nil {
			t.Fatal(err)
		}
		var l []string
		if err := json.Unmarshal([]byte(list), &l); err != nil {
			t.Fatal(err)
		}
		found[name] = l
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for i, m := range methods {
		if got := found[fmt.Sprintf("m-%d", i)]; !slices.Contains(got, m.Method) {
			t.Errorf("%s: a principal with exactly its actions is not found to use it (found %v)", m.Method, got)
		}
		if got := found[fmt.Sprintf("x-%d", i)]; slices.Contains(got, m.Method) {
			t.Errorf("%s: found for a principal that lacks %s", m.Method, m.Requires[len(m.Requires)-1].Action)
		}
	}
}
