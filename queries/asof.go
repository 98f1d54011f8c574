package queries

import (
	"context"
	"database/sql"
	"fmt"
)

// accountAsOfSQL fills account_as_of (?: whether --as-of was given).
const accountAsOfSQL = `insert into account_as_of (account_id, as_of, source, events_after)
with report as (
    select account_id, generated_at from current_credential_reports
),
latest as (
    select recipient_account_id as account_id, max(event_time) as t from events group by recipient_account_id
),
a as (
    select c.account_id,
           case when ? then p.as_of else coalesce(r.generated_at, l.t, p.as_of) end as as_of,
           case when ? then '--as-of' when r.generated_at is not null then 'credential report'
                when l.t is not null then 'latest event' else 'analysis as_of' end as source
    from evidence_accounts c cross join params p
    left join report r using (account_id)
    left join latest l using (account_id)
),
later as (
    select a.account_id, count(e.event_id) as n
    from a join events e on e.recipient_account_id = a.account_id and e.event_time > a.as_of
    group by a.account_id
)
select a.account_id, a.as_of, a.source, coalesce(l.n, 0)
from a left join later l using (account_id)
order by a.account_id`

// writeAccountAsOf records the time each account's credential ages are
// measured at, and warns of events later than it.
func writeAccountAsOf(ctx context.Context, tx *sql.Tx, given bool, sum *Summary) error {
	if _, err := tx.ExecContext(ctx, "delete from account_as_of"); err != nil {
		return fmt.Errorf("clear account as-of: %w", err)
	}
	if _, err := tx.ExecContext(ctx, accountAsOfSQL, given, given); err != nil {
		return fmt.Errorf("account as-of: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `select account_id, strftime(as_of, '%Y-%m-%d %H:%M:%S'), source, events_after
		from account_as_of where events_after > 0 order by account_id`)
	if err != nil {
		return fmt.Errorf("account as-of: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var account, asOf, source string
		var n int64
		if err := rows.Scan(&account, &asOf, &source, &n); err != nil {
			return err
		}
		sum.Warnings = append(sum.Warnings, fmt.Sprintf("account %s: %d events are later than its as-of time %s UTC (%s): credential ages are measured at that time and do not show what those events did",
			account, n, asOf, source))
	}
	return rows.Err()
}
