package ingest

import (
	"encoding/json"
	"net/url"
	"reflect"
	"testing"
)

// FuzzPolicyDocument parses arbitrary values as IAM policy documents. It must
// not panic; an accepted document has Allow or Deny statements and compact
// JSON; and the same document given as a JSON string or URL-encoded (as the
// IAM API returns it) parses to the same statements.
func FuzzPolicyDocument(f *testing.F) {
	for _, s := range []string{
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`,
		`{"Statement":{"Effect":"Deny","NotAction":["iam:*"],"NotResource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}}}`,
		`{"Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:root"],"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`,
		`{"Statement":[{"Sid":"","Effect":"Allow","Principal":"*","Action":[],"Resource":[]}]}`,
		`"%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D"`,
		`null`,
	} {
		f.Add([]byte(s))
	}
	addFuzzSeeds(f, 5, "testdata/authz/documents.json")
	f.Fuzz(func(t *testing.T, raw []byte) {
		doc, err := parsePolicyDocument(raw)
		if err != nil || doc == nil {
			return
		}
		if !json.Valid([]byte(doc.JSON)) {
			t.Fatalf("document JSON is not valid: %s", doc.JSON)
		}
		for i, s := range doc.Statements {
			if s.Effect != "Allow" && s.Effect != "Deny" {
				t.Fatalf("Statement[%d]: effect %q", i, s.Effect)
			}
			if s.Condition != "" && !json.Valid([]byte(s.Condition)) {
				t.Fatalf("Statement[%d]: condition %q", i, s.Condition)
			}
		}
		if len(raw) == 0 || raw[0] != '{' {
			return // the round trips below start from the object form
		}
		asString, _ := json.Marshal(string(raw))
		viaString, err := parsePolicyDocument(asString)
		if err != nil {
			t.Fatalf("document as a JSON string refused: %v", err)
		}
		if !reflect.DeepEqual(viaString.Statements, doc.Statements) {
			t.Fatalf("as a JSON string: %+v, want %+v", viaString.Statements, doc.Statements)
		}
		encoded, _ := json.Marshal(url.PathEscape(string(raw)))
		viaURL, err := parsePolicyDocument(encoded)
		if err != nil {
			t.Fatalf("URL-encoded document refused: %v", err)
		}
		if !reflect.DeepEqual(viaURL.Statements, doc.Statements) {
			t.Fatalf("URL-encoded: %+v, want %+v", viaURL.Statements, doc.Statements)
		}
	})
}
