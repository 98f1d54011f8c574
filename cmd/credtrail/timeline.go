package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/credtrail/credtrail/ingest"
	"github.com/credtrail/credtrail/queries"
	"github.com/credtrail/credtrail/report"
)

type timelineOptions struct {
	casePath, format, since, until, out string
	actor                               queries.Actor
	engine                              ingest.Options
}

func newTimelineCmd(s *streams) *cobra.Command {
	opts := &timelineOptions{}
	cmd := &cobra.Command{
		Use:   "timeline CASE.duckdb (--access-key KEY | --principal ARN | --ip ADDR | --session NAME | --user-agent TEXT)...",
		Short: "Every event of one actor in time order, following the credentials it minted",
		Long: `Print every CloudTrail event of one actor in time order. The actor is named by one or more
of --access-key, --principal, --ip, --session (the session name of an assumed role) and
--user-agent (a part of it); each flag may be repeated (any of its values), and different
flags must all match. The temporary credentials the actor's calls minted (AssumeRole,
AssumeRoleWithSAML, AssumeRoleWithWebIdentity, GetSessionToken, GetFederationToken, console
sign-in sessions) are followed, recursively: their events join the timeline with the hop
they came through (via: the parent key and the call that minted it). Access keys the actor
created for users (CreateAccessKey) are listed as leads, and followed with
--follow-created-keys.
The terminal shows a summary of the actor (first and last seen, addresses, user agents,
regions, services, errors, and the calls of the credential-compromise playbook) and the
events; --format csv or json prints every column of every event, one per row or line.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.casePath = args[0]
			return runTimeline(cmd, s, opts)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&opts.actor.AccessKeys, "access-key", nil, "access key id (AKIA… or ASIA…)")
	f.StringArrayVar(&opts.actor.Principals, "principal", nil, "ARN of the acting user or role (a role's sessions count as the role)")
	f.StringArrayVar(&opts.actor.IPs, "ip", nil, "source address")
	f.StringArrayVar(&opts.actor.Sessions, "session", nil, "role session name")
	f.StringArrayVar(&opts.actor.UserAgents, "user-agent", nil, "text the user agent contains")
	f.BoolVar(&opts.actor.FollowCreatedKeys, "follow-created-keys", false, "follow the access keys the actor created for users")
	f.StringVar(&opts.since, "since", "", "first time (RFC 3339 or YYYY-MM-DD)")
	f.StringVar(&opts.until, "until", "", "last time (RFC 3339 or YYYY-MM-DD)")
	f.StringVar(&opts.format, "format", report.FormatTable, "output: table (summary and events), csv or json (events, one object per line)")
	f.StringVarP(&opts.out, "output", "o", "", "write to a file, its format named by its extension: .xlsx (a workbook: summary, chart of calls per hour, events), .csv or .jsonl")
	addEngineFlags(cmd, &opts.engine)
	return cmd
}

func runTimeline(cmd *cobra.Command, s *streams, opts *timelineOptions) error {
	switch opts.format {
	case report.FormatTable, report.FormatCSV, report.FormatJSON:
	default:
		return usageError{errorf("unknown --format %q (table, csv or json)", opts.format)}
	}
	if opts.out != "" {
		if cmd.Flags().Changed("format") {
			return usageError{errorf("-o names the format by its extension; drop --format")}
		}
		switch strings.ToLower(filepath.Ext(opts.out)) {
		case ".xlsx":
			opts.format = formatXLSX
		case ".csv":
			opts.format = report.FormatCSV
		case ".jsonl", ".json":
			opts.format = report.FormatJSON
		default:
			return usageError{errorf("-o %s: the extension names the format: use .xlsx, .csv or .jsonl", opts.out)}
		}
	}
	if opts.actor.Empty() {
		return usageError{errorf("name the actor: --access-key, --principal, --ip, --session or --user-agent")}
	}
	var err error
	if opts.since != "" {
		if opts.actor.Since, err = parseTime(opts.since); err != nil {
			return usageError{fmt.Errorf("--since: %w", err)}
		}
	}
	if opts.until != "" {
		if opts.actor.Until, err = parseTime(opts.until); err != nil {
			return usageError{fmt.Errorf("--until: %w", err)}
		}
	}
	if !opts.actor.Since.IsZero() && !opts.actor.Until.IsZero() && opts.actor.Until.Before(opts.actor.Since) {
		return usageError{errorf("--until is before --since")}
	}
	ctx := cmd.Context()
	c, err := ingest.OpenReadOnly(ctx, opts.casePath, opts.engine)
	if err != nil {
		return err
	}
	defer c.Close()
	tl, err := queries.NewTimeline(ctx, c.DB, opts.actor)
	if err != nil {
		return err
	}
	if opts.out != "" {
		rows, err := tl.Rows(ctx, c.DB, false)
		if err != nil {
			return err
		}
		defer rows.Close()
		err = report.WriteFileAtomic(opts.out, func(w io.Writer) error {
			if opts.format == formatXLSX {
				return report.WriteTimeline(ctx, w, describeActor(opts.actor), timelineNotes(tl), rows)
			}
			return report.WriteRows(w, rows, opts.format)
		})
		if err != nil {
			return fmt.Errorf("write %s: %w", opts.out, err)
		}
		fmt.Fprintf(s.err, "timeline written to %s\n", opts.out)
		return nil
	}
	if opts.format == report.FormatTable {
		sum, err := tl.Summary(ctx, c.DB)
		if err != nil {
			return err
		}
		writeTimelineSummary(s.out, sum)
		if sum.Events == 0 {
			return nil
		}
		fmt.Fprintln(s.out)
	}
	rows, err := tl.Rows(ctx, c.DB, opts.format == report.FormatTable)
	if err != nil {
		return err
	}
	defer rows.Close()
	return report.WriteRows(s.out, rows, opts.format)
}

// writeTimelineSummary prints the actor at a glance; every value from the
// evidence goes through report.TerminalText.
func writeTimelineSummary(w io.Writer, sum queries.TimelineSummary) {
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") }
	if sum.Events == 0 {
		fmt.Fprintln(w, "no events of this actor in the case")
		return
	}
	fmt.Fprintf(w, "%d events (%d refused or failed), %s .. %s UTC\n", sum.Events, sum.Errors, ts(sum.First), ts(sum.Last))
	fmt.Fprintln(w, "credentials:")
	created := map[string]queries.TimelineLead{}
	for _, l := range sum.Leads {
		if l.Followed {
			created[l.AccessKeyID] = l
		}
	}
	for _, k := range sum.Keys {
		key := k.AccessKeyID
		if key == "" {
			key = "(none)"
		}
		via := "the actor's own"
		if l, ok := created[k.AccessKeyID]; ok {
			via = fmt.Sprintf("created for %s by the actor with CreateAccessKey (event %s)", report.TerminalText(l.UserName, 64), report.TerminalText(l.EventID, 60))
		}
		if k.Hop > 0 {
			via = fmt.Sprintf("hop %d, minted by %s with %s (event %s)", k.Hop, report.TerminalText(k.ViaKey, 40), report.TerminalText(k.ViaCall, 40), report.TerminalText(k.ViaEventID, 60))
		}
		fmt.Fprintf(w, "  %6d events               %s .. %s  %s  %s\n", k.Events, ts(k.First), ts(k.Last), report.TerminalText(key, 40), via)
	}
	for _, l := range sum.Leads {
		state := "not followed: add --follow-created-keys"
		if l.Followed {
			state = "followed"
		}
		fmt.Fprintf(w, "  lead: %s created for %s at %s (event %s), %s\n", report.TerminalText(l.AccessKeyID, 40), report.TerminalText(l.UserName, 64), ts(l.Time), report.TerminalText(l.EventID, 60), state)
	}
	lists := []struct {
		title string
		items []queries.TimelineCount
	}{
		{"source addresses", sum.Addresses}, {"user agents", sum.UserAgents}, {"regions", sum.Regions}, {"services", sum.Services},
	}
	for _, l := range lists {
		fmt.Fprintf(w, "%s:\n", l.title)
		for _, c := range l.items {
			fmt.Fprintf(w, "  %6d events %5d errors  %s .. %s  %s\n", c.Events, c.Errors, ts(c.First), ts(c.Last), report.TerminalText(orNone(c.Value), 100))
		}
	}
	if len(sum.Playbook) > 0 {
		fmt.Fprintln(w, "credential-compromise playbook calls:")
		for _, c := range sum.Playbook {
			fmt.Fprintf(w, "  %6d calls  %5d refused  %s .. %s  %-16s %s\n", c.Events, c.Errors, ts(c.First), ts(c.Last), strings.ReplaceAll(c.Group, "_", " "), report.TerminalText(c.Value, 60))
		}
	}
}

// describeActor names the actor as the command line did, for a title.
func describeActor(a queries.Actor) string {
	var parts []string
	for _, f := range []struct {
		name   string
		values []string
	}{{"access key", a.AccessKeys}, {"principal", a.Principals}, {"address", a.IPs}, {"session", a.Sessions}, {"user agent containing", a.UserAgents}} {
		if len(f.values) > 0 {
			parts = append(parts, f.name+" "+strings.Join(f.values, " or "))
		}
	}
	return strings.Join(parts, ", ")
}

// timelineNotes are the leads of a timeline, as lines for the workbook.
func timelineNotes(tl *queries.Timeline) []string {
	var notes []string
	for _, l := range tl.Leads() {
		state := "not followed (credtrail timeline --follow-created-keys follows it)"
		if l.Followed {
			state = "followed: its events are in the timeline"
		}
		notes = append(notes, fmt.Sprintf("Lead: access key %s created for %s at %s (event %s), %s.", l.AccessKeyID, l.UserName, l.Time.UTC().Format("2006-01-02 15:04:05"), l.EventID, state))
	}
	return notes
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
