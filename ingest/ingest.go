package ingest

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// IngestOptions tune one ingest run.
type IngestOptions struct {
	Log      *slog.Logger   // nil: discard
	Progress func(Progress) // how far the ingest has come (progress.go); nil: none
	// BatchBytes bounds the compressed size of the CloudTrail files loaded in
	// one statement; 0 means the default.
	BatchBytes int64
	// Unpack bounds what bundles unpack; zero fields take DefaultUnpackLimits.
	Unpack UnpackLimits
	Run    RunInfo // who ran it with what, for the ingest_runs log
}

// FileOutcome is what became of one input file.
type FileOutcome struct {
	FileID     int64
	Path       string
	Kind       string
	Status     string // loaded, rejected, duplicate, partial; or resubmitted (no new evidence row)
	Error      string // the reason for a rejection, or a note on a loaded file
	Records    int64
	Duplicates int64
}

// Evidence statuses.
const (
	StatusLoaded    = "loaded"
	StatusRejected  = "rejected"
	StatusDuplicate = "duplicate"
	StatusPartial   = "partial" // a bundle read only in part: its error says what was lost
	// StatusResubmitted is the outcome of a file already loaded by an earlier
	// run: it is counted in ingest_runs, not recorded again (FileID is the
	// file it repeats).
	StatusResubmitted = "resubmitted"
)

// CloudTrail batches are large: DuckDB writes one big insert straight into
// row groups, while several smaller ones of the same archive left 6 s of
// checkpoint work at close (1M events: 26.4 s in 64 MB batches, 17.9 s in one).
const (
	defaultBatchBytes = 512 << 20
	maxBatchFiles     = 20000
	// Whole-file kinds are read and parsed in memory. They are small (the
	// authorization details of an account with thousands of roles are tens
	// of MB); a larger body is refused rather than let one file take
	// gigabytes of memory.
	maxBodyBytes = 256 << 20
)

// CheckPaths returns an error naming the first evidence path that does not
// exist: called before a case is created, so that a mistyped path leaves no
// empty case behind.
func CheckPaths(paths []string) error {
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("evidence path: %w", err)
		}
	}
	return nil
}

