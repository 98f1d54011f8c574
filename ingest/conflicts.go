package ingest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"
)

// Copies of one CloudTrail event, (event_id, recipient_account_id), are
// compared before one of them is kept in events.
//
// Identical copies are duplicates: CloudTrail re-delivers an event as a
// byte-identical record. Copies are compared as the events rows they became
// (every column but file_id and record_index), with the JSON parts in
// canonical form (keys sorted, no spaces), so the same event taken from an S3
// log file, an Event-history JSON download or lookup-events output (whose
// record is a string, written by another serializer) is one event. Keys the
// events table does not hold are not compared: nothing reads them but the
// evidence file itself. An Event-history CSV row holds only some fields of
// its record (reducedFields): it matches a full copy when every one of those
// fields it has a value for is equal.
//
// Copies whose content differs are conflicting: all of them are kept in
// conflicting_events with their file and record, and the copy kept in events
// is chosen by keptCopyOrder, which does not depend on how the paths of the
// files were written.
//
// The work is done only for the keys that have copies at all (ct_dup_keys),
// and the comparison in Go only for those whose rows differ. On SANS-504's
// 30,477 records with 6,496 re-deliveries it costs no measurable CPU time
// over the window it replaced.

// eventContent is the SQL of an events row as JSON, without its position
// in the evidence or the hash of its key; it must be evaluated over the
// columns of events and those named in more (columns(*)), which are left out.
func eventContent(more ...string) string {
	return `to_json(struct_pack(*columns(* exclude (` + strings.Join(append([]string{"file_id", "record_index", "key_hash"}, more...), ", ") + `))))`
}

// deliveredSQL is the delivery time CloudTrail writes in a log file's name,
// ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHMMZ_UNIQUE.json.gz, or NULL.
const deliveredSQL = `try_strptime(regexp_extract(f.path, '_CloudTrail_[A-Za-z0-9-]+_([0-9]{8}T[0-9]{4}Z)_[^/!\\]*$', 1), '%Y%m%dT%H%MZ')`

// keySQL is the key of an events row e, an absent account as the empty string.
const keySQL = `e.event_id, coalesce(e.recipient_account_id, '')`

// The rows of the hashes in ct_dup_keys are copied once into ct_rows, with
// their rowid as row_id, and every later step reads them there: a statement
// that joins events with a few keys or rows reads every column of every
// stored event (four of them cost 11 s of CPU for 57 keys on a 10M-event
// case), whereas a range of rowids reads only the vectors (2,048 rows) it
// covers. copyRowIDsSQL finds the rows by the narrow key_hash column; they
// are read a cluster of nearby rows at a time (copyRowsSQL), or in one pass
// over the case when the clusters are more than maxCopyClusters.
const (
	copyRowIDsSQL = `
create or replace temp table ct_copy_rows as
select rowid as row_id from events where key_hash in (select key_hash from ct_dup_keys)`
	copyRowsTableSQL = `create or replace temp table ct_rows as select rowid as row_id, e.* from events e limit 0`
	copyRowsSQL      = `
insert into ct_rows
select rowid, e.* from events e
where rowid between ? and ? and rowid in (select row_id from ct_copy_rows)`
	allCopyRowsSQL = `
insert into ct_rows
select rowid, e.* from events e semi join ct_copy_rows c on e.rowid = c.row_id`
	rowsPerVector = 2048 // DuckDB's STANDARD_VECTOR_SIZE
)

// maxCopyClusters is the most clusters of rows read one by one (a variable
// for tests).
var maxCopyClusters = 256

// copyKeysSQL lists the keys of ct_rows that have copies, and whether their
// rows differ. The rows are compared as values (a hash aggregate checks
// equality after hashing), which costs a fifth of hashing each row's JSON.
var copyKeysSQL = `
create or replace temp table ct_copy_keys as
select ` + keySQL + ` as account, count(distinct row(*columns(* exclude (row_id, file_id, record_index, key_hash)))) > 1 as differs
from ct_rows e
group by all having count(*) > 1`

