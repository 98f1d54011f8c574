package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"time"
)

// An export is a folder of Parquet files, one folder per table of the case,
// with ExportManifestName at its root. events is Hive-partitioned:
// events/account_id=ACCOUNT/date=YYYY-MM-DD/events_N.parquet.
const (
	ExportManifestName = "credtrail-export.json"
	exportFormat       = "credtrail-parquet-export"
	exportVersion      = 1
	// otherAccount is the partition of events whose recipient account is
	// not twelve digits: the value is written by whoever wrote the log, and
	// is never made a path.
	otherAccount = "other"
)

// ExportManifest describes an export: what it holds and the SHA-256 of each
// file, so that the export can be checked and loaded back as evidence.
type ExportManifest struct {
	Format        string        `json:"format"`
	Version       int           `json:"version"`
	SchemaVersion int           `json:"schema_version"`
	Credtrail     string        `json:"credtrail,omitempty"`
	Case          string        `json:"case"`
	ExportedAt    time.Time     `json:"exported_at"`
	Tables        []ExportTable `json:"tables"`
}

// ExportTable is one table of an export.
type ExportTable struct {
	Name        string       `json:"name"`
	PartitionBy []string     `json:"partition_by,omitempty"`
	Rows        int64        `json:"rows"`
	Files       []ExportFile `json:"files"`
}

// ExportFile is one Parquet file, its path relative to the export folder
// with forward slashes.
type ExportFile struct {
	Path   string `json:"path"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// ExportOptions tune an export.
type ExportOptions struct {
	// Force writes into a folder that is not empty: the tables' folders
	// and the manifest of an earlier export there are replaced; other files
	// are left alone.
	Force     bool
	Credtrail string // the version that writes it, recorded in the manifest
}

// tableName is what a case's table names look like; anything else is not
// put into a statement.
var tableName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// ExportParquet writes every table of the case into dir as Parquet (zstd),
// events partitioned by account and day, and returns the manifest it wrote.
func (c *Case) ExportParquet(ctx context.Context, dir string, opts ExportOptions) (*ExportManifest, error) {
	tables, err := c.baseTables(ctx)
	if err != nil {
		return nil, err
	}
	if err := prepareExportDir(dir, tables, opts.Force); err != nil {
		return nil, err
	}
	m := &ExportManifest{
		Format: exportFormat, Version: exportVersion, SchemaVersion: SchemaVersion,
		Credtrail: opts.Credtrail, Case: c.Path, ExportedAt: time.Now().UTC().Truncate(time.Second),
	}
	conn, err := c.DB.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("export %s: %w", dir, err)
	}
	defer conn.Close()
	// Dates of partitions are UTC days whatever the machine's zone.
	if _, err := conn.ExecContext(ctx, "set TimeZone = 'UTC'"); err != nil {
		return nil, fmt.Errorf("export %s: %w", dir, err)
	}
	for _, t := range tables {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		folder := filepath.Join(dir, t)
		if err := os.MkdirAll(folder, 0o755); err != nil {
			return nil, fmt.Errorf("export %s: %w", dir, err)
		}
		et := ExportTable{Name: t}
		var q string
		if t == "events" {
			// The partition columns are written only as folder names; the
			// files keep every column of the table.
			et.PartitionBy = []string{"account_id", "date"}
			q = `copy (
    select *,
           case when regexp_full_match(recipient_account_id, '[0-9]{12}') then recipient_account_id else '` + otherAccount + `' end as account_id,
           strftime(event_time, '%Y-%m-%d') as date
    from events
) to ` + sqlQuote(folder) + ` (format parquet, compression zstd, partition_by (account_id, date), filename_pattern 'events_{i}', overwrite_or_ignore true)`
		} else {
			q = `copy (select * from "` + t + `") to ` + sqlQuote(filepath.Join(folder, t+".parquet")) + ` (format parquet, compression zstd)`
		}
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("export table %s to %s: %w", t, folder, err)
		}
		if err := conn.QueryRowContext(ctx, `select count(*) from "`+t+`"`).Scan(&et.Rows); err != nil {
			return nil, fmt.Errorf("count table %s: %w", t, err)
		}
		if et.Files, err = exportFiles(dir, t); err != nil {
			return nil, err
		}
		m.Tables = append(m.Tables, et)
	}
	body, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, ExportManifestName), append(body, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("export %s: %w", dir, err)
	}
	return m, nil
}

// baseTables lists the case's tables, in name order.
func (c *Case) baseTables(ctx context.Context) ([]string, error) {
	rows, err := c.DB.QueryContext(ctx,
		"select table_name from information_schema.tables where table_schema = 'main' and table_type = 'BASE TABLE' order by table_name")
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	defer rows.Close()
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("list tables: %w", err)
		}
		if !tableName.MatchString(t) {
			return nil, fmt.Errorf("case has a table named %q, which no credtrail case has", t)
		}
		tables = append(tables, t)
	}
	return tables, rows.Err()
}

// prepareExportDir makes dir, refusing one that holds anything unless
// force; with force, it removes what an export writes there (the tables'
// folders and the manifest) and leaves the rest.
func prepareExportDir(dir string, tables []string, force bool) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("export folder %s: %w", dir, err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("export folder %s: %w", dir, err)
	case len(entries) == 0:
		return nil
	case !force:
		return fmt.Errorf("export folder %s is not empty (it holds %s): name a new folder, or use --force to replace an earlier export there", dir, entries[0].Name())
	}
	for _, name := range append([]string{ExportManifestName}, tables...) {
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("export folder %s: %w", dir, err)
		}
	}
	return nil
}

// exportFiles lists and hashes the Parquet files of one table's folder.
func exportFiles(dir, table string) ([]ExportFile, error) {
	var files []ExportFile
	err := filepath.WalkDir(filepath.Join(dir, table), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		sum, err := hashFile(path)
		if err != nil {
			return err
		}
		files = append(files, ExportFile{Path: filepath.ToSlash(rel), Bytes: info.Size(), SHA256: sum})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("export %s: %w", dir, err)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, nil
}