// Ingest loads the files named by paths (files, folders, bundles) into the
// case and returns what became of each of them, in load order. Only an error
// that stops the whole run is returned; bad evidence is recorded per file.
func (c *Case) Ingest(ctx context.Context, paths []string, opts IngestOptions) (_ []FileOutcome, err error) {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	log.Debug("ingest started")
	paths, exports := splitExports(paths)
	inputs, err := collect(paths)
	if err != nil {
		return nil, err
	}
	sc, err := newScratch(log)
	if err != nil {
		return nil, err
	}
	defer func() {
		start := time.Now()
		if err := sc.remove(); err != nil {
			log.Warn("remove temporary folder", "dir", sc.dir, "err", err)
		}
		log.Debug("temporary folder removed", "seconds", time.Since(start).Seconds())
	}()
	conn, err := c.DB.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect to case: %w", err)
	}
	defer func() {
		start := time.Now()
		conn.Close()
		log.Debug("connection closed", "seconds", time.Since(start).Seconds())
	}()

	known, nextID, err := knownFiles(ctx, conn)
	if err != nil {
		return nil, err
	}
	whole, err := wholeBundles(ctx, conn)
	if err != nil {
		return nil, err
	}
	before, err := notLoadedRows(ctx, conn)
	if err != nil {
		return nil, err
	}
	progress := &tracker{fn: opts.Progress, p: Progress{Stage: StageReading}}
	run := &ingestRun{
		conn: conn, log: log, opts: opts, sc: sc, known: known, progress: progress, sizes: map[string]int64{}, db: c.DB, limit: c.memoryLimit,
		stamp: runStamp{at: time.Now().UTC(), before: before, reused: map[int64]int64{}},
	}
	if run.stamp.id, err = startRun(ctx, conn, opts.Run, run.stamp.at); err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, run.finish(ctx, err == nil)) }()

	start := time.Now()
	if err := readPipes(inputs, sc); err != nil {
		return nil, err
	}
	all, bundleErrs, err := expandBundles(ctx, inputs, newUnpacker(sc, opts.Unpack), progress, whole)
	if err != nil {
		return nil, err
	}
	log.Debug("files hashed and sniffed", "files", len(all), "seconds", time.Since(start).Seconds())
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].display < all[j].display })

	idOf := make(map[*input]int64, len(all))
	for i, in := range all {
		idOf[in] = nextID + int64(i)
	}
	var total int64
	for _, in := range all {
		if in.sniff.kind != KindBundle || in.reject != "" || in.err != nil {
			run.sizes[in.display] = in.size
			total += in.size
		}
	}
	progress.update(func(p *Progress) { *p = Progress{Stage: StageLoading, Files: len(all), Bytes: total} })
	// first is the first file of this run with a given SHA-256: a file
	// given twice in one run is recorded twice, the second a duplicate.
	first := map[string]int64{}
	var ctEvidence, bodies []evidence
	for _, in := range all {
		if err := ctx.Err(); err != nil {
			return run.outcomes, err
		}
		if prior := known[in.sha256]; in.sha256 != "" && prior != 0 {
			run.resubmitted(in, prior)
			continue
		}
		id := idOf[in]
		ev := newEvidence(id, in)
		dupOf := first[in.sha256]
		switch rep := bundleErrs[in].repeatOf; {
		case rep != nil && dupOf == 0:
			dupOf = idOf[rep] // a repeated bundle, not unpacked, whatever its name
		case in.sha256 != "" && dupOf == 0:
			first[in.sha256] = id
		}
		switch {
		case in.reject != "":
			ev.kind = KindUnknown
			err = run.reject(ctx, nil, ev, in.reject)
		case in.err != nil:
			ev.kind = KindUnknown
			err = run.reject(ctx, nil, ev, in.err.Error())
		case in.sha256 != "" && dupOf != 0:
			ev.status, ev.duplicateOf = StatusDuplicate, dupOf
			err = run.record(ctx, nil, ev)
		case in.sniff.kind == KindUnknown:
			err = run.reject(ctx, nil, ev, "not a recognised AWS export: "+in.sniff.reason)
		case in.sniff.kind == KindBundle:
			res := bundleErrs[in]
			ev.status, ev.stats.Records = StatusLoaded, int64(res.entries)
			switch {
			case res.err != nil && res.entries == 0:
				err = run.reject(ctx, nil, ev, "cannot read bundle: "+res.err.Error())
			case res.err != nil:
				// The entries read are kept (each has its own row); the
				// bundle says that the rest of it is lost.
				ev.status = StatusPartial
				ev.note = fmt.Sprintf("bundle read only in part: %d entries read, then %v; the entries after them are lost", res.entries, res.err)
				fallthrough
			default:
				err = run.record(ctx, nil, ev)
			}
		case in.sniff.kind == KindCloudTrail:
			ctEvidence = append(ctEvidence, ev)
		default:
			bodies = append(bodies, ev)
		}
		if err != nil {
			return run.outcomes, err
		}
	}
	log.Debug("files prepared for loading", "files", len(all))
	start = time.Now()
	if err := run.loadBodies(ctx, bodies); err != nil {
		return run.outcomes, err
	}
	log.Debug("whole-file kinds loaded", "files", len(bodies), "seconds", time.Since(start).Seconds())
	start = time.Now()
	if err := run.loadCloudTrail(ctx, ctEvidence); err != nil {
		return run.outcomes, err
	}
	log.Debug("cloudtrail loaded", "files", len(ctEvidence), "seconds", time.Since(start).Seconds())
	start = time.Now()
	if err := run.countDuplicateFiles(ctx); err != nil {
		return run.outcomes, err
	}
	log.Debug("duplicate files counted", "seconds", time.Since(start).Seconds())
	for _, dir := range exports {
		start = time.Now()
		if err := run.importExport(ctx, dir); err != nil {
			return run.outcomes, err
		}
		log.Debug("parquet export merged", "dir", dir, "seconds", time.Since(start).Seconds())
	}
	return run.outcomes, nil
}

// prepareCloudTrail gives a CloudTrail file the scratch name DuckDB reads it
// under: a link to a Records file, or the rewrite of another shape. A body
// that cannot be rewritten is a reason to reject the file; err is a failure
// of the run itself.
func prepareCloudTrail(ctx context.Context, in *input, id int64, sc *scratch) (f ctFile, reason string, err error) {
	f = ctFile{in: in, fileID: id}
	if in.sniff.format == formatRecords && !mayExceedObjectSize(in) {
		if abs, ok := readablePath(in.local, in.sniff.gzipped); ok {
			f.locals = []string{abs}
			return f, "", nil
		}
		local := ctLocalName(sc, id, in.sniff.gzipped)
		f.locals = []string{local}
		return f, "", linkForReading(in.local, local)
	}
	return rewriteCloudTrail(ctx, f, sc)
}

// rewriteCloudTrail rewrites a CloudTrail file's body in chunks (convert.go).
// A body that cannot be rewritten is a reason to reject the file; err is a
// failure of the run (the scratch folder, or the run was stopped).
func rewriteCloudTrail(ctx context.Context, f ctFile, sc *scratch) (rf ctFile, reason string, err error) {
	locals, err := convertToRecords(ctx, f.in, filepath.Join(sc.dir, fmt.Sprint(f.fileID)))
	var scratchErr *scratchError
	switch {
	case errors.As(err, &scratchErr) || ctx.Err() != nil:
		return f, "", errors.Join(err, ctx.Err())
	case err != nil:
		return f, err.Error(), nil
	}
	f.locals, f.rewritten = locals, true
	return f, "", nil
}