// copiesSQL collects every copy of the keys in ct_copy_keys with what orders
// them: the batch's files are given as lists (their evidence rows are written
// after the batch), older ones come from evidence_files. Parameters: the
// batch's file ids, paths, SHA-256 and formats, then lo twice.
var copiesSQL = `
create or replace temp table ct_copies as
with files as (
    select unnest(?::bigint[]) as file_id, unnest(?::varchar[]) as path,
           unnest(?::varchar[]) as sha256, unnest(?::varchar[]) as format
    union all
    select file_id, path, sha256, format from evidence_files where file_id < ?
)
select e.row_id, k.event_id, k.account, e.file_id, e.record_index, k.differs,
       e.file_id < ? as in_case,
       starts_with(coalesce(f.format, ''), '` + formatEventHistory + `') as reduced,
       ` + deliveredSQL + ` as delivered,
       f.sha256 as file_sha256
from ct_rows e
join ct_copy_keys k on e.event_id = k.event_id and coalesce(e.recipient_account_id, '') = k.account
join files f on f.file_id = e.file_id`

// differingCopiesSQL reads the copies of the keys whose rows differ, for
// comparing them in canonical form.
var differingCopiesSQL = `
with c as (
    select row_id, event_id, account, reduced from ct_copies where differs
),
x as (
    select e.row_id, ` + eventContent("row_id") + ` as content
    from ct_rows e semi join c on e.row_id = c.row_id
)
select c.event_id, c.account, c.row_id, c.reduced, x.content::varchar
from c join x using (row_id)
order by c.event_id, c.account, c.row_id`

// keptCopyOrder chooses the copy kept in events among the copies of one key,
// the first in this order. Identical copies: the one already in the case
// stays, so that no earlier file's count of duplicates changes. Then, and
// first for conflicting copies:
//   - (to come: a copy inside a file whose CloudTrail digest validates)
//   - a full record before an Event-history CSV row,
//   - the file CloudTrail delivered first, by the time in its name (files
//     without one last),
//   - the file with the smaller SHA-256, then the earlier record in the file.
//
// Nothing in it depends on how the files' paths were written.
const keptCopyOrder = `
    case when r.row_id is null then c.in_case end desc nulls last,
    c.reduced,
    c.delivered nulls last,
    c.file_sha256,
    c.record_index,
    c.file_id`

// resolveSQL settles every key of ct_copies: ct_keep says which copy stays,
// conflicting copies are written (again) into conflicting_events, and the
// others are removed from events.
var resolveSQL = []string{
	`create or replace temp table ct_keep as
	 select c.row_id, c.file_id, c.record_index, r.row_id is not null as conflict, r.content_sha256,
	        row_number() over (partition by c.event_id, c.account order by ` + keptCopyOrder + `) = 1 as kept
	 from ct_copies c left join ct_conflict_rows r using (row_id)`,
	`delete from conflicting_events c using ct_keep k
	 where k.conflict and c.file_id = k.file_id and c.record_index = k.record_index`,
	`insert into conflicting_events
	 with x as (
	     select e.row_id, e.event_id, e.recipient_account_id, e.file_id, e.record_index,
	            ` + eventContent("row_id") + ` as content
	     from ct_rows e semi join ct_conflict_rows r on e.row_id = r.row_id
	 )
	 select x.event_id, x.recipient_account_id, x.file_id, x.record_index, k.content_sha256, x.content, k.kept
	 from x join ct_keep k using (row_id)`,
	`delete from events where rowid in (select row_id from ct_keep where not kept)`,
}

// copiesPerFileSQL counts, per file of the batch, its records not kept
// because an identical copy is, and its records that have conflicting copies.
const copiesPerFileSQL = `
select file_id, count(*) filter (where not kept and not conflict), count(*) filter (where conflict)
from ct_keep where file_id between ? and ? group by file_id`

