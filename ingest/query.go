package ingest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// ExportHint says how to keep a query's result, since query itself writes
// nothing outside the terminal.
const ExportHint = `to save a result, redirect it: credtrail query --format csv CASE "select …" > result.csv`

// OpenForQuery opens an existing case read-only for SQL that a user typed,
// confined to the case: once open, the engine may touch no other file
// (read_text, read_csv, COPY … TO, ATTACH of a file, INSTALL and LOAD are
// refused) and no setting may change again (SET, RESET and the PRAGMAs that
// set something are refused). The options are set after opening because
// opening the case is itself file access.
func OpenForQuery(ctx context.Context, path string, opts Options) (*Case, error) {
	c, err := OpenReadOnly(ctx, path, opts)
	if err != nil {
		return nil, err
	}
	for _, s := range []string{"set enable_external_access = false", "set lock_configuration = true"} {
		if _, err := c.DB.ExecContext(ctx, s); err != nil {
			c.Close()
			return nil, fmt.Errorf("open case %s: %s: %w", path, s, err)
		}
	}
	return c, nil
}

// statementRefusals are the statements query refuses before running them,
// with the reason. Anything else that writes is refused by the read-only
// case itself.
var statementRefusals = map[duckdb.StmtType]string{
	duckdb.STATEMENT_TYPE_COPY:         "COPY reads or writes files outside the case; " + ExportHint,
	duckdb.STATEMENT_TYPE_EXPORT:       "EXPORT DATABASE writes files outside the case; " + ExportHint,
	duckdb.STATEMENT_TYPE_ATTACH:       "ATTACH opens another database; query reads only the case",
	duckdb.STATEMENT_TYPE_DETACH:       "DETACH changes the databases open; query reads only the case",
	duckdb.STATEMENT_TYPE_LOAD:         "INSTALL and LOAD add extensions; query uses only those built in",
	duckdb.STATEMENT_TYPE_EXTENSION:    "INSTALL and LOAD add extensions; query uses only those built in",
	duckdb.STATEMENT_TYPE_SET:          "SET and RESET change the engine's settings, which query locks",
	duckdb.STATEMENT_TYPE_VARIABLE_SET: "SET VARIABLE changes the session; query runs one statement",
	duckdb.STATEMENT_TYPE_TRANSACTION:  "transaction statements have no use in one read-only statement",
}

// Query runs exactly one SQL statement that a user typed against a case
// opened with OpenForQuery and returns its rows. Several statements, and
// statements that reach outside the case, are refused with the reason.
func (c *Case) Query(ctx context.Context, query string) (*sql.Rows, error) {
	if strings.TrimSpace(query) == "" {
		return nil, errors.New("query: no SQL statement given")
	}
	kind, err := c.statementType(ctx, query)
	if err != nil {
		return nil, queryError(err)
	}
	if reason, refused := statementRefusals[kind]; refused {
		return nil, fmt.Errorf("query: statement refused: %s", reason)
	}
	rows, err := c.DB.QueryContext(ctx, query)
	if err != nil {
		return nil, queryError(err)
	}
	return rows, nil
}

// statementType prepares query, without running it, to learn its kind. The
// driver's Prepare, unlike PrepareContext, runs nothing: it refuses text
// holding several statements.
func (c *Case) statementType(ctx context.Context, query string) (duckdb.StmtType, error) {
	conn, err := c.DB.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	var kind duckdb.StmtType
	err = conn.Raw(func(driverConn any) error {
		dc, ok := driverConn.(*duckdb.Conn)
		if !ok {
			return fmt.Errorf("unexpected driver connection %T", driverConn)
		}
		stmt, err := dc.Prepare(query)
		if err != nil {
			return err
		}
		defer stmt.Close()
		ds, ok := stmt.(*duckdb.Stmt)
		if !ok {
			return fmt.Errorf("unexpected driver statement %T", stmt)
		}
		kind, err = ds.StatementType()
		return err
	})
	return kind, err
}

// queryError says why DuckDB refused a user's statement in query's terms.
func queryError(err error) error {
	var de *duckdb.Error
	switch {
	case strings.Contains(err.Error(), "multi-statement"):
		return errors.New("query: several SQL statements given; query runs exactly one (no ';' between statements)")
	case strings.Contains(err.Error(), "the configuration has been locked"):
		return fmt.Errorf("query: refused: query locks the engine's settings: %w", err)
	case errors.As(err, &de) && de.Type == duckdb.ErrorTypePermission:
		return fmt.Errorf("query: refused: query reads only the case, not other files, databases or extensions (%s): %w", ExportHint, err)
	}
	return fmt.Errorf("query: %w", err)
}
