package samples

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkGenerate writes a one-account case of 200,000 background events
// per iteration and reports events per second and bytes written per event.
// make bench-usage runs it; compare results measured on one machine only.
func BenchmarkGenerate(b *testing.B) {
	o := Options{Accounts: 1, Users: 10, Roles: 6, Days: 4, EventsPerDay: 50_000, Seed: 1, AsOf: DefaultAsOf}
	var events, bytes int64
	var elapsed time.Duration
	for i := 0; b.Loop(); i++ {
		dir := filepath.Join(b.TempDir(), fmt.Sprint(i))
		start := time.Now()
		s, err := Generate(context.Background(), dir, o)
		if err != nil {
			b.Fatal(err)
		}
		elapsed += time.Since(start)
		events += s.Events
		bytes += s.Bytes
	}
	b.ReportMetric(float64(events)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(bytes)/float64(events), "bytes/event")
}
