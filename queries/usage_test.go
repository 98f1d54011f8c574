package queries_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/credtrail/credtrail/queries"
)

// usageCase ingests a txtar of evidence and runs the analysis on it.
func usageCase(t *testing.T, archive string, extra ...string) *sql.DB {
	t.Helper()
	ar, err := txtar.ParseFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	c := ingestCase(t, filepath.Join(dir, "case.duckdb"), append(writeEvidence(t, dir, ar.Files), extra...))
	if _, err := queries.Run(context.Background(), c.DB, queries.Params{}); err != nil {
		t.Fatal(err)
	}
	return c.DB
}

// TestPermissionUsage checks permission_usage row by row on one principal
// per rule of evaluation: wildcards (* and ?, any case), NotAction, an
// unconditional Deny (subtracts), a conditional one and one on a single
// resource (do not), a Deny with NotAction, a permissions boundary (cuts
// ec2:* down to ec2:Describe* and drops dynamodb), a conditional grant,
// a Deny NotAction that leaves a wider pattern standing but cuts it to its
// exceptions, a boundary with NotAction, ? against *, patterns that overlap
// without one holding the other, a wildcard service prefix, two NotAction
// statements alike, a boundary the export lacks (not applied), grants on
// some resources or under a Condition (kept in the generated policy), a
// principal without events (no_evidence), a cross-account call logged in
// both accounts (one call), refused calls (not use) and calls
// that need no permission (ignored).
func TestPermissionUsage(t *testing.T) {
	db := usageCase(t, filepath.Join("testdata", "_usage", "semantics.txtar"))
	got := queryLines(t, db, `select principal_arn.split('/')[-1], level, service, coalesce(pattern, '-'), status,
		array_to_string(used_actions, ','), calls, denied, coalesce(conditional::varchar, '-')
		from permission_usage order by all`)
	want := `
r-bmiss pattern s3 s3:* used s3:PutObject 1 0 false
r-bmiss pattern sqs sqs:SendMessage unused  0 0 false
r-bmiss service s3 - used s3:PutObject 1 0 false
r-bmiss service sqs - unused  0 0 false
r-bnot pattern s3 s3:* used s3:GetObject 1 0 false
r-bnot pattern s3 s3:DeleteBucket not_granted s3:DeleteBucket 1 0 -
r-bnot service s3 - used s3:DeleteBucket,s3:GetObject 2 0 false
r-bound pattern ec2 ec2:* (boundary: ec2:Describe*) used ec2:DescribeVolumes 1 0 false
r-bound pattern ec2 ec2:RunInstances not_granted ec2:RunInstances 1 0 -
r-bound pattern s3 s3:GetObject unused  0 0 false
r-bound service ec2 - used ec2:DescribeVolumes,ec2:RunInstances 2 0 false
r-bound service s3 - unused  0 0 false
r-cond pattern kms kms:Decrypt used kms:Decrypt 1 0 true
r-cond pattern kms kms:Encrypt unused  0 0 false
r-cond service kms - used kms:Decrypt 1 0 false
r-denied pattern sns sns:Publish used sns:Publish 1 0 false
r-denied service sns - used sns:Publish 1 0 false
r-idle pattern s3 s3:GetObject no_evidence  0 0 false
r-idle service s3 - no_evidence  0 0 false
r-notdeny pattern s3 s3:* used s3:GetObject 1 0 false
r-notdeny pattern s3 s3:PutObject not_granted s3:PutObject 1 0 -
r-notdeny pattern sqs sqs:SendMessage unused  0 0 false
r-notdeny service s3 - used s3:GetObject,s3:PutObject 2 0 false
r-notdeny service sqs - unused  0 0 false
r-overlap pattern s3 s3:Get* used s3:GetObject 1 0 false
r-overlap pattern s3 s3:GetBucketAcl not_granted s3:GetBucketAcl 1 0 -
r-overlap service s3 - used s3:GetBucketAcl,s3:GetObject 2 0 false
r-qmark pattern s3 s3:Get* used s3:GetObject 1 0 false
r-qmark service s3 - used s3:GetObject 1 0 false
r-scoped pattern ec2 ec2:RebootInstances used ec2:RebootInstances 1 0 false
r-scoped pattern ec2 ec2:StopInstances unused  0 0 true
r-scoped pattern ec2 ec2:TerminateInstances used ec2:TerminateInstances 1 0 true
r-scoped pattern s3 s3:GetObject used s3:GetObject 30 0 false
r-scoped pattern s3 s3:ListAllMyBuckets used s3:ListAllMyBuckets 1 0 false
r-scoped service ec2 - used ec2:RebootInstances,ec2:TerminateInstances 2 0 false
r-scoped service s3 - used s3:GetObject,s3:ListAllMyBuckets 31 0 false
r-svcwild pattern * S?:GetObject used s3:GetObject 1 0 false
r-svcwild service s3 - used s3:GetObject 1 0 false
r-twonot pattern * NotAction iam:*, s3:* used sqs:SendMessage 1 0 false
r-twonot service sqs - used sqs:SendMessage 1 0 false
u-notaction pattern * NotAction iam:* used ec2:DescribeInstances,sqs:SendMessage 2 0 false
u-notaction pattern iam iam:CreateUser not_granted iam:CreateUser 1 0 -
u-notaction pattern iam iam:List* used iam:ListUsers 1 0 false
u-notaction pattern s3 s3:GetObject not_granted s3:GetObject 1 0 -
u-notaction service ec2 - used ec2:DescribeInstances 1 0 false
u-notaction service iam - used iam:CreateUser,iam:ListUsers 2 0 false
u-notaction service s3 - not_granted s3:GetObject 1 0 -
u-notaction service sqs - used sqs:SendMessage 1 0 false
u-wild pattern ec2 ec2:Describe?nstances used ec2:DescribeInstances 1 0 false
u-wild pattern ec2 ec2:DescribeVolumes unused  0 1 false
u-wild pattern s3 S3:Get* used s3:GetObject 1 0 false
u-wild service ec2 - used ec2:DescribeInstances 1 1 false
u-wild service s3 - used s3:GetObject 1 0 false
`
	if strings.TrimSpace(got) != strings.TrimSpace(want) {
		t.Errorf("permission_usage:\n%s\nwant:\n%s", got, want)
	}
	// A boundary the export lacks is not applied, and the finding says so.
	if f := queryLines(t, db, `select detail from findings where rule_id = 'unused_services' and principal_arn like '%/r-bmiss'`); !strings.Contains(f,
		"granted but unused sqs; 50% of the granted services used; its permissions boundary arn:aws:iam::111122223333:policy/NotExported is not in the export, so it is not applied") {
		t.Errorf("unused_services of r-bmiss: %q", f)
	}
	// The statements' resources are carried along, not evaluated.
	if got := queryLines(t, db, `select pattern, resources from permission_usage where principal_arn like '%/r-scoped' and level = 'pattern' order by pattern`); got !=
		"ec2:RebootInstances [arn:aws:ec2:*:*:instance/*]\nec2:StopInstances [arn:aws:ec2:*:*:instance/*]\nec2:TerminateInstances [arn:aws:ec2:*:*:instance/*]\ns3:GetObject [*]\ns3:ListAllMyBuckets [*]\n" {
		t.Errorf("resources of r-scoped's patterns:\n%s", got)
	}
	// One row per principal, level, service and pattern.
	if dup := queryLines(t, db, `select principal_arn, level, service, pattern from permission_usage group by all having count(*) > 1`); dup != "" {
		t.Errorf("rows twice in permission_usage:\n%s", dup)
	}
	// The generated policies hold the granted actions used, nothing else.
	pols := queryLines(t, db, `select principal_arn.split('/')[-1], actions, policy::varchar from generated_policies where not incident_activity order by all`)
	wantPols := `
r-bmiss 1 {"Version":"2012-10-17","Statement":[{"Sid":"S3AllResources","Effect":"Allow","Action":["s3:PutObject"],"Resource":"*"}]}
r-bnot 1 {"Version":"2012-10-17","Statement":[{"Sid":"S3AllResources","Effect":"Allow","Action":["s3:GetObject"],"Resource":"*"}]}
r-bound 1 {"Version":"2012-10-17","Statement":[{"Sid":"Ec2AllResources","Effect":"Allow","Action":["ec2:DescribeVolumes"],"Resource":"*"}]}
r-cond 1 {"Version":"2012-10-17","Statement":[{"Sid":"KmsAsGranted","Effect":"Allow","Action":["kms:Decrypt"],"Resource":["*"],"Condition":{"StringEquals":{"kms:ViaService":"s3.eu-west-1.amazonaws.com"}}}]}
r-denied 1 {"Version":"2012-10-17","Statement":[{"Sid":"SnsAllResources","Effect":"Allow","Action":["sns:Publish"],"Resource":"*"}]}
r-notdeny 1 {"Version":"2012-10-17","Statement":[{"Sid":"S3AllResources","Effect":"Allow","Action":["s3:GetObject"],"Resource":"*"}]}
r-overlap 1 {"Version":"2012-10-17","Statement":[{"Sid":"S3AllResources","Effect":"Allow","Action":["s3:GetObject"],"Resource":"*"}]}
r-qmark 1 {"Version":"2012-10-17","Statement":[{"Sid":"S3AllResources","Effect":"Allow","Action":["s3:GetObject"],"Resource":"*"}]}
r-scoped 4 {"Version":"2012-10-17","Statement":[{"Sid":"Ec2AsGranted","Effect":"Allow","Action":["ec2:TerminateInstances"],"Resource":["arn:aws:ec2:*:*:instance/*"],"Condition":{"StringEquals":{"aws:ResourceTag/env":"dev"}}},{"Sid":"Ec2AsGranted2","Effect":"Allow","Action":["ec2:RebootInstances"],"Resource":["arn:aws:ec2:*:*:instance/*"]},{"Sid":"S3AllResources","Effect":"Allow","Action":["s3:GetObject","s3:ListAllMyBuckets"],"Resource":"*"}]}
r-svcwild 1 {"Version":"2012-10-17","Statement":[{"Sid":"S3AllResources","Effect":"Allow","Action":["s3:GetObject"],"Resource":"*"}]}
r-twonot 1 {"Version":"2012-10-17","Statement":[{"Sid":"SqsAllResources","Effect":"Allow","Action":["sqs:SendMessage"],"Resource":"*"}]}
u-notaction 3 {"Version":"2012-10-17","Statement":[{"Sid":"Ec2AllResources","Effect":"Allow","Action":["ec2:DescribeInstances"],"Resource":"*"},{"Sid":"IamAllResources","Effect":"Allow","Action":["iam:ListUsers"],"Resource":"*"},{"Sid":"SqsAllResources","Effect":"Allow","Action":["sqs:SendMessage"],"Resource":"*"}]}
u-wild 2 {"Version":"2012-10-17","Statement":[{"Sid":"Ec2AllResources","Effect":"Allow","Action":["ec2:DescribeInstances"],"Resource":"*"},{"Sid":"S3AllResources","Effect":"Allow","Action":["s3:GetObject"],"Resource":"*"}]}
`
	if strings.TrimSpace(pols) != strings.TrimSpace(wantPols) {
		t.Errorf("generated_policies:\n%s\nwant:\n%s", pols, wantPols)
	}
}

