package ingest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
)

// The IAM credential report (FORMATS.md A1): a CSV with one row per user,
// delivered raw, or inside the get-credential-report JSON answer with its
// Content base64-encoded (AWS CLI) or already decoded (boto3 dumps).

const (
	generatedFromField     = "GeneratedTime"
	generatedFromTimestamp = "latest timestamp in report"
)

// reportSpecialValues are the report's words for "no time or boolean here".
// They are not errors: the typed column is NULL and the word stays visible in
// raw (and in password_last_used_note, last_used_note).
var reportSpecialValues = []string{"N/A", "no_information", "not_supported"}

// credentialReport is one report, parsed, before it is written.
type credentialReport struct {
	sha256          string // of the normalised CSV text
	generatedAt     time.Time
	generatedSource string
	accountID       string
	rows            []reportRow
}

// reportRow is one user row; nil fields are NULL.
type reportRow struct {
	number               int // 1-based data row
	user, arn            string
	columns, values      []string // every column as written, header order
	userCreationTime     any
	passwordEnabled      any
	passwordLastUsed     any
	passwordLastUsedNote any
	passwordLastChanged  any
	passwordNextRotation any
	mfaActive            any
	cert1Active          any
	cert1LastRotated     any
	cert2Active          any
	cert2LastRotated     any
	accessKeys           []accessKeySlot // only the slots that hold a key
}

type accessKeySlot struct {
	slot                            int
	active                          bool
	lastRotated                     any
	lastUsedDate, lastUsedNote      any
	lastUsedRegion, lastUsedService any
}

func loadCredentialReport(ctx context.Context, tx *sql.Tx, fileID int64, body []byte) (fileStats, error) {
	text, generatedAt, where, err := credentialReportCSV(body)
	if err != nil {
		return fileStats{}, err
	}
	rep, err := parseCredentialReport(text, generatedAt)
	if err != nil {
		return fileStats{}, fmt.Errorf("%s%w", where, err)
	}
	st := fileStats{Records: int64(len(rep.rows)), AccountID: rep.accountID}
	generatedAt, estimated := rep.generatedAt, rep.generatedSource == generatedFromTimestamp
	var notes []string

	var (
		firstID      int64
		firstSource  string
		firstGenTime sql.NullTime
	)
	err = tx.QueryRowContext(ctx,
		"select report_id, generated_at, generated_at_source from credential_reports where content_sha256 = ?",
		rep.sha256).Scan(&firstID, &firstGenTime, &firstSource)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if err := insertCredentialReport(ctx, tx, fileID, rep); err != nil {
			return fileStats{}, err
		}
	case err != nil:
		return fileStats{}, fmt.Errorf("look up credential report: %w", err)
	default:
		st.Duplicates = st.Records
		notes = append(notes, fmt.Sprintf("same report as file %d: its rows are not loaded again", firstID))
		switch {
		case !estimated && firstSource != generatedFromField:
			if err := setReportGeneratedAt(ctx, tx, firstID, generatedAt); err != nil {
				return fileStats{}, err
			}
			notes = append(notes, "its generation time is now this file's GeneratedTime")
		case !estimated && firstGenTime.Valid && !firstGenTime.Time.Equal(generatedAt):
			notes = append(notes, fmt.Sprintf("GeneratedTime %s differs from the %s recorded from file %d, which is kept",
				generatedAt.Format(time.RFC3339), firstGenTime.Time.UTC().Format(time.RFC3339), firstID))
		case estimated && firstSource == generatedFromField && firstGenTime.Valid:
			// The copy loaded first said when the report was made.
			generatedAt, estimated = firstGenTime.Time.UTC(), false
		}
	}
	switch {
	case estimated && generatedAt.IsZero():
		notes = append([]string{"no GeneratedTime and no timestamp in the report: generation time unknown"}, notes...)
	case estimated:
		notes = append([]string{fmt.Sprintf("no GeneratedTime: generation time estimated as the latest timestamp in the report (%s)",
			generatedAt.Format(time.RFC3339))}, notes...)
	}
	st.First, st.Last = generatedAt, generatedAt
	st.Note = strings.Join(notes, "; ")
	return st, nil
}

