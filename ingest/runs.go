package ingest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/user"
	"time"
)

// RunInfo says what ran an ingest, for the ingest_runs log.
type RunInfo struct {
	Version     string // credtrail's version
	Commit      string // the commit it was built from, when known
	CommandLine string // as the user typed it
}

// runStamp marks the evidence rows of one run.
type runStamp struct {
	at time.Time // ingested_at
	id int64     // run_id in ingest_runs
	// before holds the rejected and duplicate rows of earlier runs by
	// repeatKey, with their file_id: a file rejected again for the same
	// reason, or found again as the same duplicate, is not recorded twice.
	before map[string]int64
	// reused maps the file_id given to a file that then took no row, as it
	// repeated an earlier one, to the file_id of that earlier row.
	reused map[int64]int64
}

// repeatKey names a row that is not a load, to find it again: a rejection
// by the file's content (its path when it was never read) and reason; a
// duplicate by its content and path.
func repeatKey(sha, path, status, reason string) string {
	switch {
	case status == StatusDuplicate:
		return status + "\x00" + sha + "\x00" + path
	case sha != "":
		return status + "\x00" + sha + "\x00\x00" + reason
	}
	return status + "\x00\x00" + path + "\x00" + reason
}

// notLoadedRows returns the rejected and duplicate rows recorded so far, by
// repeatKey.
func notLoadedRows(ctx context.Context, conn *sql.Conn) (map[string]int64, error) {
	rows, err := conn.QueryContext(ctx, `select coalesce(sha256, ''), path, status, coalesce(error, ''), min(file_id)
		from evidence_files where status in ('rejected', 'duplicate') group by all`)
	if err != nil {
		return nil, fmt.Errorf("read evidence: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var sha, path, status, reason string
		var id int64
		if err := rows.Scan(&sha, &path, &status, &reason, &id); err != nil {
			return nil, fmt.Errorf("read evidence: %w", err)
		}
		out[repeatKey(sha, path, status, reason)] = id
	}
	return out, rows.Err()
}

// startRun records the start of a run in ingest_runs and returns its run_id.
// The row is completed by finish; one left without ended_at is a run that
// was stopped or failed.
func startRun(ctx context.Context, conn *sql.Conn, info RunInfo, started time.Time) (int64, error) {
	host, _ := os.Hostname()
	osUser := os.Getenv("USER")
	if u, err := user.Current(); err == nil {
		osUser = u.Username
	}
	var id int64
	err := conn.QueryRowContext(ctx, `insert into ingest_runs
		(run_id, started_at, host, os_user, credtrail_version, credtrail_commit, command_line)
		select coalesce(max(run_id), 0) + 1, ?, nullif(?, ''), nullif(?, ''), nullif(?, ''), nullif(?, ''), nullif(?, '')
		from ingest_runs
		returning run_id`,
		started, host, osUser, info.Version, info.Commit, info.CommandLine).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("record the ingest run: %w", err)
	}
	return id, nil
}

// finish writes what became of the run's files into its ingest_runs row, and
// its end time when it ended (ok) rather than stopped or failed.
func (r *ingestRun) finish(ctx context.Context, ok bool) error {
	var seen, added, resubmitted, rejected, duplicates int64
	for _, o := range r.outcomes {
		seen++
		switch o.Status {
		case StatusLoaded, StatusPartial:
			added++
		case StatusResubmitted:
			resubmitted++
		case StatusRejected:
			rejected++
		case StatusDuplicate:
			duplicates++
		}
	}
	var ended any
	if ok {
		ended = time.Now().UTC()
	}
	_, err := r.conn.ExecContext(context.WithoutCancel(ctx), `update ingest_runs
		set ended_at = ?, files_seen = ?, files_added = ?, files_resubmitted = ?, files_rejected = ?, files_duplicate = ?
		where run_id = ?`,
		ended, seen, added, resubmitted, rejected, duplicates, r.stamp.id)
	if err != nil {
		return fmt.Errorf("record the ingest run: %w", err)
	}
	return nil
}

// resubmitted counts a file already loaded by an earlier run (prior is its
// file_id): it adds no evidence row.
func (r *ingestRun) resubmitted(in *input, prior int64) {
	r.report([]FileOutcome{{FileID: prior, Path: in.display, Kind: in.sniff.kind, Status: StatusResubmitted}})
}

// wholeBundles returns the SHA-256 of the bundles loaded whole by earlier
// runs: loaded, not partial, and none of their entries rejected unless it
// was refused unread or for what it is (kind unknown) or has been loaded
// since. Such a bundle given again is not unpacked; one with an entry that
// may load now (rejected for a memory limit, say) is, to try it again.
func wholeBundles(ctx context.Context, conn *sql.Conn) (map[string]bool, error) {
	rows, err := conn.QueryContext(ctx, `
		with retry as (
		    select e.path
		    from evidence_files e
		    where e.status = 'rejected' and e.kind <> 'unknown' and e.sha256 is not null
		      and e.path like '%!%'
		      and not exists (select 1 from evidence_files l where l.status = 'loaded' and l.sha256 = e.sha256)
		)
		select distinct b.sha256
		from evidence_files b
		where b.kind = 'bundle' and b.status = 'loaded' and b.sha256 is not null
		  and not exists (select 1 from retry where starts_with(retry.path, b.path || '!'))`)
	if err != nil {
		return nil, fmt.Errorf("read evidence: %w", err)
	}
	defer rows.Close()
	whole := map[string]bool{}
	for rows.Next() {
		var sha string
		if err := rows.Scan(&sha); err != nil {
			return nil, fmt.Errorf("read evidence: %w", err)
		}
		whole[sha] = true
	}
	return whole, rows.Err()
}
