package ingest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Case metadata keys of case_meta that `credtrail case init` sets.
var CaseMetaKeys = []string{"case_name", "examiner"}

// SetCaseMeta stores case metadata (a case's name, its examiner).
func (c *Case) SetCaseMeta(ctx context.Context, meta map[string]string) error {
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	tx, err := c.DB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("case metadata: %w", err)
	}
	defer tx.Rollback()
	for _, k := range keys {
		if _, err := tx.ExecContext(ctx, "insert or replace into case_meta (key, value) values (?, ?)", k, meta[k]); err != nil {
			return fmt.Errorf("case metadata %s: %w", k, err)
		}
	}
	return tx.Commit()
}

// CaseMeta returns the case metadata that `credtrail case init` sets (not
// the schema version or the analysis state, which change as credtrail works).
func (c *Case) CaseMeta(ctx context.Context) (map[string]string, error) {
	rows, err := c.DB.QueryContext(ctx, "select key, value from case_meta where list_contains(?, key)", CaseMetaKeys)
	if err != nil {
		return nil, fmt.Errorf("case metadata: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("case metadata: %w", err)
		}
		out[k] = v
	}
	return out, rows.Err()
}

// ManifestEntry is one evidence file of the case, as the manifest lists it.
type ManifestEntry struct {
	FileID                     int64
	Path, SHA256, Kind, Status string
	Bytes                      int64
	IngestedAt                 time.Time
	RunID                      int64 // the ingest run that recorded it; 0 when unknown
}

// IngestRun is one row of ingest_runs, as the manifest lists it.
type IngestRun struct {
	RunID                        int64
	Started                      time.Time
	Ended                        sql.NullTime
	Host, User, Version, Commit  string
	CommandLine                  string
	Added, Resubmitted, Rejected int64
}

