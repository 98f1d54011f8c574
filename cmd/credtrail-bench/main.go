// Command credtrail-bench measures credtrail on a generated case: sample
// generation speed, and ingest throughput and peak memory against DuckDB's own
// read_json loading the same files (the bar PERF.md sets). `make bench` runs it.
package main

import (
	"database/sql"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/credtrail/credtrail/ingest"
)

func main() {
	bin := flag.String("bin", "bin/credtrail", "credtrail binary to measure")
	dir := flag.String("dir", "out/bench", "work folder (the generated archive is kept there between runs)")
	size := flag.String("events", "1M", "events of the generated archive (1M, 10M, or a number): 2 accounts x 30 days")
	archive := flag.String("archive", "", "an archive credtrail samples generate wrote, instead of generating one")
	perDay := flag.Int("events-per-day", 0, "events per account per day of the generated archive (instead of --events)")
	days := flag.Int("days", 30, "days of the generated archive")
	accounts := flag.Int("accounts", 2, "accounts of the generated archive")
	memory := flag.String("memory-limit", "500MB", "DuckDB memory limit of every DuckDB process (credtrail's default)")
	runs := flag.Int("runs", 3, "alternating runs of every comparator; the table shows medians")
	noJQ := flag.Bool("no-jq", false, "leave out the jq comparator even when jq is installed")
	bare := flag.String("bare-load", "", "internal: load ARCHIVE's CloudTrail files with read_json into this database")
	floor := flag.String("floor", "", "internal: gunzip (or tokenize) every log file of ARCHIVE on all cores")
	principals := flag.Int("usage-principals", 0, "instead: time the unused-permissions analysis on a case of this many users and roles")
	flag.Parse()
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "credtrail-bench:", err)
		os.Exit(1)
	}
	if *perDay == 0 {
		n, err := parseCount(*size)
		if err != nil {
			fail(err)
		}
		*perDay = int((n + int64(*days**accounts) - 1) / int64(*days**accounts))
	}
	switch {
	case *principals > 0:
		if err := usageBench(*bin, *dir, *perDay, *days, *accounts, *principals, *memory); err != nil {
			fail(err)
		}
	case *bare != "":
		if err := bareLoad(*bare, flag.Arg(0), *memory); err != nil {
			fail(err)
		}
	case *floor != "":
		if err := floorRun(*floor, flag.Arg(0)); err != nil {
			fail(err)
		}
	default:
		if err := os.MkdirAll(*dir, 0o755); err != nil {
			fail(err)
		}
		path := *archive
		if path == "" {
			var err error
			if path, err = generate(*bin, *dir, *perDay, *days, *accounts); err != nil {
				fail(err)
			}
		}
		_, err := exec.LookPath("jq")
		if err := table(*bin, *dir, path, max(*runs, 1), *memory, err == nil && !*noJQ); err != nil {
			fail(err)
		}
	}
}

// parseCount reads 1M, 10M, 500k or a plain number.
func parseCount(s string) (int64, error) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(strings.ToUpper(s), "M"):
		mult, s = 1_000_000, s[:len(s)-1]
	case strings.HasSuffix(strings.ToUpper(s), "K"):
		mult, s = 1_000, s[:len(s)-1]
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("--events %q: want a count such as 1M, 10M or 250000", s)
	}
	return int64(n * float64(mult)), nil
}

// generate writes the archive unless the work folder has it from an earlier run.
func generate(bin, dir string, perDay, days, accounts int) (string, error) {
	archive := filepath.Join(dir, fmt.Sprintf("archive-%dx%dx%d", perDay, days, accounts))
	if _, err := os.Stat(filepath.Join(archive, "expected.json")); err == nil {
		return archive, nil
	}
	os.RemoveAll(archive)
	gen, err := measure(bin, "samples", "generate", archive,
		"--events-per-day", fmt.Sprint(perDay), "--days", fmt.Sprint(days), "--accounts", fmt.Sprint(accounts))
	if err != nil {
		return "", err
	}
	fmt.Printf("generate: %d days x %d events/day x %d accounts in %.2f s, peak %.0f MiB\n",
		days, perDay, accounts, gen.seconds, gen.peakMiB)
	return archive, nil
}