// preparedCT is the outcome of prepareCloudTrail.
type preparedCT struct {
	f      ctFile
	reason string
	err    error
}

// prepareCloudTrailFiles prepares CloudTrail files with up to workers
// goroutines: rewriting a body that is not a Records file, or one too large
// for one object, decodes it at about 85 MB/s, so merged exports of many
// such files took as long to rewrite as to load. After a cancellation, the
// files not prepared have zero results: the caller checks ctx first.
func prepareCloudTrailFiles(ctx context.Context, evs []evidence, sc *scratch, workers int) []preparedCT {
	out := make([]preparedCT, len(evs))
	parallel(ctx, len(evs), workers, func(_, i int) {
		f, reason, err := prepareCloudTrail(ctx, evs[i].in, evs[i].fileID, sc)
		out[i] = preparedCT{f, reason, err}
	})
	return out
}

// mayExceedObjectSize says whether a Records file's body may be larger than
// read_json takes as one object (CloudTrail's own files are far smaller;
// merged exports such as public training datasets are not). A gzip file's
// body size is in its trailer, kept while the file was hashed; it holds the
// size modulo 4 GiB of the last member only: a file it misleads fails alone,
// and is then rewritten (see loadCloudTrail).
func mayExceedObjectSize(in *input) bool {
	if in.size > maxRecordFileBytes || !in.sniff.gzipped {
		return in.size > maxRecordFileBytes
	}
	return in.size >= int64(len(in.tail)) && binary.LittleEndian.Uint32(in.tail[:]) > maxRecordFileBytes
}

// countDuplicateFiles gives each duplicate file of this run the record count
// of the file it repeats: all of its records are already in the case.
func (r *ingestRun) countDuplicateFiles(ctx context.Context) error {
	// A file rejected again for an earlier reason took no row (insertEvidence):
	// the duplicates of it in this run name its earlier row instead.
	for reserved, earlier := range r.stamp.reused {
		_, err := r.conn.ExecContext(ctx, `update evidence_files set duplicate_of = ?
			where run_id = ? and duplicate_of = ? and not exists (select 1 from evidence_files where file_id = ?)`,
			earlier, r.stamp.id, reserved, reserved)
		if err != nil {
			return fmt.Errorf("count duplicate files: %w", err)
		}
	}
	_, err := r.conn.ExecContext(ctx, `update evidence_files d
		set records = o.records, duplicates = o.records
		from evidence_files o
		where d.duplicate_of = o.file_id and d.status = 'duplicate' and d.records = 0 and d.run_id = ?`, r.stamp.id)
	if err != nil {
		return fmt.Errorf("count duplicate files: %w", err)
	}
	for i, o := range r.outcomes {
		if o.Status != StatusDuplicate {
			continue
		}
		var n sql.NullInt64
		if err := r.conn.QueryRowContext(ctx, "select records from evidence_files where file_id = ?", o.FileID).Scan(&n); err != nil {
			return fmt.Errorf("count duplicate files: %w", err)
		}
		r.outcomes[i].Records, r.outcomes[i].Duplicates = n.Int64, n.Int64
	}
	return nil
}

type bundleResult struct {
	entries  int
	err      error
	repeatOf *input // a bundle not unpacked: the same bytes were, under this name
}

// expandBundles hashes and sniffs every input and unpacks bundles (also
// bundles inside bundles), returning all files including the bundles. A
// bundle that cannot be read to its end has its error in its result; a
// failure to write the scratch folder (its disk is full) stops the run.
//
// A bundle whose SHA-256 is in whole was loaded whole by an earlier run: it
// is not unpacked again, so that giving it again costs only its hashing.
func expandBundles(ctx context.Context, inputs []*input, u *unpacker, progress *tracker, whole map[string]bool) ([]*input, map[*input]bundleResult, error) {
	results := map[*input]bundleResult{}
	unpacked := map[string]*input{} // by SHA-256
	sc := u.sc
	var all []*input
	queue := inputs
	for len(queue) > 0 && ctx.Err() == nil {
		progress.update(func(p *Progress) { p.Files += len(queue) })
		prepare(ctx, queue, runtime.NumCPU(), func(in *input) {
			progress.update(func(p *Progress) { p.FilesDone++; p.BytesDone += in.size })
		})
		// Of bundles with the same bytes, the first by name is unpacked.
		sort.SliceStable(queue, func(i, j int) bool { return queue[i].display < queue[j].display })
		var next []*input
		for _, in := range queue {
			all = append(all, in)
			if in.reject != "" || in.err != nil || in.sniff.kind != KindBundle || whole[in.sha256] {
				continue
			}
			if first := unpacked[in.sha256]; first != nil {
				results[in] = bundleResult{repeatOf: first}
				continue
			}
			if u.tooDeep(in) == nil {
				unpacked[in.sha256] = in
			}
			entries, err := u.unpack(in)
			if isScratchError(err) {
				return nil, nil, fmt.Errorf("unpack %s into %s: %w", in.display, sc.dir, err)
			}
			results[in] = bundleResult{entries: len(entries), err: err}
			for _, e := range entries {
				e.parent = in
			}
			next = append(next, entries...)
		}
		queue = next
	}
	return withoutForeignArchives(all, results), results, nil
}

