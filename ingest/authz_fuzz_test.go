package ingest

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
)

// parseAuthzEntities is the part of loadAuthorizationDetails that reads the
// file: its entities with the rows each would add.
func parseAuthzEntities(body []byte) ([]authzEntity, int, error) {
	lists, _, err := decodeAuthorizationDetails(body)
	if err != nil {
		return nil, 0, err
	}
	p := newAuthzParse()
	parse := map[string]func(pos string, raw json.RawMessage) (authzEntity, error){
		"Policies": p.policy, "GroupDetailList": p.group, "RoleDetailList": p.role, "UserDetailList": p.user,
	}
	var entities []authzEntity
	total := 0
	for _, name := range authzLists {
		total += len(lists[name])
		for i, raw := range lists[name] {
			e, err := parse[name](fmt.Sprintf("%s[%d]", name, i), raw)
			if err != nil {
				return nil, 0, err
			}
			entities = append(entities, e)
		}
	}
	return entities, total, nil
}

// FuzzAuthorizationDetails reads arbitrary bodies as
// get-account-authorization-details output. It must not panic; the same body
// gives the same entities every time; an accepted file yields one entity per
// list item, each with its ARN, and statements that are Allow or Deny with
// a valid JSON condition.
func FuzzAuthorizationDetails(f *testing.F) {
	addFuzzSeeds(f, 10, filepath.Join("testdata/authz", "*.json"), filepath.Join(fuzzCorpus, "authz", "*", "*.json"))
	f.Add([]byte(`{"UserDetailList":[{"UserName":"a","Arn":"arn:aws:iam::111122223333:user/a","UserId":"AIDA","CreateDate":"2024-01-01T00:00:00Z","UserPolicyList":[{"PolicyName":"p","PolicyDocument":"%7B%22Statement%22%3A%5B%5D%7D"}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		entities, total, err := parseAuthzEntities(body)
		again, _, err2 := parseAuthzEntities(body)
		if (err == nil) != (err2 == nil) {
			t.Fatalf("accepted once and refused once: %v / %v", err, err2)
		}
		if err != nil {
			if err.Error() == "" {
				t.Fatal("refused without a reason")
			}
			return
		}
		if !reflect.DeepEqual(entities, again) {
			t.Fatal("the same file parsed twice differs")
		}
		if len(entities) != total {
			t.Fatalf("%d entities from %d list items", len(entities), total)
		}
		for _, e := range entities {
			if e.arn == "" || e.table == "" {
				t.Fatalf("entity without ARN or table: %+v", e)
			}
			for _, s := range e.rows.Statements {
				if s.Effect != "Allow" && s.Effect != "Deny" {
					t.Fatalf("%s: statement effect %q", e.arn, s.Effect)
				}
				if len(s.Condition) > 0 && !json.Valid(s.Condition) {
					t.Fatalf("%s: condition is not JSON: %s", e.arn, s.Condition)
				}
			}
		}
	})
}
