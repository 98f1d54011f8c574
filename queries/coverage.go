package queries

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
)

// coverageSQL fills rule_coverage: for each rule run (?1: ids, ?2: their
// needs) and each account seen in any evidence, the needed inputs the case
// lacks for that account. A credential report column is missing when the
// account's current report has no such column; when the whole report is
// missing, only credential_report is named.
const coverageSQL = `insert into rule_coverage (rule_id, account_id, assessed, missing_inputs)
with rules as (
    select unnest(from_json(?::json, '["VARCHAR"]')) as rule_id, unnest(from_json(?::json, '[["VARCHAR"]]')) as needs
),
accounts as (
    select account_id from evidence_accounts
    union select account_id from password_policy_in_force
),
available as (
    select account_id, 'credential_report' as input from current_credential_reports
    union all
    select account_id, 'credential_report.' || unnest(map_keys(any_value(raw))) from credential_report group by account_id
    union all
    select account_id, 'authorization_details' from (
        select account_id from iam_users union select account_id from iam_roles union select account_id from iam_groups
        union select account_id from evidence_files where kind = 'authorization_details' and status = 'loaded')
    union all
    select account_id, 'password_policy' from password_policy_in_force
    union all
    select distinct account_id, 'log_validation' from log_validation
    union all
    select distinct e.recipient_account_id, 'cloudtrail' from events e cross join params p
    where e.event_time between p.since and p.until
),
by_account as (
    select a.account_id, coalesce(list(v.input) filter (where v.input is not null), []) as inputs
    from accounts a left join available v using (account_id)
    where a.account_id is not null and a.account_id <> ''
    group by a.account_id
),
missing as (
    select r.rule_id, b.account_id,
           list_sort(list_distinct(list_transform(
               list_filter(r.needs, lambda n: not list_contains(b.inputs, n)),
               lambda n: case when list_contains(b.inputs, 'credential_report') then n else split_part(n, '.', 1) end))) as missing_inputs
    from rules r cross join by_account b
)
select rule_id, account_id, len(missing_inputs) = 0, missing_inputs from missing`

// writeCoverage records which rules could judge which accounts.
func writeCoverage(ctx context.Context, tx *sql.Tx, rules []Rule) error {
	if _, err := tx.ExecContext(ctx, "delete from rule_coverage"); err != nil {
		return fmt.Errorf("clear rule coverage: %w", err)
	}
	ids := make([]string, len(rules))
	needs := make([][]string, len(rules))
	for i, r := range rules {
		ids[i], needs[i] = r.ID, r.Needs
		if needs[i] == nil {
			needs[i] = []string{}
		}
	}
	idJSON, _ := json.Marshal(ids)
	needJSON, _ := json.Marshal(needs)
	if _, err := tx.ExecContext(ctx, coverageSQL, string(idJSON), string(needJSON)); err != nil {
		return fmt.Errorf("rule coverage: %w", err)
	}
	return nil
}
