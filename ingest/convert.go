package ingest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// CloudTrail bodies other than {"Records":[…]} (bare arrays, NDJSON, single
// events, lookup-events output, console Event-history CSV), and Records files
// too large for read_json to take as one object, are rewritten, streaming and
// record by record, into a scratch file of {"offset":N,"Records":[…]} chunks
// so that every CloudTrail input takes the one DuckDB load path. Record
// positions are kept: record i of the original is record i of the rewrite.

// openBody opens a file, decompressing it when it is gzip.
func openBody(name string, gzipped bool) (io.ReadCloser, error) {
	f, err := openEvidence(name)
	if err != nil {
		return nil, err
	}
	if !gzipped {
		return f, nil
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("gzip: %w", err)
	}
	return struct {
		io.Reader
		io.Closer
	}{zr, closers{zr, f}}, nil
}

type closers []io.Closer

func (c closers) Close() error {
	var errs []error
	for _, x := range c {
		errs = append(errs, x.Close())
	}
	return errors.Join(errs...)
}

// recordsWriter writes records into chunk files prefix.K.json, each one
// {"offset":N,"Records":[…]} object of at most chunkRecords records or
// chunkBytes bytes, so that none comes near read_json's maximum object size
// and DuckDB reads the chunks of one large file on all its threads. offset is
// the position of the chunk's first record in the original file.
type recordsWriter struct {
	ctx    context.Context // stops a long rewrite between chunks; nil: never
	prefix string
	files  []string // the chunk files written
	f      *os.File // the open chunk
	w      *bufio.Writer
	n      int // records written
	chunkN int // records in the open chunk
	chunkB int // bytes in the open chunk
}

const (
	chunkRecords = 10_000
	chunkBytes   = maxRecordFileBytes / 4
)

// scratchError is a failure to write a rewrite into the scratch folder: a
// failure of the run, not something wrong with the evidence.
type scratchError struct{ err error }

func (e *scratchError) Error() string { return "write scratch file: " + e.err.Error() }
func (e *scratchError) Unwrap() error { return e.err }

func (rw *recordsWriter) startChunk() error {
	if err := rw.endChunk(); err != nil {
		return err
	}
	if rw.ctx != nil && rw.ctx.Err() != nil {
		return rw.ctx.Err()
	}
	name := fmt.Sprintf("%s.%d.json", rw.prefix, len(rw.files))
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return &scratchError{err}
	}
	rw.files, rw.f = append(rw.files, name), f
	if rw.w == nil {
		rw.w = bufio.NewWriterSize(f, 1<<20)
	} else {
		rw.w.Reset(f)
	}
	fmt.Fprintf(rw.w, `{"offset":%d,"Records":[`, rw.n)
	rw.chunkN, rw.chunkB = 0, 0
	return nil
}

// endChunk closes the open chunk, if any.
func (rw *recordsWriter) endChunk() error {
	if rw.f == nil {
		return nil
	}
	rw.w.WriteString("]}\n")
	err := rw.w.Flush()
	if cerr := rw.f.Close(); err == nil {
		err = cerr
	}
	rw.f = nil
	if err != nil {
		return &scratchError{err}
	}
	return nil
}

func (rw *recordsWriter) add(record []byte) error {
	if rw.f == nil || rw.chunkN >= chunkRecords || rw.chunkB+len(record) > chunkBytes {
		if err := rw.startChunk(); err != nil {
			return err
		}
	}
	if rw.chunkN > 0 {
		rw.w.WriteByte(',')
	}
	rw.n++
	rw.chunkN++
	rw.chunkB += len(record) + 1
	if _, err := rw.w.Write(record); err != nil {
		return &scratchError{err}
	}
	return nil
}

// addDecoded adds the record a decoder just read, or says why it is not one:
// the decoding error, or a value that is not an object.
func (rw *recordsWriter) addDecoded(raw json.RawMessage, err error) error {
	if err != nil {
		return fmt.Errorf("record %d: %w", rw.n, invalid(err))
	}
	if !isObject(raw) {
		return fmt.Errorf("record %d: not a JSON object", rw.n)
	}
	return rw.add(raw)
}

// addElements adds the records of the JSON array dec is in, up to its end.
func (rw *recordsWriter) addElements(dec *boundedDecoder) error {
	for dec.More() {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if err := rw.addDecoded(raw, err); err != nil {
			return err
		}
	}
	return nil
}

// close ends the last chunk; a body without records still gets one, empty.
func (rw *recordsWriter) close() error {
	if len(rw.files) == 0 {
		if err := rw.startChunk(); err != nil {
			return err
		}
	}
	return rw.endChunk()
}