// measured is one child process's wall time and peak resident memory.
type measured struct {
	seconds float64
	cpu     float64 // user + system seconds
	peakMiB float64
}

func measure(name string, args ...string) (measured, error) {
	cmd := exec.Command(name, args...)
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return measured{}, fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	m := measured{seconds: time.Since(start).Seconds()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.peakMiB = float64(ru.Maxrss) / 1024 // Linux reports KiB
	}
	return m, nil
}

func cloudTrailFiles(root string) (n int, bytes int64, err error) {
	if root, err = filepath.EvalSymlinks(root); err != nil {
		return 0, 0, err
	}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json.gz") || strings.Contains(p, "CloudTrail-Digest") {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		n++
		bytes += info.Size()
		return nil
	})
	return n, bytes, err
}

func counts(caseDB, bareDB string) (events, records int64, err error) {
	for _, q := range []struct {
		path, sql string
		into      *int64
	}{
		{caseDB, "select count(*) from events", &events},
		{bareDB, "select count(*) from bare", &records},
	} {
		db, err := openReadOnly(q.path)
		if err != nil {
			return 0, 0, err
		}
		err = db.QueryRow(q.sql).Scan(q.into)
		db.Close()
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %w", q.path, err)
		}
	}
	return events, records, nil
}

// openReadOnly opens a database for reading while no credtrail process runs on it.
func openReadOnly(path string) (*sql.DB, error) {
	return sql.Open("duckdb", path+"?access_mode=READ_ONLY")
}

// bareLoad is PERF.md's tuned load: explicit schema, preserve_insertion_order
// off, same threads and memory limit, every log file in one statement.
func bareLoad(path, archive, memory string) error {
	db, err := sql.Open("duckdb", path)
	if err != nil {
		return err
	}
	defer db.Close()
	cols := strings.ReplaceAll(ingest.RecordColumns(), "'", "''")
	archive, err = filepath.EvalSymlinks(archive)
	if err != nil {
		return err
	}
	glob := filepath.Join(archive, "**", "*_CloudTrail_*.json.gz")
	for _, q := range []string{
		fmt.Sprintf("set threads = %d", runtime.NumCPU()),
		"set memory_limit = '" + strings.ReplaceAll(memory, "'", "") + "'",
		"set preserve_insertion_order = false",
		"create table bare as select unnest(Records, max_depth := 2) from read_json('" + strings.ReplaceAll(glob, "'", "''") +
			"', format = 'unstructured', maximum_object_size = 67108864, columns = {Records: 'STRUCT(" + cols + ")[]'})",
		"checkpoint",
	} {
		if _, err := db.Exec(q); err != nil {
			return fmt.Errorf("%.60s: %w", q, err)
		}
	}
	return nil
}

// usageRules are the rules of the unused-permissions analysis.
const usageRules = "unused_services,unused_actions,permission_used_not_granted,no_cloudtrail_coverage"

