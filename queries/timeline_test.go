package queries_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/credtrail/credtrail/ingest"
	"github.com/credtrail/credtrail/queries"
)

// collect runs a's timeline and returns its rows as "name key hop via".
func timelineRows(t *testing.T, tl *queries.Timeline, run func(func(queries.TimelineEvent) error) error) []string {
	t.Helper()
	var out []string
	if err := run(func(e queries.TimelineEvent) error {
		out = append(out, fmt.Sprintf("%s %s %s hop=%d via=%s/%s", e.EventTime.UTC().Format("15:04"), e.EventName, e.AccessKeyID, e.Hop, e.ViaKey, e.ViaCall))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// chainTimeline loads the role-chaining fixture and returns the case and
// the timeline of the key that starts the chain.
func chainTimeline(t *testing.T) (*ingest.Case, *queries.Timeline) {
	t.Helper()
	c := ingestCase(t, filepath.Join(t.TempDir(), "case.duckdb"), []string{filepath.Join("testdata", "_timeline", "chain.json")})
	tl, err := queries.NewTimeline(context.Background(), c.DB, queries.Actor{AccessKeys: []string{"AKIAMALLORY000000001"}})
	if err != nil {
		t.Fatal(err)
	}
	return c, tl
}

// A key's timeline follows the temporary keys its calls minted, three
// role-chaining hops deep, and lists the key it created as a lead.
func TestTimelineFollowsRoleChain(t *testing.T) {
	ctx := context.Background()
	c, tl := chainTimeline(t)
	got := timelineRows(t, tl, func(f func(queries.TimelineEvent) error) error { return tl.Events(ctx, c.DB, f) })
	want := []string{
		"10:00 GetCallerIdentity AKIAMALLORY000000001 hop=0 via=/",
		"10:01 AssumeRole AKIAMALLORY000000001 hop=0 via=/",
		"10:02 AssumeRole ASIAHOP1000000000001 hop=1 via=AKIAMALLORY000000001/AssumeRole",
		"10:03 AssumeRole ASIAHOP2000000000002 hop=2 via=ASIAHOP1000000000001/AssumeRole",
		"10:04 StopLogging ASIAHOP3000000000003 hop=3 via=ASIAHOP2000000000002/AssumeRole",
		"10:05 CreateAccessKey ASIAHOP3000000000003 hop=3 via=ASIAHOP2000000000002/AssumeRole",
		"10:07 AssumeRole AKIAMALLORY000000001 hop=0 via=/",
	}
	if !slices.Equal(got, want) {
		t.Errorf("timeline:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	sum, err := tl.Summary(ctx, c.DB)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Events != 7 || sum.Errors != 1 || len(sum.Keys) != 4 {
		t.Errorf("summary: %d events, %d errors, %d keys", sum.Events, sum.Errors, len(sum.Keys))
	}
	if len(sum.Leads) != 1 || sum.Leads[0].AccessKeyID != "AKIABOBNEW0000000001" || sum.Leads[0].UserName != "bob" || sum.Leads[0].Followed {
		t.Errorf("leads: %+v", sum.Leads)
	}
	var groups []string
	for _, p := range sum.Playbook {
		groups = append(groups, p.Group+" "+p.Value)
	}
	if want := []string{"defense_evasion cloudtrail:StopLogging", "persistence iam:CreateAccessKey"}; !slices.Equal(groups, want) {
		t.Errorf("playbook: %v, want %v", groups, want)
	}

	// Following created keys adds bob's new key, as a lead followed.
	tl, err = queries.NewTimeline(ctx, c.DB, queries.Actor{AccessKeys: []string{"AKIAMALLORY000000001"}, FollowCreatedKeys: true})
	if err != nil {
		t.Fatal(err)
	}
	got = timelineRows(t, tl, func(f func(queries.TimelineEvent) error) error { return tl.Events(ctx, c.DB, f) })
	if len(got) != 8 || got[6] != "10:06 ListBuckets AKIABOBNEW0000000001 hop=0 via=/" {
		t.Errorf("with created keys:\n%s", strings.Join(got, "\n"))
	}

	// Filters of different kinds must all match; a session name matches the
	// end of an assumed-role ARN only.
	tl, err = queries.NewTimeline(ctx, c.DB, queries.Actor{Sessions: []string{"s2"}})
	if err != nil {
		t.Fatal(err)
	}
	got = timelineRows(t, tl, func(f func(queries.TimelineEvent) error) error { return tl.Events(ctx, c.DB, f) })
	if len(got) != 3 || !strings.HasPrefix(got[0], "10:03 AssumeRole ASIAHOP2") {
		t.Errorf("session s2:\n%s", strings.Join(got, "\n"))
	}
	tl, err = queries.NewTimeline(ctx, c.DB, queries.Actor{Principals: []string{"arn:aws:iam::111122223333:role/hop1"}, IPs: []string{"198.51.100.1"}})
	if err != nil {
		t.Fatal(err)
	}
	got = timelineRows(t, tl, func(f func(queries.TimelineEvent) error) error { return tl.Events(ctx, c.DB, f) })
	if len(got) != 1 || !strings.Contains(got[0], "ListUsers ASIAOTHER") {
		t.Errorf("role hop1 from 198.51.100.1:\n%s", strings.Join(got, "\n"))
	}
	// A value that looks like SQL is only a value.
	tl, err = queries.NewTimeline(ctx, c.DB, queries.Actor{AccessKeys: []string{"' or 1=1 --"}})
	if err != nil {
		t.Fatal(err)
	}
	if got = timelineRows(t, tl, func(f func(queries.TimelineEvent) error) error { return tl.Events(ctx, c.DB, f) }); len(got) != 0 {
		t.Errorf("injection matched %d events", len(got))
	}
}

// On the sample case, the leaked key's timeline holds its reconnaissance,
// the key it created, the role it assumed and, through the temporary key
// that role gave, the logging tampering and the bulk reads, in order.
func TestTimelineSampleLeakedKey(t *testing.T) {
	dir, facts := sampleCase(t)
	ctx := context.Background()
	c := ingestCase(t, filepath.Join(t.TempDir(), "case.duckdb"), []string{filepath.Join(dir, "AWSLogs")})
	tl, err := queries.NewTimeline(ctx, c.DB, queries.Actor{AccessKeys: []string{"AKIA5XA34JIJ56INAKEG"}})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := tl.Summary(ctx, c.DB)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Leads) != 1 || sum.Leads[0].AccessKeyID != "AKIAL3PFX6EXKQNUKJZF" || sum.Leads[0].Followed {
		t.Errorf("leads: %+v", sum.Leads)
	}
	// The key created for alice is tried at once from the attacker's
	// address: following created keys brings that call in.
	tl, err = queries.NewTimeline(ctx, c.DB, queries.Actor{AccessKeys: []string{"AKIA5XA34JIJ56INAKEG"}, FollowCreatedKeys: true})
	if err != nil {
		t.Fatal(err)
	}
	pos := map[string]int{}
	var events []queries.TimelineEvent
	if err := tl.Events(ctx, c.DB, func(e queries.TimelineEvent) error {
		pos[e.EventID] = len(events)
		events = append(events, e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	first := map[string]int{}
	for _, f := range facts {
		switch f.Fact {
		case "reconnaissance_burst", "access_key_created_for_another_user", "admin_role_assumed_with_leaked_key",
			"cloudtrail_logging_stopped", "s3_bulk_download", "leaked_access_key_used_from_new_ip":
		default:
			continue
		}
		first[f.Fact] = len(events)
		for _, id := range f.Evidence {
			i, ok := pos[id]
			if !ok {
				t.Errorf("%s: event %s not in the timeline", f.Fact, id)
				continue
			}
			first[f.Fact] = min(first[f.Fact], i)
		}
	}
	order := []string{"reconnaissance_burst", "access_key_created_for_another_user", "admin_role_assumed_with_leaked_key", "cloudtrail_logging_stopped", "s3_bulk_download"}
	for i := 1; i < len(order); i++ {
		if first[order[i-1]] > first[order[i]] {
			t.Errorf("%s (row %d) comes after %s (row %d)", order[i-1], first[order[i-1]], order[i], first[order[i]])
		}
	}
	var stop *queries.TimelineEvent
	for i := range events {
		if events[i].EventName == "StopLogging" {
			stop = &events[i]
		}
		if i > 0 && events[i].EventTime.Before(events[i-1].EventTime) {
			t.Fatalf("rows %d and %d out of time order", i-1, i)
		}
	}
	if stop == nil || stop.AccessKeyID != "ASIATXEYDAKSOVVGRVO3" || stop.ViaKey != "AKIA5XA34JIJ56INAKEG" || stop.ViaCall != "AssumeRole" || stop.Hop != 1 || stop.Group != "defense_evasion" {
		t.Errorf("StopLogging row: %+v", stop)
	}
	if sum, err = tl.Summary(ctx, c.DB); err != nil {
		t.Fatal(err)
	}
	if len(sum.Leads) != 1 || !sum.Leads[0].Followed {
		t.Errorf("leads when followed: %+v", sum.Leads)
	}
	var addrs []string
	for _, a := range sum.Addresses {
		addrs = append(addrs, a.Value)
	}
	if !slices.Contains(addrs, "203.0.113.77") || !slices.Contains(addrs, "3.91.47.12") {
		t.Errorf("addresses: %v", addrs)
	}
}

// A timeline is read a page at a time: whatever the page size, the rows
// come once each and in time order, across the ends of pages, and the
// timeline's connection and table are released.
func TestTimelinePages(t *testing.T) {
	ctx := context.Background()
	c, tl := chainTimeline(t)
	whole := timelineRows(t, tl, func(f func(queries.TimelineEvent) error) error { return tl.Events(ctx, c.DB, f) })
	if len(whole) != 7 {
		t.Fatalf("%d rows in one page, want 7", len(whole))
	}
	for _, n := range []int64{1, 2, 3, 6, 7, 8} {
		restore := queries.SetTimelinePageRows(n)
		got := timelineRows(t, tl, func(f func(queries.TimelineEvent) error) error { return tl.Events(ctx, c.DB, f) })
		restore()
		if !slices.Equal(got, whole) {
			t.Errorf("pages of %d rows:\n%s\nwant:\n%s", n, strings.Join(got, "\n"), strings.Join(whole, "\n"))
		}
	}
	if s := c.DB.Stats(); s.InUse != 0 {
		t.Errorf("%d connections still in use after the timelines", s.InUse)
	}
}
