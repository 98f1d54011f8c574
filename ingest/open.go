// Package ingest owns the case database: its schema, and loading evidence
// files (credential reports, authorization details, CloudTrail archives) into it.
package ingest

import (
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// SchemaVersion is the version of schema.sql. A case written with another
// version is refused rather than read wrongly.
const SchemaVersion = 9

//go:embed schema.sql
var schemaSQL string

// Options tune the DuckDB engine behind a case.
type Options struct {
	Threads     int    // 0: one per core
	MemoryLimit string // DuckDB size, e.g. "1GB"; empty: DuckDB's default
}

// memoryLimitPattern is what DuckDB's memory_limit accepts; the value is
// checked because a SET statement cannot take a bound parameter.
var memoryLimitPattern = regexp.MustCompile(`^[0-9]+(\.[0-9]+)? ?(B|[KMGT]i?B)$`)

// CheckMemoryLimit says whether s is a size DuckDB's memory_limit takes.
func CheckMemoryLimit(s string) error {
	if !memoryLimitPattern.MatchString(s) {
		return fmt.Errorf("memory limit %q: want a size such as 512MB or 2GB", s)
	}
	return nil
}

// Case is an open case database.
type Case struct {
	DB   *sql.DB
	Path string
	// memoryLimit is DuckDB's memory limit as it was set when the case was
	// opened (the option, or DuckDB's default as DuckDB prints it), which
	// ingest sets again after lowering it for part of each batch.
	memoryLimit string
}

// Close closes the database.
func (c *Case) Close() error { return c.DB.Close() }

// Open opens (creating if needed) the case database at path for writing.
func Open(ctx context.Context, path string, opts Options) (*Case, error) {
	return open(ctx, path, opts, false)
}

// OpenReadOnly opens an existing case for reading only.
func OpenReadOnly(ctx context.Context, path string, opts Options) (*Case, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("open case: %w", err)
	}
	return open(ctx, path, opts, true)
}

func open(ctx context.Context, path string, opts Options, readOnly bool) (*Case, error) {
	if err := checkCaseFile(path); err != nil {
		return nil, fmt.Errorf("open case %s: %w", path, err)
	}
	threads := opts.Threads
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	// A new case is written in DuckDB 1.5's storage format rather than the
	// one DuckDB 1.0 reads: its string compression made the 1M-event bench
	// case 16% smaller (205 -> 172 MB) and its load about 6% cheaper in CPU.
	// The version is pinned so that a newer DuckDB library does not change
	// what cases it writes can be opened with. An existing case keeps the
	// format it was created with.
	dsn := path + "?threads=" + strconv.Itoa(threads) +
		"&autoinstall_known_extensions=false&autoload_known_extensions=false&storage_compatibility_version=v1.5.0"
	if readOnly {
		dsn += "&access_mode=READ_ONLY"
	}
	connector, err := duckdb.NewConnector(dsn, nil)
	if err != nil {
		return nil, fmt.Errorf("open case %s: %w", path, inUse(err, readOnly))
	}
	db := sql.OpenDB(connector)
	c := &Case{DB: db, Path: path}
	if err := c.setup(ctx, opts, readOnly); err != nil {
		db.Close()
		return nil, fmt.Errorf("open case %s: %w", path, inUse(err, readOnly))
	}
	return c, nil
}

// InUseError says that another process holds the case open: DuckDB lets
// one process write a case, or several read it.
type InUseError struct {
	Program string // the holder's program name, as DuckDB reports it
	PID     int
	Writing bool // the holder writes the case (we asked to read it)
}

func (e *InUseError) Error() string {
	if e.Writing {
		return fmt.Sprintf("the case is being written by %s (PID %d); try again when it finishes", e.Program, e.PID)
	}
	return fmt.Sprintf("the case is open in %s (PID %d); try again when it finishes", e.Program, e.PID)
}

// lockHolder finds the holder in DuckDB's error for a case another process
// has locked: `... Conflicting lock is held in /usr/bin/credtrail (PID 1234) ...`.
var lockHolder = regexp.MustCompile(`Conflicting lock is held in (.+?) \(PID ([0-9]+)\)`)

