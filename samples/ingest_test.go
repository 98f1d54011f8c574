package samples_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/credtrail/credtrail/ingest"
)

// TestCommittedCaseIngests loads the committed sample case through the
// ingester: every file must load, and every piece of evidence expected.json
// names must be in the case where an analysis will look for it.
func TestCommittedCaseIngests(t *testing.T) {
	ctx := context.Background()
	c, err := ingest.Open(ctx, filepath.Join(t.TempDir(), "case.duckdb"), ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	outcomes, err := c.Ingest(ctx, []string{filepath.Join("case", "AWSLogs"), filepath.Join("case", "iam")}, ingest.IngestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, o := range outcomes {
		if o.Status == ingest.StatusRejected {
			t.Errorf("%s rejected: %s", o.Path, o.Error)
		}
		kinds[o.Kind]++
	}
	for _, k := range []string{ingest.KindCloudTrail, ingest.KindDigest, ingest.KindCredentialRpt, ingest.KindAuthorization} {
		if kinds[k] == 0 {
			t.Errorf("no %s file in the sample case", k)
		}
	}
	var facts []struct {
		Fact, Category, Subject string
		Evidence                []string
	}
	body, err := os.ReadFile(filepath.Join("case", "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(body, &facts); err != nil {
		t.Fatal(err)
	}
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := c.DB.QueryRow(q, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	report := regexp.MustCompile(`^credential_report:account=(\d+):user=([^:]+)(?::access_key_(\d))?$`)
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	checked := 0
	for _, f := range facts {
		for _, e := range f.Evidence {
			checked++
			switch {
			case uuid.MatchString(e):
				if count("select count(*) from events where event_id = ?", e) != 1 {
					t.Errorf("%s: event %s not in the case", f.Fact, e)
				}
			case report.MatchString(e):
				m := report.FindStringSubmatch(e)
				if m[3] == "" {
					if count("select count(*) from credential_report where account_id = ? and user_name = ?", m[1], m[2]) != 1 {
						t.Errorf("%s: %s not in the current credential report", f.Fact, e)
					}
				} else if count("select count(*) from access_keys where account_id = ? and user_name = ? and slot = ?", m[1], m[2], m[3]) != 1 {
					t.Errorf("%s: %s: no such access key", f.Fact, e)
				}
			case strings.HasPrefix(e, "authorization_details:"):
				ref := strings.TrimPrefix(e, "authorization_details:")
				n := count(`select count(*) from (
					select arn from iam_users union all select arn from iam_groups union all
					select arn from iam_roles union all select arn from iam_policies union all
					select policy_ref from inline_policies) where arn = ?`, ref)
				if n != 1 {
					t.Errorf("%s: %s not in the authorization details", f.Fact, ref)
				}
			default:
				t.Errorf("%s: evidence %q of an unknown form", f.Fact, e)
			}
		}
	}
	if checked < 100 {
		t.Errorf("only %d pieces of evidence checked", checked)
	}
	// Every IAM identity in the sample's records resolves to a principal, and
	// every event to an IAM action.
	if n := count(`select count(*) from events where identity_type in ('IAMUser', 'AssumedRole', 'Root') and principal_arn is null`); n != 0 {
		t.Errorf("%d events of IAM identities without principal_arn", n)
	}
	if n := count(`select count(*) from events where iam_action is null`); n != 0 {
		t.Errorf("%d events without iam_action", n)
	}
}
