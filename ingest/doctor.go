package ingest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// Checkup is what Doctor found in a case: one entry per check, in order.
type Checkup struct {
	Checks []Check
}

// Check is one of Doctor's checks: the problems it found, each with what to
// do about it, and notes on what it could not check.
type Check struct {
	Name     string
	Problems []Problem
	Notes    []string
}

// Problem is one thing wrong with a case and what to do about it.
type Problem struct {
	What, Do string
}

// Healthy reports whether no check found a problem.
func (c *Checkup) Healthy() bool {
	for _, ch := range c.Checks {
		if len(ch.Problems) > 0 {
			return false
		}
	}
	return true
}

// evidenceReferences are the columns that name an evidence file: every
// file_id, a credential report's report_id (the file that carried it
// first), a digest log file's digest_file_id and a duplicate's duplicate_of.
var evidenceReferences = []string{"file_id", "report_id", "digest_file_id", "duplicate_of"}

// Doctor checks the case at path without changing it: its schema version
// against this credtrail's, rows that name an evidence file the case does
// not hold, files recorded as loaded whose rows are missing, evidence files
// whose content on disk no longer has the SHA-256 recorded (where the path
// still leads to a plain file), scratch folders left by stopped runs, and a
// write-ahead log left by a run that did not close the case. An error means
// the case could not be examined at all.
func Doctor(ctx context.Context, path string) (*Checkup, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("open case: %w", err)
	}
	if info.IsDir() || !IsDuckDBFile(path) {
		return nil, fmt.Errorf("open case %s: not a DuckDB database", path)
	}
	// The WAL is looked at before opening: opening reads it.
	_, walErr := os.Stat(path + ".wal")
	// Opened without open's setup, so that a case of another schema version
	// can still be examined.
	connector, err := duckdb.NewConnector(path+"?access_mode=READ_ONLY&autoinstall_known_extensions=false&autoload_known_extensions=false", nil)
	if err != nil {
		return nil, fmt.Errorf("open case %s: %w", path, err)
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	c := &Case{DB: db, Path: path}
	version, err := c.schemaVersion(ctx)
	if err != nil {
		return nil, fmt.Errorf("open case %s: %w", path, err)
	}
	if version == 0 {
		return nil, fmt.Errorf("open case %s: not a credtrail case (no schema_version)", path)
	}
	up := &Checkup{}
	schema := Check{Name: "schema"}
	if version != SchemaVersion {
		schema.Problems = append(schema.Problems, Problem{
			What: fmt.Sprintf("the case has schema version %d, this credtrail reads version %d", version, SchemaVersion),
			Do:   "read it with the credtrail that wrote it, or ingest its evidence (listed in evidence_files) into a new case",
		})
	} else {
		schema.Notes = append(schema.Notes, fmt.Sprintf("version %d, as this credtrail writes", version))
	}
	up.Checks = append(up.Checks, schema)
	for _, check := range []func(context.Context, *sql.DB) (Check, error){orphanRows, loadedWithoutRows, evidenceOnDisk} {
		ch, err := check(ctx, db)
		if err != nil {
			return nil, err
		}
		up.Checks = append(up.Checks, ch)
	}
	scratch := Check{Name: "scratch"}
	if stale := staleScratch(); len(stale) > 0 {
		scratch.Problems = append(scratch.Problems, Problem{
			What: fmt.Sprintf("%d scratch folder(s) left by stopped runs: %s", len(stale), listSome(stale)),
			Do:   "the next ingest removes them, or remove them by hand; they hold only unpacked copies",
		})
	}
	up.Checks = append(up.Checks, scratch)
	interrupted := Check{Name: "interrupted"}
	if walErr == nil {
		interrupted.Problems = append(interrupted.Problems, Problem{
			What: "a write-ahead log (" + path + ".wal) left by a run that did not close the case",
			Do:   "its changes are kept: open the case for writing once (credtrail analyze CASE) to fold them in, then run doctor again",
		})
	}
	up.Checks = append(up.Checks, interrupted)
	return up, nil
}