// withoutForeignArchives rejects each bundle read whole whose entries, at
// any depth, were all read and none is an AWS export (a .docx, .xlsx or .jar
// is a zip file too), and leaves out its entries: the bundle's row names
// them, one row per entry would only list the parts of a document. A bundle
// with an entry refused or unreadable keeps its rows, which say why.
func withoutForeignArchives(all []*input, results map[*input]bundleResult) []*input {
	keep := map[*input]bool{} // bundles holding evidence or a refused entry
	entries := map[*input][]string{}
	for _, in := range all {
		if in.parent != nil {
			entries[in.parent] = append(entries[in.parent], strings.TrimPrefix(in.display, in.parent.display+"!"))
		}
		if in.reject != "" || in.err != nil || results[in].err != nil || (in.sniff.kind != KindUnknown && in.sniff.kind != KindBundle) {
			for p := in.parent; p != nil && !keep[p]; p = p.parent {
				keep[p] = true
			}
		}
	}
	// A repeated bundle, not unpacked, holds what its first copy holds.
	for changed := true; changed; {
		changed = false
		for _, in := range all {
			if r := results[in].repeatOf; r != nil && keep[r] && !keep[in] {
				for p := in; p != nil && !keep[p]; p = p.parent {
					keep[p], changed = true, true
				}
			}
		}
	}
	original := func(in *input) *input {
		if r := results[in].repeatOf; r != nil {
			return r
		}
		return in
	}
	foreign := func(in *input) bool {
		res, ok := results[original(in)]
		return ok && res.err == nil && !keep[original(in)]
	}
	kept := all[:0:0]
	for _, in := range all {
		inForeign := false
		for p := in.parent; p != nil; p = p.parent {
			inForeign = inForeign || foreign(p)
		}
		if inForeign {
			continue
		}
		switch {
		case foreign(in) && len(entries[original(in)]) == 0:
			in.reject = "not a bundle of evidence: the archive holds no files"
		case foreign(in):
			names := entries[original(in)]
			more := ""
			if len(names) > 3 {
				names, more = names[:3], ", …"
			}
			in.reject = fmt.Sprintf("not a bundle of evidence: none of its %d entries is an AWS export (%s%s)",
				results[original(in)].entries, strings.Join(names, ", "), more)
		}
		kept = append(kept, in)
	}
	return kept
}