// credentialReportCSV returns the CSV text of a report in any of its three
// forms, the GeneratedTime of the JSON form, and the prefix positions in the
// CSV need ("Content: " when the CSV came inside JSON).
func credentialReportCSV(body []byte) (text string, generatedAt time.Time, where string, err error) {
	body = trimBOM(body)
	if trimmed := bytes.TrimLeftFunc(body, unicode.IsSpace); len(trimmed) == 0 || trimmed[0] != '{' {
		return string(body), time.Time{}, "", nil
	}
	var wrapper struct {
		Content       *string         `json:"Content"`
		ReportFormat  *string         `json:"ReportFormat"`
		GeneratedTime json.RawMessage `json:"GeneratedTime"`
	}
	if err := json.Unmarshal(body, &wrapper); err != nil {
		return "", time.Time{}, "", jsonDecodeError(body, err)
	}
	if wrapper.Content == nil {
		return "", time.Time{}, "", errors.New("Content: missing")
	}
	if f := wrapper.ReportFormat; f != nil && !strings.EqualFold(*f, "text/csv") {
		return "", time.Time{}, "", fmt.Errorf("ReportFormat: %q is not text/csv", *f)
	}
	if generatedAt, err = parseJSONTime(wrapper.GeneratedTime); err != nil {
		return "", time.Time{}, "", fmt.Errorf("GeneratedTime: %w", err)
	}
	content := strings.TrimPrefix(*wrapper.Content, "\ufeff")
	if strings.TrimSpace(content) == "" {
		return "", time.Time{}, "", errors.New("Content: empty")
	}
	if strings.HasPrefix(strings.TrimLeftFunc(content, unicode.IsSpace), "user,arn") {
		return content, generatedAt, "Content: ", nil
	}
	decoded, err := decodeBase64(content)
	if err != nil {
		return "", time.Time{}, "", fmt.Errorf("Content: neither CSV text nor valid base64: %w", err)
	}
	return string(trimBOM(decoded)), generatedAt, "Content: ", nil
}

// decodeBase64 decodes standard base64, padded or not, ignoring line breaks.
func decodeBase64(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
	if strings.HasSuffix(s, "=") || len(s)%4 == 0 {
		return base64.StdEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}

// normaliseReportCSV makes the copies of one report that differ only in line
// endings (CRLF, a trailing newline or not) the same text, so they hash alike.
func normaliseReportCSV(text string) string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	return strings.TrimRight(text, "\r\n")
}

// parseCredentialReport parses the CSV text of a report. generatedAt is the
// report's GeneratedTime, or zero when the delivery form did not carry one.
func parseCredentialReport(text string, generatedAt time.Time) (*credentialReport, error) {
	text = normaliseReportCSV(text)
	sum := sha256.Sum256([]byte(text))
	rep := &credentialReport{sha256: hex.EncodeToString(sum[:]), generatedAt: generatedAt, generatedSource: generatedFromField}

	r := csv.NewReader(strings.NewReader(text))
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("line 1: empty report, no header")
	}
	if err != nil {
		return nil, csvError(err, 0)
	}
	columns := make([]string, len(header))
	index := make(map[string]int, len(header))
	for i, name := range header {
		name = strings.ToLower(strings.TrimSpace(name))
		if _, dup := index[name]; dup {
			return nil, fmt.Errorf("line 1: header: column %q appears twice", name)
		}
		index[name] = i
		columns[i] = name
	}
	var missing []string
	for _, required := range []string{"user", "arn"} {
		if _, ok := index[required]; !ok {
			missing = append(missing, required)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("line 1: header has no %s column (header starts %q)",
			strings.Join(missing, " or "), clip(strings.Join(header, ","), 60))
	}

	var latest time.Time
	for {
		fields, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvError(err, len(header))
		}
		line, _ := r.FieldPos(0)
		c := reportCells{line: line, index: index, fields: fields, latest: &latest}
		row, err := c.row(len(rep.rows)+1, columns)
		if err != nil {
			return nil, err
		}
		// One report is one account: the root row's, which every user ARN repeats.
		account, ok := iamARNAccount(row.arn)
		switch {
		case !ok:
			return nil, fmt.Errorf("line %d: arn: %q is not an IAM ARN", line, row.arn)
		case rep.accountID == "":
			if err := checkAccountID(account); err != nil {
				return nil, fmt.Errorf("line %d: arn: %w", line, err)
			}
			rep.accountID = account
		case account != rep.accountID:
			return nil, fmt.Errorf("line %d: arn: account %s differs from the report's account %s", line, account, rep.accountID)
		}
		rep.rows = append(rep.rows, row)
	}
	if len(rep.rows) == 0 {
		return nil, errors.New("line 2: report has a header but no rows")
	}
	if rep.generatedAt.IsZero() {
		rep.generatedAt, rep.generatedSource = latest, generatedFromTimestamp
	}
	return rep, nil
}

