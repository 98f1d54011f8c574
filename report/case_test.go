package report_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/credtrail/credtrail/ingest"
	"github.com/credtrail/credtrail/report"
)

// Fixtures of the test case: CloudTrail with root activity and a formula-like
// user agent, a credential report, and authorization details.
var fixtures = []string{
	"testdata/case/cloudtrail.json",
	"../ingest/testdata/credreport/report.csv",
	"../ingest/testdata/authz/page-1.json",
	"../ingest/testdata/authz/page-2.json",
}

const formulaUA = "=cmd|' /C calc'!A0"

// findingsSQL stands in for credtrail analyze until it lands.
const findingsSQL = `
insert into analysis_parameters values
  ('as_of', '2024-03-07T00:00:00Z'), ('since', '2024-03-01T00:00:00Z'), ('until', '2024-03-07T00:00:00Z'), ('key_max_age_days', '90');
insert into findings values
  ('f-root-login', 'root_console_login_without_mfa', 'critical', '111122223333', 'arn:aws:iam::111122223333:root', null,
   'Root signed in to the console without MFA', 'ConsoleLogin from 203.0.113.7', '{"event_ids":["11111111-0000-4000-8000-000000000001"]}',
   '2024-03-04T09:15:00Z', '2024-03-04T09:15:00Z', 1),
  ('f-root-key', 'root_access_key_created', 'high', '111122223333', 'arn:aws:iam::111122223333:root', 'AKIAEXAMPLEKEY000001',
   'Root created an access key', '=HYPERLINK("http://evil")', '["11111111-0000-4000-8000-000000000002"]',
   '2024-03-04T09:20:00Z', '2024-03-04T09:20:00Z', 1),
  ('f-key-old', 'access_key_not_rotated', 'medium', '111122223333', 'arn:aws:iam::111122223333:user/alice', null,
   'Access key not rotated in 90 days', null, '{"report_rows":[2]}', null, null, null),
  ('f-denied', 'iam_privilege_escalation_denied', 'low', '111122223333', 'arn:aws:iam::111122223333:user/ops', null,
   'Denied attempt to attach a policy', null, '["11111111-0000-4000-8000-000000000004"]',
   '2024-03-06T02:30:00Z', '2024-03-06T02:30:00Z', 1);
insert into rule_coverage values
  ('root_console_login_without_mfa', '111122223333', true, []), ('root_mfa_not_enabled', '111122223333', true, []),
  ('access_key_not_rotated', '111122223333', true, []), ('iam_privilege_escalation_denied', '111122223333', true, []),
  ('password_policy_min_length', '111122223333', false, ['password_policy']), ('password_policy_not_assessed', '111122223333', true, []),
  ('role_trusted_by_service', '111122223333', true, []);
`

// newCase ingests the fixtures into a new case and adds findings.
func newCase(tb testing.TB) *ingest.Case {
	tb.Helper()
	ctx := context.Background()
	c, err := ingest.Open(ctx, tb.TempDir()+"/case.duckdb", ingest.Options{Threads: 1})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	outcomes, err := c.Ingest(ctx, fixtures, ingest.IngestOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	for _, o := range outcomes {
		if o.Status == ingest.StatusRejected {
			tb.Fatalf("%s rejected: %s", o.Path, o.Error)
		}
	}
	if _, err := c.DB.ExecContext(ctx, findingsSQL); err != nil {
		tb.Fatal(err)
	}
	return c
}

func load(tb testing.TB, c *ingest.Case, opts report.Options) *report.Report {
	tb.Helper()
	if opts.Version == "" {
		opts.Version = "test"
	}
	r, err := report.Load(context.Background(), c.DB, opts)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

func workbook(tb testing.TB, r *report.Report) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := r.WriteWorkbook(context.Background(), &buf); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}
