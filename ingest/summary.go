package ingest

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// CaseSummary describes what a case holds.
type CaseSummary struct {
	Files, Events, Insights int64 // Files: a file rejected by one run and loaded by a later one counts once
	Conflicts               int64 // events with copies of different content (conflicting_events)
	Digests                 int64 // CloudTrail digest files, for credtrail verify
	Accounts, Regions       []string
	First, Last             time.Time
}

// Summarize reads the case-wide summary printed after ingest.
func (c *Case) Summarize(ctx context.Context) (*CaseSummary, error) {
	s := &CaseSummary{}
	var first, last sql.NullTime
	err := c.DB.QueryRowContext(ctx, `select
		(select count(*) from evidence_files where not (status = 'rejected' and sha256 in
		    (select sha256 from evidence_files where status in ('loaded', 'partial')))),
		(select count(*) from events), (select count(*) from insights),
		(select min(event_time) from events), (select max(event_time) from events),
		(select count(*) from (select distinct event_id, recipient_account_id from conflicting_events)),
		(select count(*) from digests)`).
		Scan(&s.Files, &s.Events, &s.Insights, &first, &last, &s.Conflicts, &s.Digests)
	if err != nil {
		return nil, fmt.Errorf("summarize case: %w", err)
	}
	s.First, s.Last = first.Time, last.Time
	if s.Accounts, err = c.strings(ctx, "select distinct recipient_account_id from events where recipient_account_id is not null order by 1"); err != nil {
		return nil, err
	}
	if s.Regions, err = c.strings(ctx, "select distinct aws_region from events where aws_region is not null order by 1"); err != nil {
		return nil, err
	}
	return s, nil
}

func (c *Case) strings(ctx context.Context, q string) ([]string, error) {
	rows, err := c.DB.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("summarize case: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
