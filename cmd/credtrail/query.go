package main

import (
	"github.com/spf13/cobra"

	"github.com/credtrail/credtrail/ingest"
	"github.com/credtrail/credtrail/report"
)

type queryOptions struct {
	casePath, sql, format string
	engine                ingest.Options
}

func newQueryCmd(s *streams) *cobra.Command {
	opts := &queryOptions{}
	cmd := &cobra.Command{
		Use:   "query CASE.duckdb SQL",
		Short: "Run read-only SQL against a case",
		Long: `Run one SQL statement against the case, opened read-only. Tables: see ingest/schema.sql.
The statement stays inside the case: several statements, COPY, EXPORT, ATTACH, INSTALL, LOAD,
SET and functions that read other files (read_text, read_csv, glob, ...) are refused.
To keep a result, redirect it: credtrail query --format csv CASE "select ..." > result.csv`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.casePath, opts.sql = args[0], args[1]
			return runQuery(cmd, s, opts)
		},
	}
	cmd.Flags().StringVar(&opts.format, "format", "table", "output format: table, csv or json (one object per line)")
	return cmd
}

func runQuery(cmd *cobra.Command, s *streams, opts *queryOptions) error {
	switch opts.format {
	case report.FormatTable, report.FormatCSV, report.FormatJSON:
	default:
		return usageError{errorf("unknown --format %q (table, csv or json)", opts.format)}
	}
	ctx := cmd.Context()
	c, err := ingest.OpenForQuery(ctx, opts.casePath, opts.engine)
	if err != nil {
		return err
	}
	defer c.Close()
	rows, err := c.Query(ctx, opts.sql)
	if err != nil {
		return err
	}
	defer rows.Close()
	return report.WriteRows(s.out, rows, opts.format)
}
