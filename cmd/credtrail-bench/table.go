package main

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// step is one comparator of the table: a child process run once per round.
type step struct {
	name  string
	floor bool // a floor: what no loader can beat (credtrail's ratio is to the fastest)
	bare  bool // DuckDB's bare read_json load
	// args builds the command line; prepare, when set, runs before it
	// (removing the case a fresh ingest writes), outside the measurement.
	args    func() []string
	prepare func()
	runs    []measured
}

// measuredFull is one run: wall, CPU (user+sys, of the process and the
// children it waited for) and peak resident memory.
func measureFull(args []string) (measured, error) {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout = io.Discard
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	m := measured{seconds: time.Since(start).Seconds()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.peakMiB = float64(ru.Maxrss) / 1024 // Linux reports KiB
		m.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	}
	// credtrail exits 3 when findings reach --fail-on; nothing here sets it.
	if err != nil {
		return m, fmt.Errorf("%s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return m, nil
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// row is a line of the table and of bench.json.
type row struct {
	Name     string  `json:"name"`
	Events   int64   `json:"events"`
	GzMB     float64 `json:"compressed_mb"`
	JSONMB   float64 `json:"uncompressed_mb"`
	Wall     float64 `json:"wall_s"`
	CPU      float64 `json:"cpu_s"`
	EventsPS float64 `json:"events_per_s"`
	MBPS     float64 `json:"uncompressed_mb_per_s"`
	PeakMiB  float64 `json:"peak_rss_mib"`
	VsBare   float64 `json:"ratio_to_bare_duckdb,omitempty"`
	VsFloor  float64 `json:"ratio_to_floor,omitempty"`
	// by CPU time, which the machine's load moves less than wall time
	VsBareCPU  float64   `json:"cpu_ratio_to_bare_duckdb,omitempty"`
	VsFloorCPU float64   `json:"cpu_ratio_to_floor,omitempty"`
	Runs       int       `json:"runs"`
	WallRuns   []float64 `json:"wall_runs_s"`
}

// table runs every comparator runs times, alternating them so that a slow
// spell of the machine touches each, and prints the medians.
func table(bin, dir, archive string, runs int, memory string, jq bool) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	files, gz, err := cloudTrailFiles(archive)
	if err != nil {
		return err
	}
	logDirs, err := filepath.Glob(filepath.Join(archive, "AWSLogs", "*", "*", "CloudTrail"))
	if err != nil || len(logDirs) == 0 {
		return fmt.Errorf("no AWSLogs/ORG/ACCOUNT/CloudTrail folders in %s", archive)
	}
	// The uncompressed size and the record count, once, outside the table.
	var jsonBytes int64
	if jsonBytes, err = gunzipAll(archive, false); err != nil {
		return err
	}
	caseDB := filepath.Join(dir, "bench-case.duckdb")
	runDB := filepath.Join(dir, "bench-run.duckdb")
	bareDB := filepath.Join(dir, "bench-bare.duckdb")
	removeDB := func(p string) func() { return func() { os.Remove(p); os.Remove(p + ".wal") } }
	inputs := append([]string{}, logDirs...)
	inputs = append(inputs, filepath.Join(archive, "iam"))
	steps := []*step{
		{name: "floor: gunzip, all cores", floor: true, args: func() []string { return []string{self, "-floor", "gunzip", archive} }},
		{name: "floor: gunzip + JSON tokenize, all cores", floor: true, args: func() []string { return []string{self, "-floor", "tokenize", archive} }},
		{name: "DuckDB bare read_json load", bare: true, prepare: removeDB(bareDB),
			args: func() []string { return []string{self, "-bare-load", bareDB, "-memory-limit", memory, archive} }},
	}
	if jq {
		steps = append(steps, &step{name: "jq -c '.Records[]' after zcat, one pipeline",
			args: func() []string {
				return []string{"sh", "-c", `find "$1" -name '*_CloudTrail_*.json.gz' -print0 | xargs -0 zcat | jq -c '.Records[]' > /dev/null`, "sh", archive}
			}})
	}
	var key, principal string
	steps = append(steps,
		&step{name: "credtrail ingest", prepare: removeDB(caseDB),
			args: func() []string { return append([]string{bin, "ingest", "--memory-limit", memory, caseDB}, inputs...) }},
		&step{name: "credtrail analyze", args: func() []string { return []string{bin, "analyze", "--memory-limit", memory, caseDB} }},
		&step{name: "credtrail report", args: func() []string {
			return []string{bin, "report", "--memory-limit", memory, caseDB, "-o", filepath.Join(dir, "bench-case.xlsx")}
		}},
		&step{name: "credtrail policy --all", prepare: func() { os.RemoveAll(filepath.Join(dir, "policies")) }, args: func() []string {
			return []string{bin, "policy", "--memory-limit", memory, caseDB, "--all", "-o", filepath.Join(dir, "policies")}
		}},
		&step{name: "credtrail timeline --access-key", args: func() []string {
			return []string{bin, "timeline", "--memory-limit", memory, caseDB, "--access-key", key}
		}},
		&step{name: "credtrail timeline --principal", args: func() []string {
			return []string{bin, "timeline", "--memory-limit", memory, caseDB, "--principal", principal}
		}},
		&step{name: "credtrail run (end to end)", prepare: removeDB(runDB), args: func() []string {
			return append([]string{bin, "run", "--memory-limit", memory, "--case", runDB, "-o", filepath.Join(dir, "bench-run.xlsx")}, inputs...)
		}},
	)
	for i := 1; i <= runs; i++ {
		for _, s := range steps {
			if s.prepare != nil {
				s.prepare()
			}
			m, err := measureFull(s.args())
			if err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			s.runs = append(s.runs, m)
			fmt.Fprintf(os.Stderr, "run %d %-42s wall %7.2f s  cpu %7.2f s  peak %6.0f MiB\n", i, s.name, m.seconds, m.cpu, m.peakMiB)
			if s.name == "credtrail ingest" && key == "" {
				if key, principal, err = busiest(caseDB); err != nil {
					return err
				}
				fmt.Fprintf(os.Stderr, "timeline of the busiest access key %s and principal %s\n", key, principal)
			}
		}
	}
	var events int64
	if _, events, err = counts(caseDB, bareDB); err != nil {
		return err
	}
	fmt.Printf("archive %s: %d CloudTrail files, %.1f MB gzipped, %.1f MB of JSON, %d events; %d runs of each, alternating; %d cores; memory limit %s\n",
		archive, files, float64(gz)/1e6, float64(jsonBytes)/1e6, events, runs, runtime.NumCPU(), memory)
	rows := make([]row, len(steps))
	var floor, bare, floorCPU, bareCPU float64
	for i, s := range steps {
		var walls, cpus, peaks []float64
		for _, m := range s.runs {
			walls, cpus, peaks = append(walls, m.seconds), append(cpus, m.cpu), append(peaks, m.peakMiB)
		}
		r := row{Name: s.name, Events: events, GzMB: float64(gz) / 1e6, JSONMB: float64(jsonBytes) / 1e6,
			Wall: median(walls), CPU: median(cpus), PeakMiB: median(peaks), Runs: len(s.runs), WallRuns: walls}
		r.EventsPS, r.MBPS = float64(events)/r.Wall, r.JSONMB/r.Wall
		if s.floor && (floor == 0 || r.Wall < floor) {
			floor, floorCPU = r.Wall, r.CPU
		}
		if s.bare {
			bare, bareCPU = r.Wall, r.CPU
		}
		rows[i] = r
	}
	fmt.Printf("\n| what | events | gz MB | JSON MB | wall s | cpu s | events/s | JSON MB/s | peak MiB | ×bare DuckDB | ×floor | cpu ×bare | cpu ×floor |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for i := range rows {
		r := &rows[i]
		if !steps[i].floor {
			r.VsBare, r.VsFloor = r.Wall/bare, r.Wall/floor
			r.VsBareCPU, r.VsFloorCPU = r.CPU/bareCPU, r.CPU/floorCPU
		}
		ratio := func(x float64) string {
			if x == 0 {
				return ""
			}
			return fmt.Sprintf("%.2f", x)
		}
		fmt.Printf("| %s | %d | %.1f | %.1f | %.2f | %.2f | %.0f | %.1f | %.0f | %s | %s | %s | %s |\n",
			r.Name, r.Events, r.GzMB, r.JSONMB, r.Wall, r.CPU, r.EventsPS, r.MBPS, r.PeakMiB,
			ratio(r.VsBare), ratio(r.VsFloor), ratio(r.VsBareCPU), ratio(r.VsFloorCPU))
	}
	fmt.Println("\nMedians of the runs. Ratios are to the bare DuckDB load and to the fastest floor; wall time moves with the machine's load, cpu (user+sys of the process and its children) and peak memory much less.")
	out, err := json.MarshalIndent(map[string]any{
		"archive": archive, "files": files, "events": events, "compressed_bytes": gz, "uncompressed_bytes": jsonBytes,
		"runs": runs, "cores": runtime.NumCPU(), "memory_limit": memory, "rows": rows,
	}, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(dir, "bench.json")
	if err := os.WriteFile(path, append(out, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Println("written:", path)
	return nil
}

// busiest returns the access key and the principal with the most events.
func busiest(caseDB string) (key, principal string, err error) {
	db, err := openReadOnly(caseDB)
	if err != nil {
		return "", "", err
	}
	defer db.Close()
	err = db.QueryRow(`select (select access_key_id from events where access_key_id is not null group by 1 order by count(*) desc, 1 limit 1),
	                          (select principal_arn from events where principal_arn is not null group by 1 order by count(*) desc, 1 limit 1)`).Scan(&key, &principal)
	if err != nil {
		return "", "", fmt.Errorf("busiest key and principal of %s: %w", caseDB, err)
	}
	return key, principal, nil
}

// logFiles lists the archive's CloudTrail log files (not digests).
func logFiles(root string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json.gz") || strings.Contains(p, "CloudTrail-Digest") {
			return err
		}
		out = append(out, p)
		return nil
	})
	return out, err
}

// gunzipAll decompresses every log file on all cores and returns the bytes
// of JSON; with tokenize it also walks every JSON token (encoding/json's
// scanner), what any loader must at least do.
func gunzipAll(root string, tokenize bool) (int64, error) {
	paths, err := logFiles(root)
	if err != nil {
		return 0, err
	}
	var total atomic.Int64
	var firstErr error
	var once sync.Once
	next := make(chan string)
	var wg sync.WaitGroup
	for range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range next {
				n, err := gunzipFile(p, tokenize)
				if err != nil {
					once.Do(func() { firstErr = fmt.Errorf("%s: %w", p, err) })
				}
				total.Add(n)
			}
		}()
	}
	for _, p := range paths {
		next <- p
	}
	close(next)
	wg.Wait()
	return total.Load(), firstErr
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func gunzipFile(path string, tokenize bool) (bytes int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(bufio.NewReaderSize(f, 1<<16))
	if err != nil {
		return 0, err
	}
	cr := &countingReader{r: zr}
	if !tokenize {
		_, err = io.Copy(io.Discard, cr)
		return cr.n, err
	}
	// encoding/json's scanner steps through every byte of every token
	// without building values: Valid is that walk alone (its Decoder's
	// Token allocates per token and ran four times slower than DuckDB's
	// whole parse, no floor). A log file is small enough to hold.
	body, err := io.ReadAll(cr)
	if err != nil {
		return cr.n, err
	}
	if !json.Valid(body) {
		return cr.n, errors.New("not valid JSON")
	}
	return cr.n, nil
}

// floorRun is the child process of a floor: -floor gunzip|tokenize ARCHIVE.
func floorRun(kind, archive string) error {
	n, err := gunzipAll(archive, kind == "tokenize")
	if err != nil {
		return err
	}
	fmt.Println(strconv.FormatInt(n, 10))
	return nil
}