// usageBench times the unused-permissions analysis (permission_usage,
// generated_policies and its four rules) on a generated case with about
// principals users and roles, ingested whole (CloudTrail and IAM exports).
func usageBench(bin, dir string, perDay, days, accounts, principals int, memory string) error {
	users := principals / 2 / accounts
	roles := (principals - users*accounts) / accounts
	archive := filepath.Join(dir, fmt.Sprintf("usage-%dx%dx%d-u%d-r%d", perDay, days, accounts, users, roles))
	if _, err := os.Stat(archive); err != nil {
		gen, err := measure(bin, "samples", "generate", archive, "--events-per-day", fmt.Sprint(perDay), "--days", fmt.Sprint(days),
			"--accounts", fmt.Sprint(accounts), "--users", fmt.Sprint(users), "--roles", fmt.Sprint(roles))
		if err != nil {
			return err
		}
		fmt.Printf("generate: %d days x %d events/day x %d accounts, %d users and %d roles per account besides the planted ones, in %.2f s\n",
			days, perDay, accounts, users, roles, gen.seconds)
	}
	caseDB := filepath.Join(dir, "usage-case.duckdb")
	os.Remove(caseDB)
	os.Remove(caseDB + ".wal")
	in, err := measure(bin, "ingest", "--memory-limit", memory, caseDB, filepath.Join(archive, "AWSLogs"), filepath.Join(archive, "iam"))
	if err != nil {
		return err
	}
	fmt.Printf("ingest (CloudTrail and IAM exports): %.2f s, peak %.0f MiB\n", in.seconds, in.peakMiB)
	db, err := openReadOnly(caseDB)
	if err != nil {
		return err
	}
	var principalsN, events int64
	err = db.QueryRow("select (select count(*) from iam_users) + (select count(*) from iam_roles), (select count(*) from events)").Scan(&principalsN, &events)
	if err != nil {
		db.Close()
		return fmt.Errorf("count the case: %w", err)
	}
	catalog := filepath.Join(dir, "catalog")
	n, err := writeCatalog(db, catalog)
	db.Close()
	if err != nil {
		return err
	}
	an, err := measure(bin, "analyze", "--rules", usageRules, caseDB)
	if err != nil {
		return err
	}
	fmt.Printf("unused-permissions analysis: %6.2f s  peak %5.0f MiB  (%d events, %d users and roles; target < 30 s for 3M events and 500 principals)\n",
		an.seconds, an.peakMiB, events, principalsN)

	// Again with an action catalog the size of AWS's (about 18,000 actions):
	// every wildcard then expands to the actions it grants.
	if _, err := measure(bin, "ingest", caseDB, catalog); err != nil {
		return err
	}
	an, err = measure(bin, "analyze", "--rules", usageRules, caseDB)
	if err != nil {
		return err
	}
	fmt.Printf("  with an action catalog of %d actions: %6.2f s  peak %5.0f MiB\n", n, an.seconds, an.peakMiB)
	return nil
}

// writeCatalog writes a synthetic service reference (FORMATS.md A5) into
// dir: the services and actions the case's events use, each service padded
// to 45 actions, and further services of 45 actions up to 18,000 actions.
func writeCatalog(db *sql.DB, dir string) (int, error) {
	rows, err := db.Query("select distinct iam_action from events where iam_action like '%:%' order by 1")
	if err != nil {
		return 0, fmt.Errorf("actions of the case: %w", err)
	}
	defer rows.Close()
	services := map[string][]string{}
	var order []string
	for rows.Next() {
		var action string
		if err := rows.Scan(&action); err != nil {
			return 0, fmt.Errorf("actions of the case: %w", err)
		}
		svc, act, _ := strings.Cut(action, ":")
		if _, ok := services[svc]; !ok {
			order = append(order, svc)
		}
		services[svc] = append(services[svc], act)
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("actions of the case: %w", err)
	}
	for i := 0; len(order)*45 < 18000; i++ {
		svc := fmt.Sprintf("synthetic%03d", i)
		order = append(order, svc)
		services[svc] = nil
	}
	os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	total := 0
	for _, svc := range order {
		acts := services[svc]
		for i := 0; len(acts) < 45; i++ {
			acts = append(acts, fmt.Sprintf("Describe%02dThing", i))
		}
		var b strings.Builder
		fmt.Fprintf(&b, `{"Name":%q,"Actions":[`, svc)
		for i, a := range acts {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"Name":%q,"Annotations":{"Properties":{"IsList":false,"IsPermissionManagement":false,"IsTaggingOnly":false,"IsWrite":false}},"Resources":[]}`, a)
		}
		b.WriteString(`],"Resources":[],"ConditionKeys":[],"Version":"v1.4"}`)
		if err := os.WriteFile(filepath.Join(dir, svc+".json"), []byte(b.String()), 0o644); err != nil {
			return 0, err
		}
		total += len(acts)
	}
	return total, nil
}