// queryLines runs query and returns its rows, one line each, values separated by spaces.
func queryLines(t *testing.T, db *sql.DB, query string, args ...any) string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			if i > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprint(&b, v)
		}
		b.WriteByte('\n')
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestPermissionUsageWithCatalog: with the action catalog (ingest's fixture
// of s3, ec2, iam and sts), patterns count the exact actions they grant and
// a grant of every service lists each catalog service it covers.
func TestPermissionUsageWithCatalog(t *testing.T) {
	var docs []string
	for _, f := range []string{"s3.json", "ec2.json", "iam.json", "sts.json", "service-list.json"} {
		docs = append(docs, filepath.Join("..", "ingest", "testdata", "catalog", f))
	}
	db := usageCase(t, filepath.Join("testdata", "_usage", "semantics.txtar"), docs...)
	got := queryLines(t, db, `select principal_arn.split('/')[-1], level, service, coalesce(pattern, '-'), status, granted_actions
		from permission_usage where principal_arn similar to '.*(u-wild|u-notaction|r-bound)' and granted order by all`)
	want := `
r-bound pattern ec2 ec2:* (boundary: ec2:Describe*) used 5
r-bound pattern s3 s3:GetObject unused 1
r-bound service ec2 - used 5
r-bound service s3 - unused 1
u-notaction pattern * NotAction iam:* used 13
u-notaction pattern iam iam:List* used 3
u-notaction service ec2 - used 10
u-notaction service iam - used 3
u-notaction service sqs - used <nil>
u-notaction service sts - unused 3
u-wild pattern ec2 ec2:Describe?nstances used 1
u-wild pattern ec2 ec2:DescribeVolumes unused 1
u-wild pattern s3 S3:Get* used 5
u-wild service ec2 - used 2
u-wild service s3 - used 5
`
	if strings.TrimSpace(got) != strings.TrimSpace(want) {
		t.Errorf("permission_usage with a catalog:\n%s\nwant:\n%s", got, want)
	}
	// The grant of every service but iam now lists the one it never uses.
	f := queryLines(t, db, `select detail from findings where rule_id = 'unused_services' and principal_arn like '%u-notaction'`)
	if !strings.HasPrefix(f, "granted 4 services, used 4 in the window (calls without error): used ec2, iam, s3, sqs; granted but unused sts; 75% of the granted services used; with the action catalog: grants 16 actions, used 3; the window covers 1 day,") {
		t.Errorf("unused_services of u-notaction: %s", f)
	}
}