// knownFiles returns the SHA-256 of every file loaded in the case (with the
// file_id of its first copy) and the next free file_id. A file that was
// rejected is not in the case: given again, it is tried again.
func knownFiles(ctx context.Context, conn *sql.Conn) (map[string]int64, int64, error) {
	known := map[string]int64{}
	rows, err := conn.QueryContext(ctx,
		"select sha256, min(file_id) from evidence_files where status = 'loaded' and sha256 is not null group by sha256")
	if err != nil {
		return nil, 0, fmt.Errorf("read evidence: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var sha string
		var id int64
		if err := rows.Scan(&sha, &id); err != nil {
			return nil, 0, fmt.Errorf("read evidence: %w", err)
		}
		known[sha] = id
	}
	var next int64
	if err := conn.QueryRowContext(ctx, "select coalesce(max(file_id), 0) + 1 from evidence_files").Scan(&next); err != nil {
		return nil, 0, fmt.Errorf("read evidence: %w", err)
	}
	return known, next, rows.Err()
}

type ingestRun struct {
	conn     *sql.Conn
	db       *sql.DB // the case, for settings changed beside the batch's transaction
	limit    string  // DuckDB's memory limit, as the case was opened with it
	log      *slog.Logger
	opts     IngestOptions
	sc       *scratch
	known    map[string]int64
	stamp    runStamp
	outcomes []FileOutcome
	progress *tracker
	sizes    map[string]int64 // bytes each file counts for in the progress, by path
	rewrites []string         // chunk files of the batch being loaded, removed after it
}

// evidence is one evidence_files row in the making.
type evidence struct {
	fileID       int64
	in           *input
	kind, format string
	status       string
	note         string
	duplicateOf  int64
	stats        fileStats
}

// newEvidence starts the evidence row of an input: its kind and format
// (with "+gzip" when compressed) as sniffed.
func newEvidence(fileID int64, in *input) evidence {
	ev := evidence{fileID: fileID, in: in, kind: in.sniff.kind, format: in.sniff.format}
	if in.sniff.gzipped {
		ev.format += "+gzip"
	}
	return ev
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// record writes the evidence row (inside tx when not nil) and reports progress.
func (r *ingestRun) record(ctx context.Context, tx *sql.Tx, ev evidence) error {
	return r.recordAll(ctx, tx, []evidence{ev})
}

// recordAll writes evidence rows in one statement and reports them.
func (r *ingestRun) recordAll(ctx context.Context, tx *sql.Tx, evs []evidence) error {
	var db execer = r.conn
	if tx != nil {
		db = tx
	}
	outcomes, err := insertEvidence(ctx, db, evs, r.stamp)
	if err != nil {
		return err
	}
	r.report(outcomes)
	return nil
}

// report adds outcomes of files whose evidence is committed.
func (r *ingestRun) report(outcomes []FileOutcome) {
	for _, o := range outcomes {
		if o.Status == StatusRejected {
			r.log.Info("rejected", "file", o.Path, "reason", o.Error)
		}
	}
	r.outcomes = append(r.outcomes, outcomes...)
	r.progress.update(func(p *Progress) {
		p.FilesDone = len(r.outcomes)
		for _, o := range outcomes {
			p.BytesDone += r.sizes[o.Path]
			if o.Kind != KindBundle { // a bundle's records are its entries
				p.Records += o.Records
			}
		}
	})
}

// insertEvidence writes evidence rows in one statement. A file rejected by
// an earlier run for the same reason, or a duplicate an earlier run found
// at the same path, gets no new row: its outcome names the earlier one.
func insertEvidence(ctx context.Context, db execer, all []evidence, stamp runStamp) ([]FileOutcome, error) {
	outcomes := make([]FileOutcome, len(all))
	var evs []evidence
	var at []int // the place in outcomes of evs[i]
	for i, ev := range all {
		if id, ok := stamp.before[repeatKey(ev.in.sha256, ev.in.display, ev.status, ev.message())]; ok && ev.status != StatusLoaded && ev.status != StatusPartial {
			stamp.reused[ev.fileID] = id
			outcomes[i] = FileOutcome{FileID: id, Path: ev.in.display, Kind: ev.kind, Status: ev.status, Error: ev.message()}
			continue
		}
		evs, at = append(evs, ev), append(at, i)
	}
	if len(evs) == 0 {
		return outcomes, nil
	}
	n := len(evs)
	// duckdb-go binds lists of plain values only: empty strings, -1 and the
	// zero time stand for NULL and are turned back into it in SQL.
	var (
		ids, sizes, dupOf, records, dups = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		paths, kinds, statuses, formats  = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		shas, msgs, accts                = make([]string, n), make([]string, n), make([]string, n)
		firsts, lasts                    = make([]time.Time, n), make([]time.Time, n)
	)
	for i, ev := range evs {
		msg := ev.message()
		ids[i], sizes[i], dupOf[i] = ev.fileID, ev.in.size, ev.duplicateOf
		records[i], dups[i] = -1, -1
		if ev.status != StatusRejected {
			records[i], dups[i] = ev.stats.Records, ev.stats.Duplicates
		}
		paths[i], kinds[i], statuses[i] = ev.in.display, ev.kind, ev.status
		formats[i], shas[i], msgs[i], accts[i] = ev.format, ev.in.sha256, msg, ev.stats.AccountID
		firsts[i], lasts[i] = ev.stats.First, ev.stats.Last
		outcomes[at[i]] = FileOutcome{
			FileID: ev.fileID, Path: ev.in.display, Kind: ev.kind, Status: ev.status, Error: msg,
			Records: ev.stats.Records, Duplicates: ev.stats.Duplicates,
		}
	}
	_, err := db.ExecContext(ctx, `insert into evidence_files
		(file_id, path, kind, format, sha256, bytes, records, duplicates, status, error, account_id,
		 first_event, last_event, ingested_at, duplicate_of, run_id)
		select unnest(?::bigint[]), unnest(?::varchar[]), unnest(?::varchar[]), nullif(unnest(?::varchar[]), ''),
		       nullif(unnest(?::varchar[]), ''), unnest(?::bigint[]), nullif(unnest(?::bigint[]), -1),
		       nullif(unnest(?::bigint[]), -1), unnest(?::varchar[]), nullif(unnest(?::varchar[]), ''),
		       nullif(unnest(?::varchar[]), ''), nullif(unnest(?::timestamptz[]), '0001-01-01 00:00:00+00'::timestamptz),
		       nullif(unnest(?::timestamptz[]), '0001-01-01 00:00:00+00'::timestamptz), ?::timestamptz,
		       nullif(unnest(?::bigint[]), 0), ?`,
		ids, paths, kinds, formats, shas, sizes, records, dups, statuses, msgs, accts, firsts, lasts,
		stamp.at, dupOf, stamp.id)
	if err != nil {
		return nil, fmt.Errorf("record evidence: %w", err)
	}
	return outcomes, nil
}

// message is what the evidence row's error column says.
func (ev evidence) message() string {
	if ev.stats.Note == "" {
		return ev.note
	}
	return strings.TrimPrefix(ev.note+"; "+ev.stats.Note, "; ")
}

func (r *ingestRun) reject(ctx context.Context, tx *sql.Tx, ev evidence, reason string) error {
	ev.status, ev.note, ev.stats = StatusRejected, reason, fileStats{}
	return r.record(ctx, tx, ev)
}

// Whole-file kinds are loaded in batches of bodyBatchFiles per transaction:
// a transaction per file costs more than loading a small file (a month of
// hourly digests took 15 s). A batch in which one file fails is loaded
// again file by file, so every file still loads whole or not at all.
const bodyBatchFiles = 256

func (r *ingestRun) loadBodies(ctx context.Context, evs []evidence) error {
	for start := 0; start < len(evs); start += bodyBatchFiles {
		batch := evs[start:min(start+bodyBatchFiles, len(evs))]
		ok, err := r.loadBodyBatch(ctx, batch)
		if err != nil {
			return err
		}
		if ok {
			continue
		}
		for _, ev := range batch {
			if err := r.loadBody(ctx, ev); err != nil {
				return err
			}
		}
	}
	return nil
}

// loadBodyBatch loads files in one transaction; false when any of them
// fails (nothing of the batch is then kept).
func (r *ingestRun) loadBodyBatch(ctx context.Context, batch []evidence) (bool, error) {
	if len(batch) == 1 {
		return false, nil
	}
	tx, err := r.conn.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	loaded := make([]evidence, len(batch))
	// Digests, most of a batch in an archive of a month, are stored together.
	var digests []*parsedDigest
	var digestAt []int // the place of each digest in batch
	for i, ev := range batch {
		load := bodyLoaders[ev.kind]
		if load == nil {
			return false, nil
		}
		body, err := readBody(ev.in)
		if err != nil {
			return false, nil
		}
		ev.status = StatusLoaded
		loaded[i] = ev
		if ev.kind == KindDigest {
			d, err := parseDigest(ev.fileID, body)
			if err != nil {
				return false, nil
			}
			digests, digestAt = append(digests, d), append(digestAt, i)
			continue
		}
		if loaded[i].stats, err = load(ctx, tx, ev.fileID, body); err != nil {
			return false, ctx.Err()
		}
	}
	if len(digests) > 0 {
		if err := storeDigests(ctx, tx, digests); err != nil {
			return false, ctx.Err()
		}
		for j, d := range digests {
			loaded[digestAt[j]].stats = d.stats
		}
	}
	outcomes, err := insertEvidence(ctx, tx, loaded, r.stamp)
	if err != nil {
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("commit: %w", err)
	}
	r.report(outcomes)
	return true, nil
}

// loadBody loads a whole-file kind in one transaction with its evidence row.
func (r *ingestRun) loadBody(ctx context.Context, ev evidence) error {
	load := bodyLoaders[ev.kind]
	if load == nil {
		return r.reject(ctx, nil, ev, "no loader for kind "+ev.kind)
	}
	body, err := readBody(ev.in)
	if err != nil {
		return r.reject(ctx, nil, ev, err.Error())
	}
	tx, err := r.conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	st, err := load(ctx, tx, ev.fileID, body)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		tx.Rollback()
		return r.reject(ctx, nil, ev, err.Error())
	}
	ev.status, ev.stats = StatusLoaded, st
	if err := r.record(ctx, tx, ev); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit %s: %w", ev.in.display, err)
	}
	return nil
}

