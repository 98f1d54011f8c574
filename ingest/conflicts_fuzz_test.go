package ingest

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"
	"unicode/utf8"
)

// FuzzCanonicalJSON checks the canonical form of copies (conflicts.go)
// against encoding/json: for valid JSON it is valid JSON of the same value,
// its own canonical form, and the same for the value re-encoded by
// encoding/json; it is refused only for a repeated key, deep nesting, a
// lone surrogate escape, or text that is not UTF-8.
func FuzzCanonicalJSON(f *testing.F) {
	addFuzzSeeds(f, 20, "testdata/cloudtrail/shapes/*.json", filepath.Join(fuzzCorpus, "cloudtrail", "*", "*.json"))
	f.Add([]byte(`{"b":"\u00e9\n","a":[1,-2.5e3,true,null,{}]}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		if !json.Valid(in) || !utf8.Valid(in) || bytes.ContainsRune(in, utf8.RuneError) {
			return // refused by design: see canonicalJSON
		}
		got, err := canonicalJSON(in)
		if err != nil {
			if !bytes.Contains([]byte(err.Error()), []byte("repeated")) && err.Error() != "nested too deeply" &&
				err.Error() != "string with a replacement character" {
				t.Fatalf("valid JSON refused: %v", err)
			}
			return
		}
		var want, have any
		d := json.NewDecoder(bytes.NewReader(in))
		d.UseNumber()
		if err := d.Decode(&want); err != nil {
			t.Fatal(err)
		}
		d = json.NewDecoder(bytes.NewReader(got))
		d.UseNumber()
		if err := d.Decode(&have); err != nil {
			t.Fatalf("canonical form %q is not JSON: %v", got, err)
		}
		if !reflect.DeepEqual(want, have) {
			t.Fatalf("canonical form %q holds another value than %q", got, in)
		}
		if again, err := canonicalJSON(got); err != nil || !bytes.Equal(again, got) {
			t.Fatalf("canonical form of %q is not stable: %q, %v", got, again, err)
		}
		reencoded, _ := json.Marshal(want)
		if other, err := canonicalJSON(reencoded); err != nil || !bytes.Equal(other, got) {
			t.Fatalf("%q and its re-encoding %q differ in canonical form: %q, %v", in, reencoded, other, err)
		}
	})
}