// resolveCopies keeps one copy of each key in ct_dup_keys, records
// conflicting copies, and sets each file's Duplicates (and a note on its
// conflicting records) in results.
func resolveCopies(ctx context.Context, tx *sql.Tx, run func(name, query string, args ...any) error, files []ctFile, lo, hi int64, results map[int64]ctResult) error {
	ids, paths, shas, formats := make([]int64, len(files)), make([]string, len(files)), make([]string, len(files)), make([]string, len(files))
	for i, f := range files {
		ids[i], paths[i], shas[i], formats[i] = f.fileID, f.in.display, f.in.sha256, f.in.sniff.format
	}
	if err := readCopyRows(ctx, tx, run); err != nil {
		return err
	}
	if err := run("copy keys", copyKeysSQL); err != nil {
		return err
	}
	if err := run("copies", copiesSQL, ids, paths, shas, formats, lo, lo); err != nil {
		return err
	}
	rowIDs, hashes, err := conflictingCopies(ctx, tx)
	if err != nil {
		return err
	}
	if err := run("conflicts", `create or replace temp table ct_conflict_rows (row_id bigint, content_sha256 varchar)`); err != nil {
		return err
	}
	if len(rowIDs) > 0 {
		if err := run("conflicts", `insert into ct_conflict_rows
			select unnest(?::bigint[]), unnest(?::varchar[])`, rowIDs, hashes); err != nil {
			return err
		}
	}
	for _, q := range resolveSQL {
		if err := run("resolve copies", q); err != nil {
			return err
		}
	}
	rows, err := tx.QueryContext(ctx, copiesPerFileSQL, lo, hi)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, dups, conflicts int64
		if err := rows.Scan(&id, &dups, &conflicts); err != nil {
			return err
		}
		res := results[id]
		res.stats.Duplicates = dups
		if conflicts > 0 {
			res.stats.Note = fmt.Sprintf("%d records have copies with other content in the case (see conflicting_events)", conflicts)
		}
		results[id] = res
	}
	return rows.Err()
}

// readCopyRows fills ct_rows with the rows of the hashes in ct_dup_keys.
func readCopyRows(ctx context.Context, tx *sql.Tx, run func(name, query string, args ...any) error) error {
	if err := run("copy rows", copyRowIDsSQL); err != nil {
		return err
	}
	if err := run("copy rows", copyRowsTableSQL); err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, "select row_id from ct_copy_rows order by row_id")
	if err != nil {
		return err
	}
	var clusters [][2]int64 // first and last rowid, rows closer than a vector together
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		if n := len(clusters); n > 0 && id-clusters[n-1][1] < rowsPerVector {
			clusters[n-1][1] = id
		} else {
			clusters = append(clusters, [2]int64{id, id})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(clusters) > maxCopyClusters {
		return run("copy rows", allCopyRowsSQL)
	}
	for _, c := range clusters {
		if err := run("copy rows", copyRowsSQL, c[0], c[1]); err != nil {
			return err
		}
	}
	return nil
}

