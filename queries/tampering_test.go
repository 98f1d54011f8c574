package queries

import (
	"regexp"
	"strings"
	"testing"
)

// is_tampering tests the call names first, in a list_contains the scan of
// events runs; a call added to the pairs or conditions after it but not to
// that list would never be reported.
func TestTamperingNamesListed(t *testing.T) {
	var macro string
	for _, m := range macros {
		if strings.Contains(m, "temp macro is_tampering(") {
			macro = m
		}
	}
	listed, rest, ok := strings.Cut(macro, "], event_name)")
	if !ok {
		t.Fatalf("is_tampering does not start with list_contains([...], event_name):\n%s", macro)
	}
	names := map[string]bool{}
	for _, m := range regexp.MustCompile(`'([A-Za-z]+)'`).FindAllStringSubmatch(listed, -1) {
		names[m[1]] = true
	}
	used := regexp.MustCompile(`\('[a-z0-9.-]+', '([A-Za-z]+)'\)|event_name = '([A-Za-z]+)'`).FindAllStringSubmatch(rest, -1)
	if len(used) < 20 {
		t.Fatalf("found only %d calls in is_tampering's pairs and conditions", len(used))
	}
	for _, m := range used {
		if name := m[1] + m[2]; !names[name] {
			t.Errorf("is_tampering tests %s but its list_contains does not name it", name)
		}
	}
}