// referencingColumns lists the (table, column) pairs of the case that name
// an evidence file.
func referencingColumns(ctx context.Context, db *sql.DB) ([][2]string, error) {
	rows, err := db.QueryContext(ctx, `select c.table_name, c.column_name
		from information_schema.columns c
		join information_schema.tables t using (table_catalog, table_schema, table_name)
		where t.table_type = 'BASE TABLE' and c.table_schema = 'main' and list_contains(?::varchar[], c.column_name)
		order by 1, 2`, evidenceReferences)
	if err != nil {
		return nil, fmt.Errorf("doctor: list tables: %w", err)
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var table, column string
		if err := rows.Scan(&table, &column); err != nil {
			return nil, fmt.Errorf("doctor: list tables: %w", err)
		}
		if table == "evidence_files" && column == "file_id" {
			continue
		}
		out = append(out, [2]string{table, column})
	}
	return out, rows.Err()
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// orphanRows finds rows naming an evidence file that evidence_files lacks.
func orphanRows(ctx context.Context, db *sql.DB) (Check, error) {
	ch := Check{Name: "orphan rows"}
	refs, err := referencingColumns(ctx, db)
	if err != nil {
		return ch, err
	}
	for _, r := range refs {
		table, column := quoteIdent(r[0]), quoteIdent(r[1])
		var n int64
		var ids sql.NullString
		err := db.QueryRowContext(ctx, `select count(*), string_agg(distinct `+column+`::varchar, ', ' order by `+column+`::varchar)
			from `+table+` where `+column+` is not null and `+column+` not in (select file_id from evidence_files)`).Scan(&n, &ids)
		if err != nil {
			return ch, fmt.Errorf("doctor: %s.%s: %w", r[0], r[1], err)
		}
		if n > 0 {
			ch.Problems = append(ch.Problems, Problem{
				What: fmt.Sprintf("%d row(s) of %s name evidence file(s) the case does not hold (%s %s)", n, r[0], r[1], clip(ids.String, 80)),
				Do:   "the case was changed outside credtrail: ingest the evidence into a new case and compare",
			})
		}
	}
	return ch, nil
}

// loadedWithoutRows finds files recorded as loaded with records not already
// in the case, yet no row of any table that names them.
func loadedWithoutRows(ctx context.Context, db *sql.DB) (Check, error) {
	ch := Check{Name: "loaded files"}
	refs, err := referencingColumns(ctx, db)
	if err != nil {
		return ch, err
	}
	var parts []string
	for _, r := range refs {
		if r[1] == "duplicate_of" {
			continue
		}
		parts = append(parts, "select "+quoteIdent(r[1])+" as file_id from "+quoteIdent(r[0]))
	}
	if len(parts) == 0 {
		return ch, nil
	}
	rows, err := db.QueryContext(ctx, `with referenced as (`+strings.Join(parts, " union ")+`)
		select e.file_id, e.path, e.kind, e.records, coalesce(e.duplicates, 0)
		from evidence_files e
		where e.status = 'loaded' and e.kind <> 'bundle' and coalesce(e.records, 0) > coalesce(e.duplicates, 0)
		  and e.file_id not in (select file_id from referenced where file_id is not null)
		order by e.file_id`)
	if err != nil {
		return ch, fmt.Errorf("doctor: loaded files: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, records, dups int64
		var path, kind string
		if err := rows.Scan(&id, &path, &kind, &records, &dups); err != nil {
			return ch, fmt.Errorf("doctor: loaded files: %w", err)
		}
		ch.Problems = append(ch.Problems, Problem{
			What: fmt.Sprintf("file %d (%s, %s) is recorded as loaded with %d new record(s), but the case holds none of them", id, path, kind, records-dups),
			Do:   "its rows were lost: ingest the evidence into a new case",
		})
	}
	return ch, rows.Err()
}

// evidenceOnDisk hashes each evidence file again where its recorded path
// still leads to a plain file (the latest record of each path).
func evidenceOnDisk(ctx context.Context, db *sql.DB) (Check, error) {
	ch := Check{Name: "evidence on disk"}
	rows, err := db.QueryContext(ctx, `select path, sha256,
		       exists (select 1 from evidence_files b where b.kind = 'bundle' and starts_with(e.path, b.path || '!')) as entry
		from evidence_files e
		where sha256 is not null
		qualify row_number() over (partition by path order by file_id desc) = 1
		order by path`)
	if err != nil {
		return ch, fmt.Errorf("doctor: evidence files: %w", err)
	}
	type file struct {
		path, sha256 string
		entry        bool
	}
	var files []file
	for rows.Next() {
		var f file
		if err := rows.Scan(&f.path, &f.sha256, &f.entry); err != nil {
			rows.Close()
			return ch, fmt.Errorf("doctor: evidence files: %w", err)
		}
		files = append(files, f)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return ch, fmt.Errorf("doctor: evidence files: %w", err)
	}
	var checked, entries, unreachable int
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return ch, err
		}
		if f.entry {
			entries++
			continue
		}
		info, err := os.Stat(f.path)
		if err != nil || !info.Mode().IsRegular() {
			unreachable++
			continue
		}
		sum, err := hashFile(f.path)
		if err != nil {
			ch.Problems = append(ch.Problems, Problem{
				What: fmt.Sprintf("%s: cannot be read to check it: %v", f.path, err),
				Do:   "make the file readable and run doctor again",
			})
			continue
		}
		checked++
		if sum != f.sha256 {
			ch.Problems = append(ch.Problems, Problem{
				What: fmt.Sprintf("%s: its SHA-256 is now %s, the case recorded %s", f.path, sum, f.sha256),
				Do:   "the file changed after it was loaded: find the original (the case keeps its hash) and establish why it changed; the case still holds what was loaded",
			})
		}
	}
	ch.Notes = append(ch.Notes, fmt.Sprintf("%d file(s) hashed again", checked))
	if entries > 0 {
		ch.Notes = append(ch.Notes, fmt.Sprintf("%d bundle entr(ies) not checkable on their own: their bundle is checked", entries))
	}
	if unreachable > 0 {
		ch.Notes = append(ch.Notes, fmt.Sprintf("%d file(s) not reachable from here (moved, or given by a relative path from another folder): not checked", unreachable))
	}
	return ch, nil
}
