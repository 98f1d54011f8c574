// Package samples generates realistic synthetic evidence cases with planted,
// known findings: IAM credential reports, account authorization details and
// a CloudTrail organization-trail archive with digest files, plus
// expected.json, the facts a correct analysis must report.
//
// The output depends only on the Options: the same seed gives the same
// bytes, whatever the machine, the time or the number of workers.
package samples

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"
)

// Options say what to generate.
type Options struct {
	Accounts     int       // accounts of the organization in the case
	Users        int       // IAM users per account besides those of the planted stories
	Roles        int       // roles per account besides those of the planted stories
	Days         int       // days of CloudTrail, ending at AsOf
	EventsPerDay int       // background CloudTrail events per account per day
	Seed         uint64    // everything random is drawn from it
	AsOf         time.Time // end of the window (rounded down to the minute); the IAM exports are generated then
	Workers      int       // goroutines writing the archive (0: GOMAXPROCS); the output does not depend on it
}

// DefaultAsOf is the default end of the window: a fixed time, never the clock.
var DefaultAsOf = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// DefaultOptions are the options of `credtrail samples generate` without flags.
func DefaultOptions() Options {
	return Options{Accounts: 1, Users: 6, Roles: 4, Days: 14, EventsPerDay: 5000, Seed: 1, AsOf: DefaultAsOf}
}

// Validate reports options out of range; Generate calls it too.
func (o Options) Validate() error {
	switch {
	case o.Accounts < 1 || o.Accounts > 100:
		return fmt.Errorf("accounts must be between 1 and 100, not %d", o.Accounts)
	case o.Users < 0 || o.Users > 10000:
		return fmt.Errorf("users must be between 0 and 10000, not %d", o.Users)
	case o.Roles < 0 || o.Roles > 10000:
		return fmt.Errorf("roles must be between 0 and 10000, not %d", o.Roles)
	case o.Days < 1 || o.Days > 400:
		return fmt.Errorf("days must be between 1 and 400, not %d", o.Days)
	case o.EventsPerDay < 0 || o.EventsPerDay > 100_000_000:
		return fmt.Errorf("events per day must be between 0 and 100000000, not %d", o.EventsPerDay)
	case o.AsOf.IsZero():
		return errors.New("as-of time is not set")
	}
	return nil
}

// Summary says what Generate wrote.
type Summary struct {
	Accounts     int
	Events       int64 // CloudTrail records
	LogFiles     int64
	DigestFiles  int64
	IAMFiles     int64
	Bytes        int64 // bytes written (compressed where compressed)
	Facts        int
	ExpectedPath string
}

// gzipLevel is compress/gzip's fastest level on CloudTrail JSON here: level
// 2 compresses about 7% faster than BestSpeed and 10% smaller (measured on
// generated log files, 2026-11-24). Changing it changes every output byte.
const gzipLevel = 2

// recordsPerDelivery is the number of records a log file aims at.
const recordsPerDelivery = 300

type generator struct {
	w           *world
	dir         string
	level       int
	interval    []map[string]int64 // per account and region: seconds per delivery
	tr          *tracker           // merged from every task
	scratchPool sync.Pool

	digests     int64
	digestBytes int64
	iamFiles    int64
	iamBytes    int64
}

