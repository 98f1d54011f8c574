package ingest

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func sp(s string) *string { return &s }

func TestPolicyDocumentEncodings(t *testing.T) {
	const object = `{"Version":"2012-10-17","Statement":[{"Sid":"S3 read","Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"arn:aws:s3:::b/*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`
	// As the IAM API returns it: RFC 3986 percent-encoding, spaces as %20.
	const urlEncoded = `"%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Sid%22%3A%22S3%20read%22%2C%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%5B%22s3%3AGet%2A%22%2C%22s3%3AList%2A%22%5D%2C%22Resource%22%3A%22arn%3Aaws%3As3%3A%3A%3Ab%2F%2A%22%2C%22Condition%22%3A%7B%22IpAddress%22%3A%7B%22aws%3ASourceIp%22%3A%2210.0.0.0%2F8%22%7D%7D%7D%5D%7D"`
	plainString, err := json.Marshal(object)
	if err != nil {
		t.Fatal(err)
	}
	want := []policyStatement{{
		Sid: sp("S3 read"), Effect: "Allow",
		Actions:   []string{"s3:Get*", "s3:List*"},
		Resources: []string{"arn:aws:s3:::b/*"},
		Condition: `{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`,
	}}
	for _, tc := range []struct {
		name string
		raw  string
	}{
		{"object", object},
		{"url-encoded string", urlEncoded},
		{"plain JSON string", string(plainString)},
		{"indented object", strings.ReplaceAll(object, ",", ",\n  ")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := parsePolicyDocument(json.RawMessage(tc.raw))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(doc.Statements, want) {
				t.Errorf("statements\n got %+v\nwant %+v", doc.Statements, want)
			}
			if doc.JSON != object {
				t.Errorf("document JSON\n got %s\nwant %s", doc.JSON, object)
			}
		})
	}
}

func TestPolicyStatementNormalisation(t *testing.T) {
	for _, tc := range []struct {
		name string
		doc  string
		want []policyStatement
	}{
		{
			name: "statement object",
			doc:  `{"Statement":{"Effect":"Deny","Action":["aws-portal:*","iam:*"],"Resource":"*"}}`,
			want: []policyStatement{{Effect: "Deny", Actions: []string{"aws-portal:*", "iam:*"}, Resources: []string{"*"}}},
		},
		{
			name: "statement list, string elements, empty and absent sid",
			doc:  `{"Statement":[{"Sid":"","Effect":"Allow","Action":"ec2:*","Resource":"*"},{"Effect":"Allow","Action":"s3:*","Resource":["a","b"]}]}`,
			want: []policyStatement{
				{Sid: sp(""), Effect: "Allow", Actions: []string{"ec2:*"}, Resources: []string{"*"}},
				{Effect: "Allow", Actions: []string{"s3:*"}, Resources: []string{"a", "b"}},
			},
		},
		{
			name: "NotAction and NotResource",
			doc:  `{"Statement":[{"Effect":"Deny","NotAction":["iam:*","sts:*"],"NotResource":"arn:aws:s3:::x"}]}`,
			want: []policyStatement{{Effect: "Deny", NotActions: []string{"iam:*", "sts:*"}, NotResources: []string{"arn:aws:s3:::x"}}},
		},
		{
			name: "empty list stays an empty list",
			doc:  `{"Statement":[{"Effect":"Allow","Action":[],"Resource":null}]}`,
			want: []policyStatement{{Effect: "Allow", Actions: []string{}}},
		},
		{
			name: "principal forms",
			doc: `{"Statement":[
				{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"},
				{"Effect":"Allow","Principal":{"Service":["ec2.amazonaws.com","lambda.amazonaws.com"],"AWS":"arn:aws:iam::1:root"},"Action":"sts:AssumeRole"},
				{"Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com","CanonicalUser":"79a5"},"Action":"sts:AssumeRoleWithWebIdentity"},
				{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::1:user/a"]},"Action":"sts:AssumeRole"}]}`,
			want: []policyStatement{
				{Effect: "Allow", Principals: []policyPrincipal{{"*", "*"}}, Actions: []string{"sts:AssumeRole"}},
				{Effect: "Allow", Principals: []policyPrincipal{{"AWS", "arn:aws:iam::1:root"}, {"Service", "ec2.amazonaws.com"}, {"Service", "lambda.amazonaws.com"}}, Actions: []string{"sts:AssumeRole"}},
				{Effect: "Allow", Principals: []policyPrincipal{{"Federated", "cognito-identity.amazonaws.com"}, {"CanonicalUser", "79a5"}}, Actions: []string{"sts:AssumeRoleWithWebIdentity"}},
				{Effect: "Deny", NotPrincipals: []policyPrincipal{{"AWS", "arn:aws:iam::1:user/a"}}, Actions: []string{"sts:AssumeRole"}},
			},
		},
		{
			name: "no statement",
			doc:  `{"Version":"2012-10-17"}`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := parsePolicyDocument(json.RawMessage(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(doc.Statements, tc.want) {
				t.Errorf("\n got %+v\nwant %+v", doc.Statements, tc.want)
			}
		})
	}
}

func TestPolicyDocumentErrors(t *testing.T) {
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"bad JSON in a string", `"{\"Statement\": [}"`, "invalid JSON at byte 16"},
		{"bad percent-encoding", `"%7B%ZZ"`, "invalid URL encoding"},
		{"decoded text is no object", `"%5B%5D"`, "not a JSON object: []"},
		{"number", `42`, "must be a JSON object or a string, not 42"},
		{"effect missing", `{"Statement":[{"Action":"s3:*"}]}`, "Statement[0]: Effect: missing"},
		{"effect misspelt", `{"Statement":{"Effect":"allow"}}`, `Statement: Effect: "allow" is neither Allow nor Deny`},
		{"action number", `{"Statement":[{"Effect":"Allow","Action":3}]}`, "Statement[0]: Action: must be a string or a list of strings, not 3"},
		{"resource list of numbers", `{"Statement":[{"Effect":"Allow","Resource":[1]}]}`, "Statement[0]: Resource: must be a string or a list of strings"},
		{"statement string", `{"Statement":"x"}`, `Statement: must be an object or a list of objects`},
		{"statement element", `{"Statement":[{"Effect":"Allow"},7]}`, "Statement[1]: must be an object, not 7"},
		{"principal string", `{"Statement":[{"Effect":"Allow","Principal":"arn:aws:iam::1:root"}]}`, `Statement[0]: Principal: a string principal must be "*"`},
		{"principal kind", `{"Statement":[{"Effect":"Allow","Principal":{"Aws":"x"}}]}`, `Statement[0]: Principal: unknown principal type "Aws"`},
		{"principal value", `{"Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":{"a":1}}}]}`, "Statement[0]: NotPrincipal: AWS: must be a string or a list of strings"},
		{"condition list", `{"Statement":[{"Effect":"Allow","Condition":[]}]}`, "Statement[0]: Condition: must be an object, not []"},
		{"not UTF-8", "{\"Statement\":{\"Effect\":\"Deny\",\"Condition\":{\"\":{\"\x86\":\"\"}}}}", "not valid UTF-8 at byte 48"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parsePolicyDocument(json.RawMessage(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestPolicyDocumentAbsent(t *testing.T) {
	for _, raw := range []string{``, `null`, ` null `} {
		doc, err := parsePolicyDocument(json.RawMessage(raw))
		if doc != nil || err != nil {
			t.Errorf("%q: got %v, %v; want nil, nil", raw, doc, err)
		}
	}
}
