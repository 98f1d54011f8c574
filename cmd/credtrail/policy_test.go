package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestPolicy: a role that used s3:GetObject on one bucket and kms:Decrypt
// (which its policy grants) and sqs:SendMessage (which it does not) gets a
// policy of the two granted actions, scoped to the bucket where the calls
// named it; --all writes one file per principal with a name that is not a path.
func TestPolicy(t *testing.T) {
	dir := t.TempDir()
	caseDB := filepath.Join(dir, "case.duckdb")
	gaad := filepath.Join(dir, "gaad.json")
	os.WriteFile(gaad, []byte(`{"UserDetailList":[],"GroupDetailList":[],"Policies":[],"RoleDetailList":[
{"Path":"/app/../","RoleName":"reader","RoleId":"AROAREADER","Arn":"arn:aws:iam::111122223333:role/app/../reader","CreateDate":"2026-01-01T00:00:00Z",
 "AssumeRolePolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]},
 "RolePolicyList":[{"PolicyName":"read","PolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","kms:Decrypt","kms:Encrypt"],"Resource":"*"}]}}],
 "AttachedManagedPolicies":[],"InstanceProfileList":[],"RoleLastUsed":{}},
{"Path":"/","RoleName":"idle","RoleId":"AROAIDLE","Arn":"arn:aws:iam::111122223333:role/idle","CreateDate":"2026-01-01T00:00:00Z",
 "AssumeRolePolicyDocument":{"Version":"2012-10-17","Statement":[]},"RolePolicyList":[],"AttachedManagedPolicies":[],"InstanceProfileList":[],"RoleLastUsed":{}}]}`), 0o644)
	session := `"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/reader/i-1","accountId":"111122223333","sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::111122223333:role/app/../reader","accountId":"111122223333"}}}`
	// a role the authorization details lack (created after the export)
	ghost := `"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/ghost/s","accountId":"111122223333","sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::111122223333:role/ghost","accountId":"111122223333"}}}`
	trail := filepath.Join(dir, "trail.json")
	os.WriteFile(trail, []byte(`{"Records":[
{"eventID":"e1","eventTime":"2026-10-30T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","recipientAccountId":"111122223333","awsRegion":"eu-west-1",`+session+`,"resources":[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::data-bucket/k/1"},{"type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::data-bucket"}]},
{"eventID":"e2","eventTime":"2026-10-30T11:00:00Z","eventSource":"kms.amazonaws.com","eventName":"Decrypt","recipientAccountId":"111122223333","awsRegion":"eu-west-1",`+session+`},
{"eventID":"e3","eventTime":"2026-10-30T12:00:00Z","eventSource":"sqs.amazonaws.com","eventName":"SendMessage","recipientAccountId":"111122223333","awsRegion":"eu-west-1",`+session+`},
{"eventID":"e4","eventTime":"2026-10-30T13:00:00Z","eventSource":"sts.amazonaws.com","eventName":"GetCallerIdentity","recipientAccountId":"111122223333","awsRegion":"eu-west-1",`+session+`},
{"eventID":"e5","eventTime":"2026-10-30T14:00:00Z","eventSource":"sqs.amazonaws.com","eventName":"ReceiveMessage","recipientAccountId":"111122223333","awsRegion":"eu-west-1",`+ghost+`}]}`), 0o644)
	if code, _, errOut := runCLI(t, "ingest", caseDB, gaad, trail); code != exitOK {
		t.Fatal(errOut)
	}
	const reader = "arn:aws:iam::111122223333:role/app/../reader"
	if code, _, errOut := runCLI(t, "policy", caseDB, "--principal", reader); code != exitError || !strings.Contains(errOut, "credtrail analyze") {
		t.Errorf("policy before analyze: exit %d: %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, "analyze", caseDB); code != exitOK {
		t.Fatal(errOut)
	}
	code, out, errOut := runCLI(t, "policy", caseDB, "--principal", reader)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var pol struct {
		Version   string
		Statement []struct {
			Sid, Effect string
			Action      []string
			Resource    any
		}
	}
	if err := json.Unmarshal([]byte(out), &pol); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if pol.Version != "2012-10-17" || len(pol.Statement) != 2 {
		t.Fatalf("want 2 statements of version 2012-10-17:\n%s", out)
	}
	kms, s3 := pol.Statement[0], pol.Statement[1]
	if kms.Sid != "KmsAllResources" || !slices.Equal(kms.Action, []string{"kms:Decrypt"}) || kms.Resource != "*" {
		t.Errorf("kms statement: %+v", kms)
	}
	if s3.Sid != "S3Resources" || !slices.Equal(s3.Action, []string{"s3:GetObject"}) ||
		!slices.Equal(s3.Resource.([]any), []any{"arn:aws:s3:::data-bucket", "arn:aws:s3:::data-bucket/*"}) {
		t.Errorf("s3 statement: %+v", s3)
	}

	// A role CloudTrail shows but the authorization details lack: its
	// policy is its use alone, and stderr says so.
	code, out2, errOut := runCLI(t, "policy", caseDB, "--principal", "arn:aws:iam::111122223333:role/ghost")
	if code != exitOK || !strings.Contains(out2, `"sqs:ReceiveMessage"`) || !strings.Contains(errOut, "built from its use alone") {
		t.Errorf("policy of a role the export lacks: exit %d\n%s%s", code, out2, errOut)
	}

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"policy", caseDB, "--principal", "arn:aws:iam::111122223333:role/idle"}, exitError, "no CloudTrail activity"},
		{[]string{"policy", caseDB, "--principal", "arn:aws:iam::111122223333:role/none"}, exitError, "no user or role"},
		{[]string{"policy", caseDB}, exitUsage, "--principal"},
		{[]string{"policy", caseDB, "--all"}, exitUsage, "-o DIR"},
		{[]string{"policy", caseDB, "--all", "--principal", reader, "-o", dir}, exitUsage, "exclude"},
	} {
		if code, out, errOut := runCLI(t, tc.args...); code != tc.code || !strings.Contains(out+errOut, tc.want) {
			t.Errorf("%v: exit %d, want %d and %q: %s%s", tc.args, code, tc.code, tc.want, out, errOut)
		}
	}

	outDir := filepath.Join(dir, "policies")
	if code, _, errOut := runCLI(t, "policy", caseDB, "--all", "-o", outDir); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	entries, err := os.ReadDir(outDir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"111122223333_role_app_.._reader.json", "111122223333_role_ghost.json", "111122223333_role_ghost.notes.txt"}) {
		t.Fatalf("files: %v", names)
	}
	if b, _ := os.ReadFile(filepath.Join(outDir, names[2])); !strings.Contains(string(b), "built from its use alone") {
		t.Errorf("notes of the ghost role: %s", b)
	}
	b, _ := os.ReadFile(filepath.Join(outDir, names[0]))
	if string(b) != out {
		t.Errorf("file differs from --principal output:\n%s", b)
	}
}