// conflictingCopies compares the copies of the keys whose rows differ and
// returns the rows of the keys whose copies conflict, with the SHA-256 of
// each copy's canonical content.
func conflictingCopies(ctx context.Context, tx *sql.Tx) (rowIDs []int64, hashes []string, err error) {
	rows, err := tx.QueryContext(ctx, differingCopiesSQL)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var group []eventCopy
	var key [2]string
	flush := func() {
		if conflicting(group) {
			for _, c := range group {
				rowIDs, hashes = append(rowIDs, c.rowID), append(hashes, c.sha256)
			}
		}
		group = group[:0]
	}
	for rows.Next() {
		var c eventCopy
		var k [2]string
		if err := rows.Scan(&k[0], &k[1], &c.rowID, &c.reduced, &c.content); err != nil {
			return nil, nil, err
		}
		if k != key {
			flush()
			key = k
		}
		group = append(group, c)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	flush()
	return rowIDs, hashes, nil
}

// eventCopy is one copy of an event: its row in events and its content.
type eventCopy struct {
	rowID   int64
	reduced bool   // an Event-history CSV row, which holds reducedFields only
	content string // the events row as JSON (eventContent)
	sha256  string // of the canonical content, set by conflicting
}

// reducedFields are the events columns an Event-history CSV row shares with
// the full record of its event. Not compared: user_name (the console shows a
// session name where the record has the role's), resources (another shape),
// read_only and event_category (the console fills them in for records that
// lack them).
var reducedFields = []string{
	"event_time", "event_source", "event_name", "aws_region", "source_ip", "user_agent",
	"error_code", "request_id", "event_type", "access_key_id",
}

// conflicting says whether copies of one event differ in content, and sets
// each copy's sha256. Full copies must be equal in canonical form; a
// reduced copy must agree with the first full copy (or, without one, with
// the first copy) on every reduced field it has a value for.
func conflicting(copies []eventCopy) bool {
	if len(copies) < 2 {
		return false
	}
	var canon [][]byte
	for i := range copies {
		b, err := canonicalJSON([]byte(copies[i].content))
		if err != nil {
			b = []byte(copies[i].content) // compared as written: equal only when byte-identical
		}
		sum := sha256.Sum256(b)
		copies[i].sha256 = hex.EncodeToString(sum[:])
		canon = append(canon, b)
	}
	ref := -1
	for i, c := range copies {
		if !c.reduced {
			if ref >= 0 && copies[ref].sha256 != c.sha256 {
				return true
			}
			if ref < 0 {
				ref = i
			}
		}
	}
	if ref < 0 {
		ref = 0
	}
	refFields := topLevel(canon[ref])
	for i, c := range copies {
		if !c.reduced || i == ref {
			continue
		}
		fields := topLevel(canon[i])
		for _, name := range reducedFields {
			v := fields[name]
			if len(v) == 0 || string(v) == "null" {
				continue
			}
			if !bytes.Equal(v, refFields[name]) {
				return true
			}
		}
		if copies[ref].reduced && copies[ref].sha256 != c.sha256 {
			return true // two CSV rows of one event are written alike
		}
	}
	return false
}

// topLevel splits a JSON object into its members; nil when it is not one.
func topLevel(b []byte) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	return m
}

// maxCanonicalDepth bounds the nesting canonicalJSON follows; deeper content
// is compared as written.
const maxCanonicalDepth = 1000

// canonicalJSON rewrites a JSON value with the members of every object
// sorted by key and no insignificant space; strings are compared by their
// value (escapes decoded), numbers and literals as written. An object with a
// repeated key is an error: readers disagree on which of its values counts;
// so is text that is not UTF-8 or a string holding U+FFFD, which decoding
// may have made of different bytes. It is a small scanner of its own: encoding/json's token reader took half a
// millisecond per events row, the whole cost of comparing copies.
func canonicalJSON(data []byte) ([]byte, error) {
	if !utf8.Valid(data) {
		return nil, errors.New("not UTF-8") // decoding would make different bytes equal
	}
	p := canonicalizer{data: data}
	out, err := p.value(make([]byte, 0, len(data)), 0)
	if err != nil {
		return nil, err
	}
	if p.space(); p.i != len(p.data) {
		return nil, errors.New("data after the JSON value")
	}
	return out, nil
}

type canonicalizer struct {
	data []byte
	i    int
}

func (p *canonicalizer) space() {
	for p.i < len(p.data) && (p.data[p.i] == ' ' || p.data[p.i] == '\t' || p.data[p.i] == '\n' || p.data[p.i] == '\r') {
		p.i++
	}
}