// readBody reads a whole-file kind's decompressed body into memory, in one
// buffer of its size: a gzip body is measured first (these files are small,
// and a gzip bomb then costs a read, not memory).
func readBody(in *input) ([]byte, error) {
	size := in.size
	if in.sniff.gzipped {
		rc, err := openBody(in.local, true)
		if err != nil {
			return nil, err
		}
		size, err = io.Copy(io.Discard, io.LimitReader(rc, maxBodyBytes+1))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("read: %w", err)
		}
	}
	if size > maxBodyBytes {
		return nil, fmt.Errorf("larger than %d MiB uncompressed", maxBodyBytes>>20)
	}
	rc, err := openBody(in.local, in.sniff.gzipped)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var body bytes.Buffer
	body.Grow(int(size) + bytes.MinRead)
	if _, err := body.ReadFrom(io.LimitReader(rc, maxBodyBytes+1)); err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	if body.Len() > maxBodyBytes {
		return nil, fmt.Errorf("larger than %d MiB uncompressed", maxBodyBytes>>20)
	}
	return body.Bytes(), nil
}

// batchEvidence turns a batch's results into evidence rows.
func batchEvidence(batch []ctFile, results map[int64]ctResult) []evidence {
	evs := make([]evidence, len(batch))
	for i, f := range batch {
		res := results[f.fileID]
		ev := newEvidence(f.fileID, f.in)
		ev.status, ev.stats = StatusLoaded, res.stats
		if res.reject != "" {
			ev.status, ev.note, ev.stats = StatusRejected, res.reject, fileStats{}
		}
		evs[i] = ev
	}
	return evs
}