// TestPolicyLeavesOutIncidentActivity: in the sample case an attacker's
// ops-admin session stops CloudTrail logging and downloads an archive
// bucket. The generated policy of ops-admin leaves those calls out, says on
// stderr which findings they back, and --include-incident-activity puts them back.
func TestPolicyLeavesOutIncidentActivity(t *testing.T) {
	dir := t.TempDir()
	if code, _, errOut := runCLI(t, "run", "-o", filepath.Join(dir, "case.xlsx"), "../../samples/case"); code != exitOK && code != exitFindings {
		t.Fatalf("run: exit %d\n%s", code, errOut)
	}
	caseDB := filepath.Join(dir, "case.duckdb")
	const opsAdmin = "arn:aws:iam::927587041124:role/ops-admin"
	actions := func(doc string) []string {
		t.Helper()
		var pol struct{ Statement []struct{ Action []string } }
		if err := json.Unmarshal([]byte(doc), &pol); err != nil {
			t.Fatalf("not a policy: %v\n%s", err, doc)
		}
		var all []string
		for _, st := range pol.Statement {
			all = append(all, st.Action...)
		}
		return all
	}
	code, out, errOut := runCLI(t, "policy", caseDB, "--principal", opsAdmin)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	got := actions(out)
	if slices.Contains(got, "cloudtrail:StopLogging") || slices.Contains(got, "s3:GetObject") || !slices.Contains(got, "cloudtrail:DescribeTrails") {
		t.Errorf("default policy of ops-admin allows %v", got)
	}
	for _, want := range []string{"left out of this policy", "cloudtrail_logging_tampering", "cloudtrail:StopLogging, 1 call(s): not in the policy",
		"s3_bulk_download", "s3:GetObject", "--include-incident-activity"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	code, out, errOut = runCLI(t, "policy", caseDB, "--principal", opsAdmin, "--include-incident-activity")
	if got := actions(out); code != exitOK || !slices.Contains(got, "cloudtrail:StopLogging") || !slices.Contains(got, "s3:GetObject") {
		t.Errorf("--include-incident-activity: exit %d, allows %v\n%s", code, got, errOut)
	}
	if !strings.Contains(errOut, "this policy includes") {
		t.Errorf("--include-incident-activity does not say it includes incident calls:\n%s", errOut)
	}
}