// value appends the canonical form of the value at p.i to out.
func (p *canonicalizer) value(out []byte, depth int) ([]byte, error) {
	if depth > maxCanonicalDepth {
		return nil, errors.New("nested too deeply")
	}
	p.space()
	if p.i >= len(p.data) {
		return nil, io.ErrUnexpectedEOF
	}
	switch p.data[p.i] {
	case '{':
		return p.object(out, depth)
	case '[':
		p.i++
		out = append(out, '[')
		for n := 0; ; n++ {
			p.space()
			if p.i < len(p.data) && p.data[p.i] == ']' && n == 0 {
				p.i++
				return append(out, ']'), nil
			}
			if n > 0 {
				out = append(out, ',')
			}
			var err error
			if out, err = p.value(out, depth+1); err != nil {
				return nil, err
			}
			if end, err := p.next(']'); err != nil || end {
				return append(out, ']'), err
			}
		}
	case '"':
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		return appendJSONString(out, s), nil
	}
	start := p.i // a number or literal, kept as written
	for p.i < len(p.data) && !strings.ContainsRune(",:]} \t\n\r{[\"", rune(p.data[p.i])) {
		p.i++
	}
	if p.i == start {
		return nil, fmt.Errorf("unexpected %q at offset %d", p.data[p.i], p.i)
	}
	return append(out, p.data[start:p.i]...), nil
}

// next reads the ',' between elements or the closing delimiter; end is true
// at the closing one.
func (p *canonicalizer) next(closing byte) (end bool, err error) {
	p.space()
	if p.i >= len(p.data) {
		return false, io.ErrUnexpectedEOF
	}
	switch c := p.data[p.i]; c {
	case ',':
		p.i++
		return false, nil
	case closing:
		p.i++
		return true, nil
	default:
		return false, fmt.Errorf("unexpected %q at offset %d", c, p.i)
	}
}

func (p *canonicalizer) object(out []byte, depth int) ([]byte, error) {
	p.i++
	type member struct {
		key        string
		start, end int // of the value's canonical form in out
	}
	var members []member
	start := len(out)
	for {
		p.space()
		if p.i < len(p.data) && p.data[p.i] == '}' && len(members) == 0 {
			p.i++
			break
		}
		if p.i >= len(p.data) || p.data[p.i] != '"' {
			return nil, fmt.Errorf("object key expected at offset %d", p.i)
		}
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.i >= len(p.data) || p.data[p.i] != ':' {
			return nil, fmt.Errorf("':' expected at offset %d", p.i)
		}
		p.i++
		vStart := len(out)
		if out, err = p.value(out, depth+1); err != nil {
			return nil, err
		}
		members = append(members, member{key, vStart, len(out)})
		end, err := p.next('}')
		if err != nil {
			return nil, err
		}
		if end {
			break
		}
	}
	sort.Slice(members, func(i, j int) bool { return members[i].key < members[j].key })
	values := append([]byte(nil), out[start:]...)
	out = append(out[:start], '{')
	for i, m := range members {
		if i > 0 {
			if members[i-1].key == m.key {
				return nil, fmt.Errorf("key %q repeated", m.key)
			}
			out = append(out, ',')
		}
		out = appendJSONString(out, m.key)
		out = append(out, ':')
		out = append(out, values[m.start-start:m.end-start]...)
	}
	return append(out, '}'), nil
}

// str reads the string at p.i and returns its value.
func (p *canonicalizer) str() (string, error) {
	start, escaped := p.i, false
	for p.i++; p.i < len(p.data); p.i++ {
		switch p.data[p.i] {
		case '\\':
			escaped = true
			p.i++
		case '"':
			p.i++
			raw := p.data[start:p.i]
			if !escaped {
				return string(raw[1 : len(raw)-1]), nil
			}
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return "", err
			}
			if strings.ContainsRune(s, utf8.RuneError) {
				// a lone surrogate escape decodes to U+FFFD: different
				// strings would be equal
				return "", errors.New("string with a replacement character")
			}
			return s, nil
		}
	}
	return "", io.ErrUnexpectedEOF
}

// appendJSONString appends s as a JSON string: as it is when nothing in it
// needs escaping, else as encoding/json writes it.
func appendJSONString(out []byte, s string) []byte {
	plain := true
	for i := 0; i < len(s) && plain; i++ {
		plain = s[i] >= 0x20 && s[i] != '"' && s[i] != '\\'
	}
	if plain {
		out = append(out, '"')
		out = append(out, s...)
		return append(out, '"')
	}
	b, _ := json.Marshal(s)
	return append(out, b...)
}