// IngestRuns returns the case's ingest runs in order.
func (c *Case) IngestRuns(ctx context.Context) ([]IngestRun, error) {
	rows, err := c.DB.QueryContext(ctx, `select run_id, started_at, ended_at, coalesce(host, ''), coalesce(os_user, ''),
		    coalesce(credtrail_version, ''), coalesce(credtrail_commit, ''), coalesce(command_line, ''),
		    coalesce(files_added, 0), coalesce(files_resubmitted, 0), coalesce(files_rejected, 0)
		from ingest_runs order by run_id`)
	if err != nil {
		return nil, fmt.Errorf("ingest runs: %w", err)
	}
	defer rows.Close()
	var out []IngestRun
	for rows.Next() {
		var r IngestRun
		if err := rows.Scan(&r.RunID, &r.Started, &r.Ended, &r.Host, &r.User, &r.Version, &r.Commit, &r.CommandLine,
			&r.Added, &r.Resubmitted, &r.Rejected); err != nil {
			return nil, fmt.Errorf("ingest runs: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Manifest returns every evidence file of the case in file order.
func (c *Case) Manifest(ctx context.Context) ([]ManifestEntry, error) {
	rows, err := c.DB.QueryContext(ctx, `select file_id, path, coalesce(sha256, ''), kind, status, bytes, ingested_at, coalesce(run_id, 0)
		from evidence_files order by file_id`)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	defer rows.Close()
	var out []ManifestEntry
	for rows.Next() {
		var e ManifestEntry
		if err := rows.Scan(&e.FileID, &e.Path, &e.SHA256, &e.Kind, &e.Status, &e.Bytes, &e.IngestedAt, &e.RunID); err != nil {
			return nil, fmt.Errorf("manifest: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// WriteManifest writes the manifest as text, one tab-separated line per
// evidence file after a header of the case metadata, and returns the
// SHA-256 of exactly what it wrote: a second examiner who runs manifest on
// the same case gets the same bytes and the same hash.
func WriteManifest(w io.Writer, meta map[string]string, runs []IngestRun, entries []ManifestEntry) (string, error) {
	h := sha256.New()
	out := io.MultiWriter(w, h)
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, err := fmt.Fprintf(out, "# %s: %s\n", k, oneLine(meta[k])); err != nil {
			return "", err
		}
	}
	for _, r := range runs {
		ended := "not finished (stopped or failed)"
		if r.Ended.Valid {
			ended = r.Ended.Time.UTC().Format(time.RFC3339)
		}
		version := r.Version
		if r.Commit != "" {
			version += " (" + r.Commit + ")"
		}
		if _, err := fmt.Fprintf(out, "# run %d: %s to %s by %s on %s, credtrail %s: %d file(s) added, %d re-submitted, %d rejected: %s\n",
			r.RunID, r.Started.UTC().Format(time.RFC3339), ended, oneLine(r.User), oneLine(r.Host), oneLine(version),
			r.Added, r.Resubmitted, r.Rejected, oneLine(r.CommandLine)); err != nil {
			return "", err
		}
	}
	if _, err := fmt.Fprintln(out, "file_id\tsha256\tbytes\tkind\tstatus\tingested_at\trun\tpath"); err != nil {
		return "", err
	}
	for _, e := range entries {
		if _, err := fmt.Fprintf(out, "%d\t%s\t%d\t%s\t%s\t%s\t%d\t%s\n", e.FileID, e.SHA256, e.Bytes, e.Kind, e.Status,
			e.IngestedAt.UTC().Format(time.RFC3339), e.RunID, oneLine(e.Path)); err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// oneLine keeps a value on its line: tabs and line breaks are escaped.
func oneLine(s string) string {
	return strings.NewReplacer("\\", `\\`, "\t", `\t`, "\n", `\n`, "\r", `\r`).Replace(s)
}

// Manifest check results.
const (
	CheckSame     = "same"      // the file is where the user said, with the hash of the evidence
	CheckChanged  = "changed"   // a file of that name is there with other bytes
	CheckNotFound = "not_found" // no file with the evidence's hash or name
	CheckExtra    = "not_in_case"
)

// ManifestCheck is what became of one evidence file, or a file found that
// the case does not hold.
type ManifestCheck struct {
	Entry  ManifestEntry
	Status string
	Found  string // the path it was found at
	SHA256 string // the hash found, when it differs
}

// CheckManifest hashes the files under paths and compares them with the
// evidence: by SHA-256 first (the file moved but is intact), then by file
// name (the file is there, with other bytes). Entries inside bundles are
// checked through their bundle, and files never read (no hash) are left out.
func CheckManifest(ctx context.Context, entries []ManifestEntry, paths []string) ([]ManifestCheck, error) {
	byHash := map[string]string{}
	byName := map[string][]string{}
	hashOf := map[string]string{}
	for _, root := range paths {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if !d.Type().IsRegular() {
				return nil
			}
			sum, err := hashFile(p)
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			hashOf[p] = sum
			if _, seen := byHash[sum]; !seen {
				byHash[sum] = p
			}
			byName[filepath.Base(p)] = append(byName[filepath.Base(p)], p)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("manifest check: %w", err)
		}
	}
	var out []ManifestCheck
	matched := map[string]bool{}
	for _, e := range entries {
		if e.SHA256 == "" || strings.Contains(e.Path, "!") {
			continue
		}
		if p, ok := byHash[e.SHA256]; ok {
			out = append(out, ManifestCheck{Entry: e, Status: CheckSame, Found: p})
			matched[p] = true
			continue
		}
		c := ManifestCheck{Entry: e, Status: CheckNotFound}
		for _, p := range byName[filepath.Base(e.Path)] {
			c.Status, c.Found, c.SHA256 = CheckChanged, p, hashOf[p]
			matched[p] = true
			break
		}
		out = append(out, c)
	}
	// A file of the same bytes as matched evidence (a second copy) is not extra.
	known := map[string]bool{}
	for _, e := range entries {
		known[e.SHA256] = true
	}
	extra := make([]string, 0)
	for p, sum := range hashOf {
		if !matched[p] && !known[sum] {
			extra = append(extra, p)
		}
	}
	sort.Strings(extra)
	for _, p := range extra {
		out = append(out, ManifestCheck{Status: CheckExtra, Found: p, SHA256: hashOf[p]})
	}
	return out, nil
}

func hashFile(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ReportOutput is a file a report wrote, as the case records it.
type ReportOutput struct {
	Path, SHA256 string
	Bytes        int64
}

// RecordOutputs hashes the files a report wrote and records them in the
// case (report_outputs), so that what was handed over can be checked later.
func (c *Case) RecordOutputs(ctx context.Context, paths []string, version string) ([]ReportOutput, error) {
	var out []ReportOutput
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("record output: %w", err)
		}
		sum, err := hashFile(p)
		if err != nil {
			return nil, fmt.Errorf("record output %s: %w", p, err)
		}
		out = append(out, ReportOutput{Path: p, SHA256: sum, Bytes: st.Size()})
	}
	tx, err := c.DB.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("record outputs: %w", err)
	}
	defer tx.Rollback()
	now := time.Now().UTC()
	for _, o := range out {
		if _, err := tx.ExecContext(ctx, "insert into report_outputs (path, sha256, bytes, written_at, credtrail) values (?, ?, ?, ?, ?)",
			o.Path, o.SHA256, o.Bytes, now, version); err != nil {
			return nil, fmt.Errorf("record outputs: %w", err)
		}
	}
	return out, tx.Commit()
}
