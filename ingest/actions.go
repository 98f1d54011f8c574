package ingest

import (
	"context"
	"database/sql"
	"fmt"
)

// The mapping from a CloudTrail (eventSource, eventName) to the IAM action the
// call needed. It is the one place this knowledge lives: the tables below are
// written into every case (action_prefixes, action_overrides) and the macro
// iam_action_of(event_source, event_name) applies them, at ingest and for analysts.

// actionPrefixes maps an eventSource whose first DNS label is not its IAM
// service prefix to that prefix.
var actionPrefixes = map[string]string{
	"monitoring.amazonaws.com": "cloudwatch",
}

// actionOverride maps one eventSource and (version-stripped) eventName to an IAM action.
type actionOverride struct{ Source, Name, Action string }

var actionOverrides = []actionOverride{
	{"s3.amazonaws.com", "ListBuckets", "s3:ListAllMyBuckets"},
}

// versionSuffixPattern matches the date-like API-version suffix some services
// log on event names (UpdateFunctionCode20150331v2, CreateDistribution2020_05_31).
const versionSuffixPattern = `[0-9]{4}_?[0-9]{2}_?[0-9]{2}(v[0-9]+)?$`

// refreshActionMap rewrites the mapping tables and the iam_action_of macro.
func refreshActionMap(ctx context.Context, db *sql.DB) error {
	stmts := []string{
		"create or replace table action_prefixes (event_source varchar primary key, prefix varchar not null)",
		"create or replace table action_overrides (event_source varchar, event_name varchar, iam_action varchar not null, primary key (event_source, event_name))",
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("action map: %w", err)
		}
	}
	for src, prefix := range actionPrefixes {
		if _, err := db.ExecContext(ctx, "insert into action_prefixes values (?, ?)", src, prefix); err != nil {
			return fmt.Errorf("action map: %s: %w", src, err)
		}
	}
	for _, o := range actionOverrides {
		if _, err := db.ExecContext(ctx, "insert into action_overrides values (?, ?, ?)", o.Source, o.Name, o.Action); err != nil {
			return fmt.Errorf("action map: %s %s: %w", o.Source, o.Name, err)
		}
	}
	macro := `create or replace macro iam_action_of(src, name) as (
  case when src is null or name is null or src = '' or name = '' then null else
  coalesce(
    (select o.iam_action from action_overrides o
      where o.event_source = src and o.event_name = regexp_replace(name, '` + versionSuffixPattern + `', '')),
    coalesce((select p.prefix from action_prefixes p where p.event_source = src), split_part(src, '.', 1))
      || ':' || regexp_replace(name, '` + versionSuffixPattern + `', ''))
  end)`
	if _, err := db.ExecContext(ctx, macro); err != nil {
		return fmt.Errorf("action map macro: %w", err)
	}
	return nil
}