// rejectCloudTrail records a CloudTrail file as rejected for reason.
func (r *ingestRun) rejectCloudTrail(ctx context.Context, f ctFile, reason string) error {
	return r.recordAll(ctx, nil, batchEvidence([]ctFile{f}, map[int64]ctResult{f.fileID: {reject: reason}}))
}

// loadCloudTrail loads CloudTrail files in batches (which copy of an event is
// kept does not depend on their order: see keptCopyOrder). A batch that
// fails is retried file by file, so a bad file never takes good ones with it.
func (r *ingestRun) loadCloudTrail(ctx context.Context, evs []evidence) error {
	limit := r.opts.BatchBytes
	if limit <= 0 {
		limit = defaultBatchBytes
	}
	// load loads a batch; when it fails, its halves are loaded, down to the
	// single file that fails alone and is rejected.
	var load func(batch []ctFile) error
	var loadAlone func(f ctFile, err error) error
	load = func(batch []ctFile) error {
		var outcomes []FileOutcome
		err := loadCloudTrailBatch(ctx, r.conn, r.db, r.log, r.limit, batch, func(tx *sql.Tx, results map[int64]ctResult) error {
			var err error
			outcomes, err = insertEvidence(ctx, tx, batchEvidence(batch, results), r.stamp)
			return err
		})
		var need *errNeedRewrite
		switch {
		case err == nil:
			r.report(outcomes)
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.As(err, &need):
			if !slices.ContainsFunc(batch, func(f ctFile) bool { return need.fileIDs[f.fileID] }) {
				return fmt.Errorf("records with repeated positions in files outside the batch: %w", err)
			}
			var again []ctFile
			for _, f := range batch {
				if !need.fileIDs[f.fileID] {
					again = append(again, f)
					continue
				}
				if f.rewritten {
					return fmt.Errorf("%s: rewritten records have repeated positions", f.in.display)
				}
				r.log.Debug("file holds several Records objects, rewriting it", "file", f.in.display)
				rf, ok, err := r.rewrite(ctx, f)
				if err != nil {
					return err
				}
				if ok {
					again = append(again, rf)
				}
			}
			if len(again) == 0 {
				return nil
			}
			return load(again)
		case len(batch) > 1:
			if i := tooLargeIn(err, batch); i >= 0 {
				// DuckDB names the file larger than read_json's object
				// size: it is taken out of the batch rather than read again
				// in each half (a gzip bomb is decompressed whole each time).
				r.log.Debug("batch failed on a file too large for one object", "file", batch[i].in.display)
				if i > 0 {
					if err := load(batch[:i]); err != nil {
						return err
					}
				}
				if err := loadAlone(batch[i], err); err != nil || i+1 == len(batch) {
					return err
				}
				return load(batch[i+1:])
			}
			r.log.Debug("batch failed, loading its halves", "files", len(batch), "err", err)
			if err := load(batch[:len(batch)/2]); err != nil {
				return err
			}
			return load(batch[len(batch)/2:])
		}
		return loadAlone(batch[0], err)
	}
	// loadAlone takes a file that failed to load alone (or was named by
	// the error of its batch) with that error.
	loadAlone = func(f ctFile, err error) error {
		tooLarge := f.in.sniff.gzipped && strings.HasPrefix(err.Error(), objectSizeError)
		var reason string
		if !tooLarge {
			reason = badRecord(ctx, r.conn, f)
		}
		if !f.rewritten && (tooLarge || reason != "") {
			// A Records file read in place that is larger than its gzip
			// trailer said (see mayExceedObjectSize), or has a bad record:
			// read in place, positions restart at each Records object of the
			// file, while the rewrite names a record by its place in the file.
			r.log.Debug("records file read in place failed, rewriting it in chunks", "file", f.in.display)
			rf, ok, err := r.rewrite(ctx, f)
			if err != nil || !ok {
				return err
			}
			return load([]ctFile{rf})
		}
		if reason == "" {
			reason = duckDBReason(err, f)
		}
		return r.rejectCloudTrail(ctx, f, reason)
	}
	// Each batch's files are prepared (linked or rewritten) while the batch
	// before it loads, and its rewrites are removed once it has: a rewrite
	// is the uncompressed body, and all of an archive's at once could fill
	// the disk.
	type preparedBatch struct {
		evs      []evidence
		prepared []preparedCT
	}
	pctx, cancel := context.WithCancel(ctx)
	batches, done := make(chan preparedBatch), make(chan struct{})
	defer func() { cancel(); <-done }()
	go func() {
		defer close(done)
		defer close(batches)
		for start := 0; start < len(evs); {
			end, size := start, int64(0)
			for end < len(evs) && end-start < maxBatchFiles && (end == start || size+evs[end].in.size <= limit) {
				size += evs[end].in.size
				end++
			}
			b := preparedBatch{evs[start:end], prepareCloudTrailFiles(pctx, evs[start:end], r.sc, runtime.NumCPU())}
			select {
			case batches <- b:
			case <-pctx.Done():
				return
			}
			start = end
		}
	}()
	for b := range batches {
		var files []ctFile
		for i, p := range b.prepared {
			if err := ctx.Err(); err != nil {
				return err
			}
			switch {
			case p.err != nil:
				return p.err
			case p.reason != "":
				if err := r.reject(ctx, nil, b.evs[i], p.reason); err != nil {
					return err
				}
			default:
				files = append(files, p.f)
				if p.f.rewritten {
					r.rewrites = append(r.rewrites, p.f.locals...)
				}
			}
		}
		if len(files) > 0 {
			var size int64
			for _, f := range files {
				size += f.in.size
			}
			r.progress.update(func(p *Progress) { p.BatchFiles, p.BatchBytes = len(files), size })
			err := load(files)
			r.progress.update(func(p *Progress) { p.BatchFiles, p.BatchBytes = 0, 0 })
			if err != nil {
				return err
			}
		}
		for _, name := range r.rewrites {
			if err := os.Remove(name); err != nil {
				r.log.Warn("remove rewrite", "file", name, "err", err)
			}
		}
		r.rewrites = r.rewrites[:0]
		afterBatch(r.sc.dir)
	}
	return ctx.Err()
}

