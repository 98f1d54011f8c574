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
//
// iam_action_of resolves an event in this order:
//  1. the event name loses a date-like API-version suffix (versionSuffixPattern);
//  2. an override for (eventSource, name) wins;
//  3. otherwise the action is prefix:name, where prefix comes from
//     actionPrefixes or is the first DNS label of eventSource.
//
// IAM compares action names without regard to case, so analyses should too.

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

// versionSuffixPattern matches an event name that ends in a date-like
// API-version suffix, as Lambda and CloudFront log them
// (UpdateFunctionCode20150331v2, CreateDistribution2020_05_31): group 1 is the
// name without it. The suffix is a date of 19xx or 20xx, either eight digits
// or with underscores between year, month and day, optionally followed by v
// and a number. Names that merely end in digits (ListObjectsV2, GetObjectV2)
// do not match, nor does a name that would be left empty.
const versionSuffixPattern = `^(.*[A-Za-z])(?:19|20)[0-9]{2}(?:(?:0[1-9]|1[0-2])|_(?:0[1-9]|1[0-2])_)[0-3][0-9](?:v[0-9]+)?$`

// refreshActionMap rewrites the mapping tables and the iam_action_of macro in
// one transaction, so a failure leaves the previous map in place.
func refreshActionMap(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("action map: %w", err)
	}
	defer tx.Rollback()
	if err := writeActionMap(ctx, tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("action map: %w", err)
	}
	return nil
}

func writeActionMap(ctx context.Context, tx *sql.Tx) error {
	stmts := []string{
		"create or replace table action_prefixes (event_source varchar primary key, prefix varchar not null)",
		"create or replace table action_overrides (event_source varchar, event_name varchar, iam_action varchar not null, primary key (event_source, event_name))",
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("action map: %w", err)
		}
	}
	for src, prefix := range actionPrefixes {
		if _, err := tx.ExecContext(ctx, "insert into action_prefixes values (?, ?)", src, prefix); err != nil {
			return fmt.Errorf("action map: %s: %w", src, err)
		}
	}
	for _, o := range actionOverrides {
		if _, err := tx.ExecContext(ctx, "insert into action_overrides values (?, ?, ?)", o.Source, o.Name, o.Action); err != nil {
			return fmt.Errorf("action map: %s %s: %w", o.Source, o.Name, err)
		}
	}
	if _, err := tx.ExecContext(ctx, actionMacro); err != nil {
		return fmt.Errorf("action map macro: %w", err)
	}
	return nil
}

// actionBaseName is the SQL expression for an event name without its version suffix.
const actionBaseName = `regexp_replace(name, '` + versionSuffixPattern + `', '\1')`

const actionMacro = `create or replace macro iam_action_of(src, name) as (
  case when src is null or name is null or src = '' or name = '' then null else
  coalesce(
    (select o.iam_action from action_overrides o
      where o.event_source = src and o.event_name = ` + actionBaseName + `),
    coalesce((select p.prefix from action_prefixes p where p.event_source = src), split_part(src, '.', 1))
      || ':' || ` + actionBaseName + `)
  end)`
