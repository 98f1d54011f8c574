package ingest

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// lookupShare is the share of DuckDB's memory limit the duplicate-key
// lookup and the commit of a batch run with. Both read every stored
// event's key_hash and fill DuckDB's buffers to the limit, while memory the
// batch's insert took outside the limit (JSON reading) is still held: at 50M
// events ingest peaked there at 1.2 GiB, 0.4 GiB over its level during the
// inserts. With half the limit the lookup alone peaks at 342 instead of 602
// MiB on the 50M case.
var lookupShare = 0.5

// lowerMemoryLimit sets DuckDB's memory limit to share of limit (the
// limit in force) and returns the function that sets limit again. The
// setting is the database's, so it is changed on a connection of db other
// than the batch's: a refused setting (DuckDB cannot free enough memory)
// would otherwise abort the batch's transaction. Lowering is a saving, not a
// condition of the load: when it is refused the batch goes on at the full
// limit, and err says why, for the debug log.
func lowerMemoryLimit(ctx context.Context, db *sql.DB, limit string, share float64) (restore func() error, err error) {
	restore = func() error { return nil }
	bytes, err := parseDuckDBSize(limit)
	if err != nil {
		return restore, err
	}
	if _, err := db.ExecContext(ctx, fmt.Sprintf("set memory_limit = '%dB'", int64(float64(bytes)*share))); err != nil {
		return restore, fmt.Errorf("lower the memory limit: %w", err)
	}
	return func() error {
		if _, err := db.ExecContext(context.WithoutCancel(ctx), "set memory_limit = '"+strings.ReplaceAll(limit, "'", "")+"'"); err != nil {
			return fmt.Errorf("restore the memory limit: %w", err)
		}
		return nil
	}, nil
}

// sizePattern is a size as the memory-limit option takes it ("500MB",
// "1.5 GiB") or as DuckDB prints the setting ("476.8 MiB", "0 bytes").
var sizePattern = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?) ?([A-Za-z]+)$`)

// parseDuckDBSize reads a memory size in bytes.
func parseDuckDBSize(s string) (int64, error) {
	m := sizePattern.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Errorf("memory limit %q: not a size", s)
	}
	f, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, fmt.Errorf("memory limit %q: %w", s, err)
	}
	mult := map[string]float64{"bytes": 1, "B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40,
		"KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12}[m[2]]
	if mult == 0 {
		return 0, fmt.Errorf("memory limit %q: unknown unit", s)
	}
	return int64(f * mult), nil
}