// convertToRecords rewrites in's body into chunk files named prefix.K.json
// and returns them.
func convertToRecords(ctx context.Context, in *input, prefix string) ([]string, error) {
	body, err := openBody(in.local, in.sniff.gzipped)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	rw := &recordsWriter{ctx: ctx, prefix: prefix}
	defer rw.endChunk() // after a failure; the scratch folder goes at the end
	switch in.sniff.format {
	case formatRecords:
		err = convertRecordsObjects(body, rw)
	case formatArray:
		err = convertArray(body, rw)
	case formatNDJSON:
		err = convertStream(body, rw)
	case formatLookupEvents:
		err = convertLookupEvents(body, rw)
	case formatEventHistory:
		err = convertEventHistoryCSV(body, rw)
	default:
		err = fmt.Errorf("no conversion for format %q", in.sniff.format)
	}
	if err == nil {
		err = rw.close()
	}
	if err != nil {
		rw.endChunk()
		for _, name := range rw.files { // a failed rewrite of a large body is large
			os.Remove(name)
		}
		return nil, err
	}
	return rw.files, nil
}

// isObject reports whether a raw JSON value is an object.
func isObject(raw []byte) bool {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	return len(raw) > 0 && raw[0] == '{'
}

func convertArray(r io.Reader, rw *recordsWriter) error {
	dec := newBoundedDecoder(r)
	if tok, err := dec.Token(); err != nil {
		return fmt.Errorf("invalid JSON array: %w", err)
	} else if tok != json.Delim('[') {
		return errors.New("not a JSON array")
	}
	if err := rw.addElements(dec); err != nil {
		return err
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("invalid JSON array end: %w", err)
	}
	return trailingJSON(dec)
}

// convertRecordsObjects takes {"Records":[…]} objects (one, as CloudTrail
// delivers them, or several one after another), numbering their records on
// from one object to the next. It reads them as read_json does: other keys
// are skipped, "Records": null holds no records, and a second Records key in
// one object is an error.
func convertRecordsObjects(r io.Reader, rw *recordsWriter) error {
	dec := newBoundedDecoder(r)
	for obj := 0; dec.More(); obj++ {
		if tok, err := dec.Token(); err != nil {
			return fmt.Errorf("object %d: %w", obj, invalid(err))
		} else if tok != json.Delim('{') {
			return fmt.Errorf("object %d: not a JSON object", obj)
		}
		seen := false
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return fmt.Errorf("object %d, after record %d: %w", obj, rw.n, invalid(err))
			}
			if tok != "Records" {
				var skip json.RawMessage
				if err := dec.Decode(&skip); err != nil {
					return fmt.Errorf("object %d, after record %d: %w", obj, rw.n, invalid(err))
				}
				continue
			}
			if seen {
				return fmt.Errorf("object %d: duplicate key Records", obj)
			}
			seen = true
			if err := convertRecordsArray(dec, rw, obj); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil {
			return fmt.Errorf("object %d, after record %d: %w", obj, rw.n, invalid(err))
		}
	}
	return trailingJSON(dec)
}

// convertRecordsArray takes the value of a Records key.
func convertRecordsArray(dec *boundedDecoder, rw *recordsWriter, obj int) error {
	tok, err := dec.Token()
	switch {
	case err != nil:
		return fmt.Errorf("object %d: Records: %w", obj, invalid(err))
	case tok == nil:
		return nil
	case tok != json.Delim('['):
		return fmt.Errorf("object %d: Records is not an array", obj)
	}
	if err := rw.addElements(dec); err != nil {
		return err
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("after record %d: %w", rw.n, invalid(err))
	}
	return nil
}

// invalid says why a body is not the JSON it should be: a value too large
// to read, or invalid JSON.
func invalid(err error) error {
	if isTooLarge(err) {
		return err
	}
	return fmt.Errorf("invalid JSON: %w", unexpectedEOF(err))
}

// unexpectedEOF says that a body ended inside a JSON document.
func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// convertStream takes one event or a stream of them (NDJSON, or pretty-printed
// objects one after another).
func convertStream(r io.Reader, rw *recordsWriter) error {
	dec := newBoundedDecoder(r)
	for {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err := rw.addDecoded(raw, err); err != nil {
			return err
		}
	}
}

func trailingJSON(dec *boundedDecoder) error {
	_, err := dec.Token()
	switch {
	case errors.Is(err, io.EOF):
		return nil
	case err != nil:
		return fmt.Errorf("after the JSON document: %w", err)
	}
	return errors.New("data after the end of the JSON document")
}