// csvError turns encoding/csv's error into a compiler-style position.
func csvError(err error, headerFields int) error {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return err
	}
	if errors.Is(pe.Err, csv.ErrFieldCount) && headerFields > 0 {
		return fmt.Errorf("line %d: row has a different number of fields than the header's %d: %w", pe.StartLine, headerFields, pe.Err)
	}
	return fmt.Errorf("line %d, column %d: %w", pe.Line, pe.Column, pe.Err)
}

// iamARNAccount returns the account of an IAM ARN
// (arn:PARTITION:iam::ACCOUNT:RESOURCE, in any partition).
func iamARNAccount(arn string) (string, bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || !strings.HasPrefix(parts[1], "aws") ||
		parts[2] != "iam" || parts[4] == "" || parts[5] == "" {
		return "", false
	}
	return parts[4], true
}

// reportCells reads the typed cells of one CSV row by column name.
type reportCells struct {
	line   int
	index  map[string]int
	fields []string
	latest *time.Time // raised to every past timestamp read
}

// value is the cell as written; ok is false when the report has no such column.
func (c reportCells) value(col string) (v string, ok bool) {
	i, ok := c.index[col]
	if !ok {
		return "", false
	}
	return c.fields[i], true
}

func isReportSpecial(v string) bool {
	for _, s := range reportSpecialValues {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// boolean is the cell as a boolean, nil when absent, empty or a special value.
func (c reportCells) boolean(col string) (any, error) {
	v, ok := c.value(col)
	if !ok || v == "" || isReportSpecial(v) {
		return nil, nil
	}
	switch {
	case strings.EqualFold(v, "true"):
		return true, nil
	case strings.EqualFold(v, "false"):
		return false, nil
	}
	return nil, fmt.Errorf("line %d: %s: invalid boolean %q", c.line, col, v)
}

// timestamp is the cell as a time (nil when not one) and, when it is not a
// time, what was written instead: a special value or "" (nil when absent).
func (c reportCells) timestamp(col string) (t, note any, err error) {
	v, ok := c.value(col)
	switch {
	case !ok:
		return nil, nil, nil
	case v == "" || isReportSpecial(v):
		return nil, v, nil
	case isEpochSeconds(v): // a bare number is no report time
		return nil, nil, fmt.Errorf("line %d: %s: invalid time %q", c.line, col, v)
	}
	tm, err := parseAWSTime(v)
	if err != nil {
		return nil, nil, fmt.Errorf("line %d: %s: %w", c.line, col, err)
	}
	// password_next_rotation is a deadline, usually in the future: it says
	// nothing about when the report was made.
	if col != "password_next_rotation" && tm.After(*c.latest) {
		*c.latest = tm
	}
	return tm, nil, nil
}

// text is the cell as written, nil when the report has no such column.
func (c reportCells) text(col string) any {
	if v, ok := c.value(col); ok {
		return v
	}
	return nil
}

func (c reportCells) row(number int, columns []string) (reportRow, error) {
	row := reportRow{number: number, columns: columns, values: c.fields}
	row.user, _ = c.value("user")
	row.arn, _ = c.value("arn")
	if row.user == "" {
		return row, fmt.Errorf("line %d: user: empty", c.line)
	}
	if row.arn == "" {
		return row, fmt.Errorf("line %d: arn: empty", c.line)
	}
	var err error
	booleans := []struct {
		col string
		dst *any
	}{
		{"password_enabled", &row.passwordEnabled},
		{"mfa_active", &row.mfaActive},
		{"cert_1_active", &row.cert1Active},
		{"cert_2_active", &row.cert2Active},
	}
	for _, b := range booleans {
		if *b.dst, err = c.boolean(b.col); err != nil {
			return row, err
		}
	}
	times := []struct {
		col  string
		dst  *any
		note *any
	}{
		{"user_creation_time", &row.userCreationTime, nil},
		{"password_last_used", &row.passwordLastUsed, &row.passwordLastUsedNote},
		{"password_last_changed", &row.passwordLastChanged, nil},
		{"password_next_rotation", &row.passwordNextRotation, nil},
		{"cert_1_last_rotated", &row.cert1LastRotated, nil},
		{"cert_2_last_rotated", &row.cert2LastRotated, nil},
	}
	for _, t := range times {
		var note any
		if *t.dst, note, err = c.timestamp(t.col); err != nil {
			return row, err
		}
		if t.note != nil {
			*t.note = note
		}
	}
	for slot := 1; slot <= 2; slot++ {
		key, exists, err := c.accessKey(slot)
		if err != nil {
			return row, err
		}
		if exists {
			row.accessKeys = append(row.accessKeys, key)
		}
	}
	return row, nil
}

// accessKey reads slot 1 or 2. A slot holds a key when the key is active, or
// inactive with a rotation time; inactive with last_rotated N/A, it is empty.
func (c reportCells) accessKey(slot int) (key accessKeySlot, exists bool, err error) {
	prefix := fmt.Sprintf("access_key_%d_", slot)
	key.slot = slot
	active, err := c.boolean(prefix + "active")
	if err != nil {
		return key, false, err
	}
	if key.lastRotated, _, err = c.timestamp(prefix + "last_rotated"); err != nil {
		return key, false, err
	}
	if key.lastUsedDate, key.lastUsedNote, err = c.timestamp(prefix + "last_used_date"); err != nil {
		return key, false, err
	}
	key.lastUsedRegion = c.text(prefix + "last_used_region")
	key.lastUsedService = c.text(prefix + "last_used_service")
	isActive, known := active.(bool)
	if !known {
		return key, false, nil // active absent, empty or a special value: nothing to say
	}
	key.active = isActive
	return key, isActive || key.lastRotated != nil, nil
}

func insertCredentialReport(ctx context.Context, tx *sql.Tx, fileID int64, rep *credentialReport) error {
	generatedAt := timeOrNull(rep.generatedAt)
	if _, err := tx.ExecContext(ctx,
		`insert into credential_reports (report_id, account_id, generated_at, generated_at_source, content_sha256)
		 values (?, ?, ?, ?, ?)`,
		fileID, rep.accountID, generatedAt, rep.generatedSource, rep.sha256); err != nil {
		return fmt.Errorf("insert credential report: %w", err)
	}
	rowStmt, err := tx.PrepareContext(ctx,
		`insert into credential_report_rows (report_id, account_id, generated_at, row_number, user_name, arn,
		   user_creation_time, password_enabled, password_last_used, password_last_used_note,
		   password_last_changed, password_next_rotation, mfa_active, cert_1_active, cert_1_last_rotated,
		   cert_2_active, cert_2_last_rotated, raw, file_id)
		 values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, map(?::varchar[], ?::varchar[]), ?)`)
	if err != nil {
		return fmt.Errorf("insert credential report rows: %w", err)
	}
	defer rowStmt.Close()
	keyStmt, err := tx.PrepareContext(ctx,
		`insert into access_key_rows (report_id, account_id, user_name, arn, slot, active, last_rotated,
		   last_used_date, last_used_note, last_used_region, last_used_service)
		 values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("insert access keys: %w", err)
	}
	defer keyStmt.Close()
	for _, row := range rep.rows {
		if _, err := rowStmt.ExecContext(ctx, fileID, rep.accountID, generatedAt, row.number, row.user, row.arn,
			row.userCreationTime, row.passwordEnabled, row.passwordLastUsed, row.passwordLastUsedNote,
			row.passwordLastChanged, row.passwordNextRotation, row.mfaActive, row.cert1Active, row.cert1LastRotated,
			row.cert2Active, row.cert2LastRotated, row.columns, row.values, fileID); err != nil {
			return fmt.Errorf("row %d: insert: %w", row.number, err)
		}
		for _, k := range row.accessKeys {
			if _, err := keyStmt.ExecContext(ctx, fileID, rep.accountID, row.user, row.arn, k.slot, k.active,
				k.lastRotated, k.lastUsedDate, k.lastUsedNote, k.lastUsedRegion, k.lastUsedService); err != nil {
				return fmt.Errorf("row %d: insert access key %d: %w", row.number, k.slot, err)
			}
		}
	}
	return nil
}

// setReportGeneratedAt replaces an estimated generation time by the one a
// later copy of the same report states.
func setReportGeneratedAt(ctx context.Context, tx *sql.Tx, reportID int64, generatedAt time.Time) error {
	if _, err := tx.ExecContext(ctx,
		"update credential_reports set generated_at = ?, generated_at_source = ? where report_id = ?",
		generatedAt, generatedFromField, reportID); err != nil {
		return fmt.Errorf("update credential report %d: %w", reportID, err)
	}
	if _, err := tx.ExecContext(ctx,
		"update credential_report_rows set generated_at = ? where report_id = ?", generatedAt, reportID); err != nil {
		return fmt.Errorf("update credential report %d rows: %w", reportID, err)
	}
	return nil
}