// inUse turns DuckDB's lock error into an InUseError; other errors pass.
// Read-only opens share the lock, so a reader refused meets a writer.
func inUse(err error, readOnly bool) error {
	m := lockHolder.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	pid, _ := strconv.Atoi(m[2])
	return &InUseError{Program: filepath.Base(m[1]), PID: pid, Writing: readOnly}
}

func (c *Case) setup(ctx context.Context, opts Options, readOnly bool) error {
	settings := []string{
		"set TimeZone = 'UTC'",
		"set preserve_insertion_order = false",
	}
	if opts.MemoryLimit != "" {
		if err := CheckMemoryLimit(opts.MemoryLimit); err != nil {
			return err
		}
		settings = append(settings, "set memory_limit = '"+opts.MemoryLimit+"'")
	}
	for _, s := range settings {
		if _, err := c.DB.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	c.memoryLimit = opts.MemoryLimit
	if c.memoryLimit == "" {
		if err := c.DB.QueryRowContext(ctx, "select current_setting('memory_limit')").Scan(&c.memoryLimit); err != nil {
			return fmt.Errorf("read the memory limit: %w", err)
		}
	}
	version, err := c.schemaVersion(ctx)
	if err != nil {
		return err
	}
	switch {
	case version == 0 && readOnly:
		return errors.New("not a credtrail case (no schema_version)")
	case version == 0:
		if err := c.createSchema(ctx); err != nil {
			return err
		}
	case version != SchemaVersion:
		return fmt.Errorf("case has schema version %d, this credtrail reads version %d: re-ingest the evidence into a new case", version, SchemaVersion)
	}
	if !readOnly {
		if err := refreshActionMap(ctx, c.DB); err != nil {
			return err
		}
	}
	return nil
}

// checkCaseFile refuses a path that exists and is not a DuckDB database: a
// report or an event file named where the case belongs (the case argument
// forgotten) must not be opened, let alone written.
func checkCaseFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		if _, err := os.Stat(filepath.Dir(path)); errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("folder %s does not exist", filepath.Dir(path))
		}
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	if info.IsDir() {
		return errors.New("is a folder, not a case file")
	}
	// A DuckDB database file starts with a checksum and the magic "DUCK".
	var head [12]byte
	if _, err := io.ReadFull(f, head[:]); err != nil || string(head[8:]) != "DUCK" {
		return errors.New("exists and is not a DuckDB database: name the case file first, then the evidence")
	}
	return nil
}

// IsDuckDBFile reports whether path is a DuckDB database file (a case, or
// something that claims to be one), as opposed to evidence.
func IsDuckDBFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var head [12]byte
	_, err = io.ReadFull(f, head[:])
	return err == nil && string(head[8:]) == "DUCK"
}

// createSchema turns an empty database into a case, in one transaction so
// that a case is never left half made. A database that already holds tables
// of its own is not a case and is refused rather than adopted.
func (c *Case) createSchema(ctx context.Context) error {
	var tables int
	if err := c.DB.QueryRowContext(ctx, "select count(*) from information_schema.tables").Scan(&tables); err != nil {
		return fmt.Errorf("read tables: %w", err)
	}
	if tables > 0 {
		return errors.New("a DuckDB database that is not a credtrail case (it has tables, but no case_meta)")
	}
	tx, err := c.DB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, schemaSQL); err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	if _, err := tx.ExecContext(ctx,
		"insert into case_meta values ('schema_version', ?)", strconv.Itoa(SchemaVersion)); err != nil {
		return fmt.Errorf("record schema version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	return nil
}

// schemaVersion returns 0 for an empty database.
func (c *Case) schemaVersion(ctx context.Context) (int, error) {
	var n int
	err := c.DB.QueryRowContext(ctx,
		"select count(*) from information_schema.tables where table_name = 'case_meta'").Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	if n == 0 {
		return 0, nil
	}
	var v string
	err = c.DB.QueryRowContext(ctx, "select value from case_meta where key = 'schema_version'").Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, errors.New("case_meta has no schema_version")
	}
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	version, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("schema_version %q: %w", v, err)
	}
	return version, nil
}