// Generate writes a case into dir, which must not hold a case already.
func Generate(ctx context.Context, dir string, opts Options) (Summary, error) {
	if err := opts.Validate(); err != nil {
		return Summary{}, err
	}
	opts.AsOf = opts.AsOf.UTC().Truncate(time.Minute)
	for _, name := range []string{"AWSLogs", "iam", "expected.json"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return Summary{}, fmt.Errorf("%s already holds a case (%s): choose an empty directory", dir, name)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Summary{}, err
	}
	w := newWorld(opts)
	g := &generator{w: w, dir: dir, level: gzipLevel, tr: newTracker(w)}
	g.planDeliveries()
	for _, evs := range w.planted {
		slices.SortStableFunc(evs, func(x, y *plantedEvent) int { return cmp.Compare(x.rec.time, y.rec.time) })
	}

	tasks := g.tasks()
	results, err := g.runTasks(ctx, tasks, opts.Workers)
	if err != nil {
		return Summary{}, err
	}
	sum := Summary{Accounts: len(w.accounts)}
	var logFiles []logFile
	for _, res := range results {
		g.tr.merge(res.tracker)
		sum.Events += res.events
		sum.LogFiles += res.files
		sum.Bytes += res.bytes
		logFiles = append(logFiles, res.logFiles...)
	}
	if err := g.writeDigests(logFiles); err != nil {
		return Summary{}, err
	}
	if err := g.writeCredentialReports(); err != nil {
		return Summary{}, err
	}
	if err := g.writeAuthorizationDetails(); err != nil {
		return Summary{}, err
	}
	facts := g.facts()
	js, err := marshalIndent(facts, "  ")
	if err != nil {
		return Summary{}, err
	}
	sum.ExpectedPath = filepath.Join(dir, "expected.json")
	if err := g.writeFile(sum.ExpectedPath, js); err != nil {
		return Summary{}, err
	}
	sum.DigestFiles, sum.IAMFiles, sum.Facts = g.digests, g.iamFiles, len(facts)
	sum.Bytes += g.digestBytes + g.iamBytes
	return sum, nil
}

// tasks lists the (account, region, day) triples that have events: every
// background region, and the regions only planted events touch.
func (g *generator) tasks() []task {
	w := g.w
	var out []task
	for _, a := range w.accounts {
		for d := range w.opts.Days {
			for _, rg := range a.regions {
				out = append(out, task{a.index, rg, d})
			}
		}
	}
	var extra []task
	for k := range w.planted {
		if !slices.Contains(w.accounts[k.account].regions, k.region) {
			extra = append(extra, task{k.account, k.region, k.day})
		}
	}
	slices.SortFunc(extra, func(x, y task) int {
		return cmp.Or(cmp.Compare(x.account, y.account), cmp.Compare(x.region, y.region), cmp.Compare(x.day, y.day))
	})
	return append(out, extra...)
}

// runTasks runs the tasks on a few goroutines; results keep the task order.
func (g *generator) runTasks(ctx context.Context, tasks []task, workers int) ([]taskResult, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make([]taskResult, len(tasks))
	errs := make([]error, len(tasks))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, len(tasks)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i], errs[i] = g.runTask(ctx, tasks[i])
				if errs[i] != nil {
					cancel()
				}
			}
		}()
	}
feed:
	for i := range tasks {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return results, nil
}

// planDeliveries sets how often each account and region delivers a log
// file: every 5 minutes when busy, up to hourly when quiet, aiming at about
// 300 records per file (busy real trails average 275, PERF.md). Fewer,
// larger files also matter for speed: creating a file costs about 0.7 ms of
// kernel time on the project's machines.
func (g *generator) planDeliveries() {
	w := g.w
	for _, a := range w.accounts {
		m := map[string]int64{}
		var total float64
		for _, ac := range a.actors {
			total += ac.weight
		}
		for i, rg := range a.regions {
			var share float64
			for _, ac := range a.actors {
				share += float64(ac.weight * ac.regionShare(i)) // float64(): no fused multiply-add, same bytes on every CPU
			}
			perMinute := float64(w.opts.EventsPerDay) * share / total / (24 * 60)
			m[rg] = 3600
			for _, minutes := range []int64{5, 10, 15, 20, 30} {
				if perMinute*float64(minutes) >= recordsPerDelivery {
					m[rg] = minutes * 60
					break
				}
			}
		}
		g.interval = append(g.interval, m)
	}
	for k := range w.planted {
		if _, ok := g.interval[k.account][k.region]; !ok {
			g.interval[k.account][k.region] = 300
		}
	}
}
