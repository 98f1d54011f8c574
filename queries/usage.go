package queries

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"strings"
)

// usageSQL builds permission_usage and generated_policies: granted versus
// used per user and role (issue #5). The rules unused_services,
// unused_actions, permission_used_not_granted and no_cloudtrail_coverage
// read what it writes.
//
//go:embed analysis/permission_usage.sql
var usageSQL string

// usageTemps are the temporary tables usageSQL leaves behind.
var usageTemps = []string{"pu_principals", "pu_statements", "pu_bounded", "pu_denies", "pu_patterns",
	"pu_activity", "pu_used", "pu_used_grants", "pu_catalog", "pu_catalog_grants"}

// runUsage runs usageSQL statement by statement inside the analysis
// transaction, after the parameters and macros exist.
func runUsage(ctx context.Context, tx *sql.Tx) error {
	for i, stmt := range strings.Split(usageSQL, "\n;\n") {
		if strings.TrimSpace(stripComments(stmt)) == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("permission usage, statement %d (%s): %w", i+1, firstCodeLine(stmt), err)
		}
	}
	for _, t := range usageTemps {
		if _, err := tx.ExecContext(ctx, "drop table if exists temp."+t); err != nil {
			return fmt.Errorf("permission usage: drop %s: %w", t, err)
		}
	}
	return nil
}

// stripComments drops the -- comment lines of a statement.
func stripComments(stmt string) string {
	var b strings.Builder
	for _, l := range strings.Split(stmt, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "--") {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// firstCodeLine names a statement in an error: its first line that is not a comment.
func firstCodeLine(stmt string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(stripComments(stmt)), "\n")
	return l
}