// convertLookupEvents takes `aws cloudtrail lookup-events` output, whose
// events carry the full record as a JSON string in CloudTrailEvent. It reads
// one event at a time: the CLI joins all pages of a long lookup into one
// document.
func convertLookupEvents(r io.Reader, rw *recordsWriter) error {
	dec := newBoundedDecoder(r)
	if tok, err := dec.Token(); err != nil {
		return fmt.Errorf("lookup-events: %w", invalid(err))
	} else if tok != json.Delim('{') {
		return errors.New("lookup-events: not a JSON object")
	}
	seen := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("lookup-events: %w", invalid(err))
		}
		if key, _ := tok.(string); !strings.EqualFold(key, "Events") {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return fmt.Errorf("lookup-events: %w", invalid(err))
			}
			continue
		}
		if seen {
			return errors.New("lookup-events: duplicate key Events")
		}
		seen = true
		if err := convertLookupEventList(dec, rw); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("lookup-events: %w", invalid(err))
	}
	return nil
}

// convertLookupEventList takes the value of lookup-events' Events key.
func convertLookupEventList(dec *boundedDecoder, rw *recordsWriter) error {
	tok, err := dec.Token()
	switch {
	case err != nil:
		return fmt.Errorf("Events: %w", invalid(err))
	case tok == nil:
		return nil
	case tok != json.Delim('['):
		return errors.New("Events: not an array")
	}
	for i := 0; dec.More(); i++ {
		var e struct {
			EventID         string  `json:"EventId"`
			CloudTrailEvent *string `json:"CloudTrailEvent"`
		}
		if err := dec.Decode(&e); err != nil {
			return fmt.Errorf("Events[%d]: %w", i, invalid(err))
		}
		if e.CloudTrailEvent == nil {
			return fmt.Errorf("Events[%d] (%s): no CloudTrailEvent", i, e.EventID)
		}
		raw := []byte(*e.CloudTrailEvent)
		if !json.Valid(raw) || !isObject(raw) {
			return fmt.Errorf("Events[%d] (%s): CloudTrailEvent is not a JSON object", i, e.EventID)
		}
		if err := rw.add(raw); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("Events: %w", invalid(err))
	}
	return nil
}

// eventHistoryColumns maps the console Event-history CSV header to CloudTrail
// record keys. User name and AWS access key go into userIdentity, without a type.
var eventHistoryColumns = map[string]string{
	"Event time":           "eventTime",
	"Event source":         "eventSource",
	"Event name":           "eventName",
	"AWS region":           "awsRegion",
	"Source IP address":    "sourceIPAddress",
	"User agent":           "userAgent",
	"Error code":           "errorCode",
	"Request ID":           "requestID",
	"Event ID":             "eventID",
	"Read-only":            "readOnly",
	"Event type":           "eventType",
	"Recipient Account Id": "recipientAccountId",
	"Event category":       "eventCategory",
}

func convertEventHistoryCSV(r io.Reader, rw *recordsWriter) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return fmt.Errorf("line 1: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	for _, need := range []string{"Event time", "Event name", "Event source"} {
		if _, ok := col[need]; !ok {
			return fmt.Errorf("line 1: no %q column", need)
		}
	}
	get := func(row []string, name string) string {
		if i, ok := col[name]; ok && i < len(row) {
			return row[i]
		}
		return ""
	}
	for {
		row, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err // a *csv.ParseError names its line
		}
		line, _ := cr.FieldPos(0)
		if len(row) == 1 && strings.TrimSpace(row[0]) == "" {
			continue
		}
		if v := get(row, "Recipient Account Id"); v != "" {
			if err := checkAccountID(v); err != nil {
				return fmt.Errorf("line %d: Recipient Account Id: %w", line, err)
			}
		}
		rec := map[string]any{}
		for name, key := range eventHistoryColumns {
			if v := get(row, name); v != "" {
				rec[key] = v
			}
		}
		ui := map[string]string{}
		if v := get(row, "User name"); v != "" {
			ui["userName"] = v
		}
		if v := get(row, "AWS access key"); v != "" {
			ui["accessKeyId"] = v
		}
		if len(ui) > 0 {
			rec["userIdentity"] = ui
		}
		if v := get(row, "Resources"); v != "" {
			if json.Valid([]byte(v)) {
				rec["resources"] = json.RawMessage(v)
			} else {
				rec["resources"] = v
			}
		}
		raw, err := json.Marshal(rec) // map keys are sorted: stable output
		if err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		if err := rw.add(raw); err != nil {
			return err
		}
	}
}
