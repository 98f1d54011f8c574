package ingest

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// authzFixture reads a file of testdata/authz.
func authzFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", "authz", name))
	if err != nil {
		tb.Fatal(err)
	}
	return body
}

func checkRows(tb testing.TB, db *sql.DB, want []string, q string, args ...any) {
	tb.Helper()
	got := dumpRows(tb, db, q, args...)
	if !reflect.DeepEqual(got, want) {
		tb.Errorf("%s\n got:\n\t%s\nwant:\n\t%s", q, strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

// authzTables are the tables authorization details fill.
var authzTables = []string{"iam_users", "iam_groups", "iam_roles", "iam_policies", "inline_policies",
	"group_members", "policy_attachments", "policy_statements", "role_trust"}

// authzRowCounts counts the rows of every authorization-details table.
func authzRowCounts(tb testing.TB, db *sql.DB) map[string]int64 {
	tb.Helper()
	counts := map[string]int64{}
	for _, table := range authzTables {
		counts[table] = queryInt(tb, db, "select count(*) from "+table)
	}
	return counts
}

// openAuthzCase opens a test case with list_text(l), which shows a list as
// [a, b] (NULL for NULL) whatever quoting DuckDB's own cast uses.
func openAuthzCase(tb testing.TB) *Case {
	tb.Helper()
	c := openTestCase(tb)
	if _, err := c.DB.Exec(`create macro list_text(l) as '[' || array_to_string(l, ', ') || ']'`); err != nil {
		tb.Fatal(err)
	}
	return c
}

const attachmentsQuery = `
	select principal_arn, principal_type, policy_ref, policy_name, inline, coalesce(via_group_arn, '-'), is_boundary
	from policy_attachments order by all`

func TestAuthzDocuments(t *testing.T) {
	c := openAuthzCase(t)
	st, err := loadBody(t, c, loadAuthorizationDetails, 7, authzFixture(t, "documents.json"))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("stats", func(t *testing.T) {
		if st.Records != 11 || st.Duplicates != 0 || st.AccountID != "111111111111" {
			t.Errorf("records %d, duplicates %d, account %q; want 11, 0, 111111111111", st.Records, st.Duplicates, st.AccountID)
		}
		if want := "no default version document for managed policies arn:aws:iam::111111111111:policy/no-default"; st.Note != want {
			t.Errorf("note %q, want %q", st.Note, want)
		}
	})
	t.Run("url-encoded, object and string documents give the same statements", func(t *testing.T) {
		want := []string{
			"0 |  | Allow | [s3:GetObject, s3:PutObject] | NULL | [arn:aws:s3:::team-bucket/*] | NULL | NULL",
			`1 | NULL | Deny | NULL | [s3:*] | NULL | [arn:aws:s3:::team-bucket, arn:aws:s3:::team-bucket/*] | {"Bool":{"aws:MultiFactorAuthPresent":"false"}}`,
		}
		for _, user := range []string{"enc", "obj", "str"} {
			checkRows(t, c.DB, want, `
				select statement_index, sid, effect, list_text(actions), list_text(not_actions), list_text(resources),
					list_text(not_resources), condition::varchar
				from policy_statements where policy_ref = ? order by statement_index`,
				"arn:aws:iam::111111111111:user/"+user+"#inline/p")
		}
		checkRows(t, c.DB, []string{"1"}, `
			select count(distinct document::varchar) from inline_policies
			where principal_arn like 'arn:aws:iam::111111111111:user/%' and policy_name = 'p'`)
	})
	t.Run("statement object", func(t *testing.T) {
		checkRows(t, c.DB, []string{
			"arn:aws:iam::111111111111:group/devs#inline/devs-inline | 0 | Allow | [cloudwatch:Get*] | [*]",
			"arn:aws:iam::aws:policy/ReadOnlyAccess | 0 | Allow | [ec2:Describe*, s3:List*] | [*]",
		}, `
			select policy_ref, statement_index, effect, list_text(actions), list_text(resources) from policy_statements
			where policy_ref in ('arn:aws:iam::111111111111:group/devs#inline/devs-inline', 'arn:aws:iam::aws:policy/ReadOnlyAccess')
			order by all`)
	})
	t.Run("default version only", func(t *testing.T) {
		checkRows(t, c.DB, []string{
			"arn:aws:iam::111111111111:policy/boundary | 111111111111 | false | v1 | 0 | 2 | caps what developers can do | [s3:*, logs:*]",
			"arn:aws:iam::111111111111:policy/named-default | 111111111111 | false | v3 | 0 | NULL | NULL | [sns:*]",
			"arn:aws:iam::111111111111:policy/no-default | 111111111111 | false | v9 | NULL | NULL | NULL | NULL",
			"arn:aws:iam::111111111111:policy/versioned | 111111111111 | false | v2 | 1 | NULL | NULL | [s3:ListBucket]",
			"arn:aws:iam::aws:policy/ReadOnlyAccess | NULL | true | v1 | 2 | 0 | NULL | [ec2:Describe*, s3:List*]",
		}, `
			select p.arn, p.account_id, p.aws_managed, p.default_version_id, p.attachment_count,
				p.boundary_usage_count, p.description, string_agg(list_text(s.actions), ' ')
			from iam_policies p left join policy_statements s on s.policy_ref = p.arn
			group by all order by p.arn`)
		checkRows(t, c.DB, []string{"s3:ListBucket | NULL"}, `
			select json_extract_string(document, '$.Statement[0].Action'), json_extract_string(document, '$.Statement[1]')
			from iam_policies where arn = 'arn:aws:iam::111111111111:policy/versioned'`)
	})
	t.Run("trust principals", func(t *testing.T) {
		checkRows(t, c.DB, []string{
			`arn:aws:iam::111111111111:role/service/trusting | 0 | anyone | Allow | * | * | false | [sts:AssumeRole] | NULL | {"StringEquals":{"sts:ExternalId":"x-123"}}`,
			"arn:aws:iam::111111111111:role/service/trusting | 1 | NULL | Allow | AWS | arn:aws:iam::222222222222:root | false | [sts:AssumeRole, sts:TagSession] | NULL | NULL",
			"arn:aws:iam::111111111111:role/service/trusting | 1 | NULL | Allow | AWS | arn:aws:iam::333333333333:role/ci | false | [sts:AssumeRole, sts:TagSession] | NULL | NULL",
			"arn:aws:iam::111111111111:role/service/trusting | 1 | NULL | Allow | Service | ec2.amazonaws.com | false | [sts:AssumeRole, sts:TagSession] | NULL | NULL",
			"arn:aws:iam::111111111111:role/service/trusting | 2 | NULL | Allow | Federated | arn:aws:iam::111111111111:saml-provider/okta | false | [sts:AssumeRoleWithSAML] | NULL | NULL",
			"arn:aws:iam::111111111111:role/service/trusting | 3 | NULL | Allow | CanonicalUser | 79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be | false | NULL | [sts:AssumeRoleWithWebIdentity] | NULL",
			"arn:aws:iam::111111111111:role/service/trusting | 4 | NULL | Deny | AWS | arn:aws:iam::111111111111:user/obj | true | [sts:AssumeRole] | NULL | NULL",
			"arn:aws:iam::111111111111:role/used | 0 | NULL | Allow | Service | lambda.amazonaws.com | false | [sts:AssumeRole] | NULL | NULL",
		}, `
			select role_arn, statement_index, sid, effect, principal_kind, principal_value, not_principal,
				list_text(actions), list_text(not_actions), condition::varchar
			from role_trust order by all`)
	})
	t.Run("roles", func(t *testing.T) {
		checkRows(t, c.DB, []string{
			"arn:aws:iam::111111111111:role/service/trusting | trusting | /service/ | 2019-12-18 19:10:08+00 | NULL | NULL | arn:aws:iam::111111111111:policy/boundary | [] | [] | *",
			"arn:aws:iam::111111111111:role/used | used | / | 2019-12-18 19:10:08+00 | 2023-03-09 10:41:45+00 | eu-west-1 | NULL | used | NULL | lambda.amazonaws.com",
		}, `
			select arn, role_name, path, create_date::varchar, role_last_used::varchar, role_last_used_region,
				permissions_boundary_arn, coalesce(json_extract_string(instance_profiles, '$[0].InstanceProfileName'), instance_profiles::varchar),
				tags::varchar, coalesce(json_extract_string(assume_role_policy, '$.Statement[0].Principal.Service'),
					json_extract_string(assume_role_policy, '$.Statement[0].Principal'))
			from iam_roles order by arn`)
	})
	t.Run("users and the three time spellings", func(t *testing.T) {
		checkRows(t, c.DB, []string{
			`arn:aws:iam::111111111111:user/enc | 111111111111 | enc | AIDAENC | 2021-03-13 18:40:54+00 | arn:aws:iam::111111111111:policy/boundary | [{"Key":"team","Value":"data"}] | 7`,
			"arn:aws:iam::111111111111:user/obj | 111111111111 | obj | AIDAOBJ | 2014-07-30 17:09:20+00 | NULL | NULL | 7",
			"arn:aws:iam::111111111111:user/str | 111111111111 | str | AIDASTR | 2023-03-09 10:41:45+00 | NULL | NULL | 7",
		}, `
			select arn, account_id, user_name, user_id, create_date::varchar, permissions_boundary_arn, tags::varchar, file_id
			from iam_users order by arn`)
	})
	t.Run("attachments: direct, through groups, boundaries", func(t *testing.T) {
		checkRows(t, c.DB, []string{
			"arn:aws:iam::111111111111:group/devs | group | arn:aws:iam::111111111111:group/devs#inline/devs-inline | devs-inline | true | - | false",
			"arn:aws:iam::111111111111:group/devs | group | arn:aws:iam::111111111111:policy/versioned | versioned | false | - | false",
			"arn:aws:iam::111111111111:role/service/trusting | role | arn:aws:iam::111111111111:policy/boundary | boundary | false | - | true",
			"arn:aws:iam::111111111111:role/service/trusting | role | arn:aws:iam::aws:policy/ReadOnlyAccess | ReadOnlyAccess | false | - | false",
			"arn:aws:iam::111111111111:role/used | role | arn:aws:iam::111111111111:role/used#inline/logs | logs | true | - | false",
			"arn:aws:iam::111111111111:user/enc | user | arn:aws:iam::111111111111:group/devs#inline/devs-inline | devs-inline | true | arn:aws:iam::111111111111:group/devs | false",
			"arn:aws:iam::111111111111:user/enc | user | arn:aws:iam::111111111111:policy/boundary | boundary | false | - | true",
			"arn:aws:iam::111111111111:user/enc | user | arn:aws:iam::111111111111:policy/versioned | versioned | false | arn:aws:iam::111111111111:group/devs | false",
			"arn:aws:iam::111111111111:user/enc | user | arn:aws:iam::111111111111:user/enc#inline/p | p | true | - | false",
			"arn:aws:iam::111111111111:user/obj | user | arn:aws:iam::111111111111:user/obj#inline/p | p | true | - | false",
			"arn:aws:iam::111111111111:user/obj | user | arn:aws:iam::aws:policy/ReadOnlyAccess | ReadOnlyAccess | false | - | false",
			"arn:aws:iam::111111111111:user/str | user | arn:aws:iam::111111111111:user/str#inline/p | p | true | - | false",
		}, attachmentsQuery)
	})
}

func TestAuthzPagesMerge(t *testing.T) {
	page1, page2 := authzFixture(t, "page-1.json"), authzFixture(t, "page-2.json")
	wantMembers := []string{
		"arn:aws:iam::222222222222:user/alice | arn:aws:iam::222222222222:group/dev | dev | true",
		"arn:aws:iam::222222222222:user/alice | arn:aws:iam::222222222222:group/eng/ops | ops | true",
		"arn:aws:iam::222222222222:user/bob | arn:aws:iam::222222222222:group/eng/ops | ops | true",
	}
	wantAttachments := []string{
		"arn:aws:iam::222222222222:group/dev | group | arn:aws:iam::222222222222:group/dev#inline/dev-inline | dev-inline | true | - | false",
		"arn:aws:iam::222222222222:group/dev | group | arn:aws:iam::aws:policy/ReadOnlyAccess | ReadOnlyAccess | false | - | false",
		"arn:aws:iam::222222222222:group/eng/ops | group | arn:aws:iam::222222222222:policy/ops-policy | ops-policy | false | - | false",
		"arn:aws:iam::222222222222:user/alice | user | arn:aws:iam::222222222222:group/dev#inline/dev-inline | dev-inline | true | arn:aws:iam::222222222222:group/dev | false",
		"arn:aws:iam::222222222222:user/alice | user | arn:aws:iam::222222222222:policy/ops-policy | ops-policy | false | arn:aws:iam::222222222222:group/eng/ops | false",
		"arn:aws:iam::222222222222:user/alice | user | arn:aws:iam::aws:policy/ReadOnlyAccess | ReadOnlyAccess | false | arn:aws:iam::222222222222:group/dev | false",
		"arn:aws:iam::222222222222:user/bob | user | arn:aws:iam::222222222222:policy/ops-policy | ops-policy | false | arn:aws:iam::222222222222:group/eng/ops | false",
	}
	const truncated = "IsTruncated: one page of a paginated export (Marker AAAAAgAAAAEXAMPLEmarker); load the other pages too"
	for _, tc := range []struct {
		name      string
		pages     [][]byte
		wantNotes []string
	}{
		{"user before its group", [][]byte{page1, page2}, []string{
			"GroupList names groups not in the case, ARNs assumed without a path until their details are loaded: arn:aws:iam::222222222222:group/ops; " + truncated,
			"resolved 1 group memberships left open by files loaded before",
		}},
		{"group before its user", [][]byte{page2, page1}, []string{"", truncated}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := openTestCase(t)
			for i, page := range tc.pages {
				st, err := loadBody(t, c, loadAuthorizationDetails, int64(i+1), page)
				if err != nil {
					t.Fatal(err)
				}
				if st.Note != tc.wantNotes[i] {
					t.Errorf("file %d: note %q, want %q", i+1, st.Note, tc.wantNotes[i])
				}
				if st.AccountID != "222222222222" || st.Duplicates != 0 {
					t.Errorf("file %d: account %q, duplicates %d", i+1, st.AccountID, st.Duplicates)
				}
			}
			checkRows(t, c.DB, wantMembers, "select user_arn, group_arn, group_name, group_resolved from group_members order by all")
			checkRows(t, c.DB, wantAttachments, attachmentsQuery)

			before := authzRowCounts(t, c.DB)
			for i, page := range tc.pages {
				st, err := loadBody(t, c, loadAuthorizationDetails, int64(10+i), page)
				if err != nil {
					t.Fatal(err)
				}
				if st.Records == 0 || st.Duplicates != st.Records {
					t.Errorf("page loaded again: records %d, duplicates %d; want all duplicates", st.Records, st.Duplicates)
				}
			}
			if after := authzRowCounts(t, c.DB); !reflect.DeepEqual(after, before) {
				t.Errorf("loading the pages again changed the row counts\nbefore %v\nafter  %v", before, after)
			}
			checkRows(t, c.DB, wantAttachments, attachmentsQuery)
		})
	}
}

func TestAuthzSingleObjectAttachedManagedPolicies(t *testing.T) {
	c := openTestCase(t)
	st, err := loadBody(t, c, loadAuthorizationDetails, 1, authzFixture(t, "cli-single-object.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := "AttachedManagedPolicies is one object instead of a list (the aws-cli documentation example's shape), read as a one-policy list in GroupDetailList[0] (arn:aws-us-gov:iam::333333333333:group/Admins)"
	if st.Note != want || st.AccountID != "333333333333" || st.Records != 3 {
		t.Errorf("note %q, account %q, records %d", st.Note, st.AccountID, st.Records)
	}
	checkRows(t, c.DB, []string{
		"arn:aws-us-gov:iam::333333333333:group/Admins | group | arn:aws-us-gov:iam::aws:policy/AdministratorAccess | AdministratorAccess | false | - | false",
		"arn:aws-us-gov:iam::333333333333:user/carol | user | arn:aws-us-gov:iam::aws:policy/AdministratorAccess | AdministratorAccess | false | arn:aws-us-gov:iam::333333333333:group/Admins | false",
	}, attachmentsQuery)
	checkRows(t, c.DB, []string{"NULL | true"}, "select account_id, aws_managed from iam_policies")
}

func TestAuthzErrors(t *testing.T) {
	c := openTestCase(t)
	const role = `{"RoleName":"x","Arn":"arn:aws:iam::111122223333:role/x","AssumeRolePolicyDocument":%s}`
	for _, tc := range []struct {
		name, body, want string
	}{
		{"bad JSON in a URL-encoded trust policy",
			`{"RoleDetailList":[` + fmt.Sprintf(role, `"%7B%22Statement%22%3A%5B%7D"`) + `]}`,
			"RoleDetailList[0] (arn:aws:iam::111122223333:role/x): AssumeRolePolicyDocument: invalid JSON at byte 15: invalid character '}'"},
		{"trust statement without effect",
			`{"RoleDetailList":[{"RoleName":"ok","Arn":"arn:aws:iam::111122223333:role/ok"},` + fmt.Sprintf(role, `{"Statement":[{"Principal":"*"}]}`) + `]}`,
			"RoleDetailList[1] (arn:aws:iam::111122223333:role/x): AssumeRolePolicyDocument: Statement[0]: Effect: missing"},
		{"bad inline policy",
			`{"UserDetailList":[{"UserName":"u","Arn":"arn:aws:iam::111122223333:user/u","UserPolicyList":[{"PolicyName":"p","PolicyDocument":{"Statement":{"Effect":"Allow","Action":7}}}]}]}`,
			"UserDetailList[0] (arn:aws:iam::111122223333:user/u): UserPolicyList[0] (p): PolicyDocument: Statement: Action: must be a string or a list of strings, not 7"},
		{"bad default version document, bad other version ignored",
			`{"Policies":[{"PolicyName":"p","Arn":"arn:aws:iam::111122223333:policy/p","DefaultVersionId":"v2","PolicyVersionList":[{"VersionId":"v1","Document":"%ZZ"},{"VersionId":"v2","IsDefaultVersion":true,"Document":"{]"}]}]}`,
			"Policies[0] (arn:aws:iam::111122223333:policy/p): PolicyVersionList[1] (v2): Document: invalid JSON at byte 2"}, // v1 is not in force: not read
		{"bad time",
			`{"GroupDetailList":[{"GroupName":"g","Arn":"arn:aws:iam::111122223333:group/g","CreateDate":"14/10/2013"}]}`,
			`GroupDetailList[0] (arn:aws:iam::111122223333:group/g): CreateDate: invalid time "14/10/2013"`},
		{"role ARN in the user list",
			`{"UserDetailList":[{"UserName":"x","Arn":"arn:aws:iam::111122223333:role/x"}]}`,
			`UserDetailList[0] (arn:aws:iam::111122223333:role/x): Arn: "arn:aws:iam::111122223333:role/x" is not a user ARN`},
		{"missing ARN", `{"Policies":[{"PolicyName":"p"}]}`, "Policies[0]: Arn: missing"},
		{"wrong field type",
			`{"UserDetailList":[{"UserName":"x","Arn":"arn:aws:iam::111122223333:user/x","GroupList":"admins"}]}`,
			"UserDetailList[0] (arn:aws:iam::111122223333:user/x): json: cannot unmarshal string into Go struct field"},
		{"entity not an object", `{"Policies":[[]]}`, "Policies[0]: must be an object, not []"},
		{"list not a list", `{"UserDetailList":{"UserName":"x"}}`, `UserDetailList: must be a list, not {"UserName":"x"}`},
		{"array", `[{"ManagedPolicies":[]}]`, "not authorization details: the top level is not a JSON object"},
		{"no lists", `{"IsTruncated":false}`, "not authorization details: none of UserDetailList, GroupDetailList, RoleDetailList, Policies"},
		{"invalid JSON", "{\n  \"Policies\": [,]\n}", "line 2, column 16: invalid JSON: invalid character ','"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadBody(t, c, loadAuthorizationDetails, 1, []byte(tc.body))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v\nwant one containing %q", err, tc.want)
			}
			for table, n := range authzRowCounts(t, c.DB) {
				if n != 0 {
					t.Errorf("%s has %d rows after a rejected file", table, n)
				}
			}
		})
	}
}

func TestAuthzEmptyListsLoadNothing(t *testing.T) {
	c := openTestCase(t)
	st, err := loadBody(t, c, loadAuthorizationDetails, 1,
		[]byte(`{"UserDetailList":[],"GroupDetailList":[],"RoleDetailList":[],"Policies":[],"IsTruncated":false}`))
	if err != nil || st.Records != 0 || st.AccountID != "" || st.Note != "" {
		t.Fatalf("got %+v, %v", st, err)
	}
}

// authzManifestEntry is a GAAD file listed in corpus/MANIFEST.tsv with its
// entity counts, from a kind like authz{U=44,G=5,R=78,P=84}.
type authzManifestEntry struct {
	Path       string
	U, G, R, P int64
}

var authzKindPattern = regexp.MustCompile(`^authz\{U=(\d+),G=(\d+),R=(\d+),P=(\d+)\}$`)

func authzManifest(tb testing.TB, corpus string) []authzManifestEntry {
	tb.Helper()
	var out []authzManifestEntry
	for path, e := range readManifest(tb, corpus) {
		m := authzKindPattern.FindStringSubmatch(e.kind)
		if m == nil {
			continue
		}
		n := make([]int64, 4)
		for i := range n {
			n[i], _ = strconv.ParseInt(m[i+1], 10, 64)
		}
		out = append(out, authzManifestEntry{Path: path, U: n[0], G: n[1], R: n[2], P: n[3]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

func TestAuthzCorpus(t *testing.T) {
	corpus := corpusDir(t)
	entries := authzManifest(t, corpus)
	if len(entries) != 8 {
		t.Fatalf("MANIFEST.tsv lists %d authz files, want 8", len(entries))
	}
	all := openTestCase(t) // every file into one case, as an analyst would
	var records, duplicates int64
	// cloudmapper's demo export puts users and a group in account "aws",
	// which no real export does: loaded, it would be a fake account.
	const fakeAccount = "authz/cloudmapper/iam-get-account-authorization-details.json"
	for i, e := range entries {
		body, err := os.ReadFile(filepath.Join(corpus, e.Path))
		if err != nil {
			t.Fatal(err)
		}
		if e.Path == fakeAccount {
			if _, err := loadBody(t, openTestCase(t), loadAuthorizationDetails, 1, body); err == nil || !strings.Contains(err.Error(), `account id "aws" is not 12 digits`) {
				t.Errorf("%s: error %v, want the fake account named", e.Path, err)
			}
			continue
		}
		t.Run(e.Path, func(t *testing.T) {
			c := openTestCase(t)
			st, err := loadBody(t, c, loadAuthorizationDetails, 1, body)
			if err != nil {
				t.Fatal(err)
			}
			if want := e.U + e.G + e.R + e.P; st.Records != want || st.Duplicates != 0 {
				t.Errorf("records %d, duplicates %d; want %d, 0", st.Records, st.Duplicates, want)
			}
			for _, table := range []struct {
				name string
				want int64
			}{{"iam_users", e.U}, {"iam_groups", e.G}, {"iam_roles", e.R}, {"iam_policies", e.P}} {
				if got := queryInt(t, c.DB, "select count(*) from "+table.name); got != table.want {
					t.Errorf("%s: %d rows, manifest says %d", table.name, got, table.want)
				}
			}
			if st.AccountID == "" && e.U+e.G+e.R > 0 {
				t.Errorf("no account id")
			}
			if n := queryInt(t, c.DB, "select count(*) from group_members where not group_resolved"); n != 0 {
				t.Errorf("%d group memberships unresolved", n)
			}
			if n := queryInt(t, c.DB, `select (select count(*) from iam_users where create_date is null)
				+ (select count(*) from iam_roles where create_date is null)`); n != 0 {
				t.Errorf("%d users and roles without a creation date", n)
			}
			t.Logf("account %s, note %q", st.AccountID, st.Note)
		})
		st, err := loadBody(t, all, loadAuthorizationDetails, int64(i+1), body)
		if err != nil {
			t.Fatalf("%s into the shared case: %v", e.Path, err)
		}
		records += st.Records
		duplicates += st.Duplicates
	}
	t.Run("awscli example", func(t *testing.T) {
		body, err := os.ReadFile(filepath.Join(corpus, "authz/awscli-example/get-account-authorization-details.json"))
		if err != nil {
			t.Fatal(err)
		}
		c := openAuthzCase(t)
		st, err := loadBody(t, c, loadAuthorizationDetails, 1, body)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(st.Note, "AttachedManagedPolicies is one object") || !strings.Contains(st.Note, "IsTruncated") {
			t.Errorf("note %q", st.Note)
		}
		checkRows(t, c.DB, []string{
			"arn:aws:iam::123456789012:user/Alice | arn:aws:iam::aws:policy/AdministratorAccess | arn:aws:iam::123456789012:group/Admins",
			"arn:aws:iam::123456789012:user/Bob | arn:aws:iam::123456789012:user/Bob#inline/DenyBillingAndIAMPolicy | -",
			"arn:aws:iam::123456789012:user/Bob | arn:aws:iam::aws:policy/AdministratorAccess | arn:aws:iam::123456789012:group/Admins",
			"arn:aws:iam::123456789012:user/Charlie | arn:aws:iam::aws:policy/PowerUserAccess | arn:aws:iam::123456789012:group/Dev",
		}, `select principal_arn, policy_ref, coalesce(via_group_arn, '-') from policy_attachments
			where principal_type = 'user' order by all`)
		checkRows(t, c.DB, []string{"Deny | [aws-portal:*, iam:*] | [*]"}, `
			select effect, list_text(actions), list_text(resources) from policy_statements
			where policy_ref = 'arn:aws:iam::123456789012:user/Bob#inline/DenyBillingAndIAMPolicy'`)
	})
	t.Run("cloudsplaining findings array is not authorization details", func(t *testing.T) {
		body, err := os.ReadFile(filepath.Join(corpus,
			"authz/cloudsplaining/test_files_scanning_test_authorization_file_details_missing_constraints_v2.json"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = loadBody(t, openTestCase(t), loadAuthorizationDetails, 1, body)
		if err == nil || !strings.Contains(err.Error(), "not authorization details") {
			t.Fatalf("error %v", err)
		}
	})
	entities := queryInt(t, all.DB, `select (select count(*) from iam_users) + (select count(*) from iam_groups)
		+ (select count(*) from iam_roles) + (select count(*) from iam_policies)`)
	if entities != records-duplicates {
		t.Errorf("shared case: %d entities, want records %d - duplicates %d", entities, records, duplicates)
	}
}
