package ingest

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
)

func loadPasswordPolicy(ctx context.Context, tx *sql.Tx, fileID int64, body []byte) (fileStats, error) {
	return fileStats{}, errors.New("password policies are not loaded yet")
}

func loadAccountSummary(ctx context.Context, tx *sql.Tx, fileID int64, body []byte) (fileStats, error) {
	return fileStats{}, errors.New("account summaries are not loaded yet")
}

func loadPublicKeys(ctx context.Context, tx *sql.Tx, fileID int64, body []byte) (fileStats, error) {
	return fileStats{}, errors.New("public keys are not loaded yet")
}

func loadDigest(ctx context.Context, tx *sql.Tx, fileID int64, body []byte) (fileStats, error) {
	return fileStats{}, errors.New("digest files are not loaded yet")
}

// jsonDecodeError gives a decoding error the line it happened on and, for a
// value of the wrong type, the key path in JSON terms instead of Go's.
func jsonDecodeError(body []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("line %d: invalid JSON: %w", lineAt(body, se.Offset-1), err)
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "document"
		}
		return fmt.Errorf("line %d: %s: %w", lineAt(body, te.Offset-1), field, jsonTypeError{te})
	}
	return fmt.Errorf("invalid JSON: %w", err)
}

// jsonTypeError says what a JSON value was and what was expected, in JSON words.
type jsonTypeError struct{ *json.UnmarshalTypeError }

func (e jsonTypeError) Error() string {
	want := "a value of another type"
	if e.Type != nil {
		switch e.Type.Kind() {
		case reflect.String:
			want = "a string"
		case reflect.Bool:
			want = "a boolean"
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			want = "an integer"
		case reflect.Float32, reflect.Float64:
			want = "a number"
		case reflect.Slice, reflect.Array:
			want = "an array"
		case reflect.Struct, reflect.Map:
			want = "an object"
		}
	}
	return fmt.Sprintf("JSON %s where %s was expected", e.Value, want)
}

func (e jsonTypeError) Unwrap() error { return e.UnmarshalTypeError }

// lineAt is the 1-based line of the byte at offset.
func lineAt(body []byte, offset int64) int {
	if offset > int64(len(body)) {
		offset = int64(len(body))
	}
	return 1 + bytes.Count(body[:max(offset, 0)], []byte("\n"))
}