// afterBatch is called when a CloudTrail batch has loaded and its rewrites
// are removed; tests look at the scratch folder then.
var afterBatch = func(scratchDir string) {}

// tooLargeIn returns the index of the batch's file that DuckDB's error says
// is larger than read_json's object size, or -1.
func tooLargeIn(err error, batch []ctFile) int {
	msg := err.Error()
	if !strings.HasPrefix(msg, objectSizeError) {
		return -1
	}
	for i, f := range batch {
		for _, l := range f.locals {
			if strings.Contains(msg, "while reading file "+strconv.Quote(l)) {
				return i
			}
		}
	}
	return -1
}

// objectSizeError starts DuckDB's error for a JSON object larger than
// read_json's maximum_object_size.
const objectSizeError = `Invalid Input Error: "maximum_object_size" of `

// rewrite rewrites a CloudTrail file in chunks for loading it again. When its
// body cannot be rewritten, the file is rejected with the reason and ok is
// false; err is a failure of the run (the scratch folder).
func (r *ingestRun) rewrite(ctx context.Context, f ctFile) (rf ctFile, ok bool, err error) {
	rf, reason, err := rewriteCloudTrail(ctx, f, r.sc)
	switch {
	case err != nil:
		return f, false, err
	case reason != "":
		return f, false, r.rejectCloudTrail(ctx, f, reason)
	}
	r.rewrites = append(r.rewrites, rf.locals...)
	return rf, true, nil
}

// duckDBReason turns a DuckDB reader error into a one-line reason that names
// the evidence file rather than its scratch copy.
func duckDBReason(err error, f ctFile) string {
	msg := err.Error()
	for _, l := range f.locals {
		msg = strings.ReplaceAll(msg, l, f.in.display)
	}
	msg, _, _ = strings.Cut(msg, "\n")
	var prefix string
	for _, p := range []string{"Invalid Input Error: ", "IO Error: ", "Conversion Error: "} {
		if strings.HasPrefix(msg, p) {
			prefix, msg = strings.TrimSuffix(strings.ToLower(p), " error: "), strings.TrimPrefix(msg, p)
		}
	}
	if prefix != "" {
		return "cannot read records (" + prefix + "): " + msg
	}
	return "cannot read records: " + msg
}
