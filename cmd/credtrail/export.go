package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/credtrail/credtrail/ingest"
)

type exportOptions struct {
	casePath, parquetDir string
	force                bool
	engine               ingest.Options
}

func newExportCmd(s *streams) *cobra.Command {
	opts := &exportOptions{}
	cmd := &cobra.Command{
		Use:   "export CASE.duckdb --parquet DIR",
		Short: "Write the case as Parquet files for a data lake engine (Athena, Trino, Spark)",
		Long: `Write every table of the case into DIR as Parquet (zstd), one folder per table.
events is Hive-partitioned: DIR/events/account_id=ACCOUNT/date=YYYY-MM-DD/events_N.parquet
(events whose recipient account is not twelve digits go to account_id=other).
DIR/credtrail-export.json lists the files with their SHA-256 and the rows of each table;
credtrail ingest takes DIR back as evidence, so that cases can be merged.
A DIR that is not empty is refused; --force replaces an earlier export there.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.casePath = args[0]
			if opts.parquetDir == "" {
				return usageError{errorf("give the folder to write: --parquet DIR")}
			}
			return runExport(cmd, s, opts)
		},
	}
	cmd.Flags().StringVar(&opts.parquetDir, "parquet", "", "folder to write the Parquet files into")
	cmd.Flags().BoolVar(&opts.force, "force", false, "write into a folder that is not empty, replacing an earlier export there")
	addEngineFlags(cmd, &opts.engine)
	return cmd
}

func runExport(cmd *cobra.Command, s *streams, opts *exportOptions) error {
	ctx := cmd.Context()
	c, err := ingest.OpenReadOnly(ctx, opts.casePath, opts.engine)
	if err != nil {
		return err
	}
	defer c.Close()
	m, err := c.ExportParquet(ctx, opts.parquetDir, ingest.ExportOptions{Force: opts.force, Credtrail: version})
	if err != nil {
		return err
	}
	var files int
	for _, t := range m.Tables {
		files += len(t.Files)
		if t.Rows > 0 {
			fmt.Fprintf(s.out, "%-24s %10d rows  %4d files\n", t.Name, t.Rows, len(t.Files))
		}
	}
	fmt.Fprintf(s.out, "exported %d tables (%d files) to %s\n", len(m.Tables), files, opts.parquetDir)
	return nil
}
