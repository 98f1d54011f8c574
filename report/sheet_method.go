package report

import (
	"context"
	"strconv"
)

func (b *book) writeEvidence(ctx context.Context) error {
	return b.writeTable(ctx, table{
		sheet: SheetEvidence,
		print: 10, // to Reason / note
		note: "Every input file, in the order it was recorded, with the SHA-256 of its bytes as stored and what became of it. Times are UTC. " +
			"Integrity: what credtrail verify found of a CloudTrail log or digest file (valid, modified, not covered by a digest, not verified).",
		columns: []column{
			{"File", 8, kInt}, {"Path", 60, kText}, {"Kind", 20, kText}, {"Format", 14, kText}, {"SHA-256", 66, kText},
			{"Bytes", 12, kInt}, {"Records", 10, kInt}, {"Duplicates", 10, kInt}, {"Status", 10, kText}, {"Reason / note", 40, kWrap},
			{"Duplicate of file", 10, kInt}, {"Account", 14, kText}, {"First event (UTC)", 20, kDateTime}, {"Last event (UTC)", 20, kDateTime},
			{"Ingested (UTC)", 20, kDateTime}, {"Integrity (credtrail verify)", 40, kWrap},
		},
		query: `
with v as (
    select path, string_agg(status || coalesce(': ' || detail, ''), '; ' order by row_number) as integrity
    from log_validation where path is not null
    group by path
)
select ef.file_id, ef.path, ef.kind, ef.format, ef.sha256, ef.bytes, ef.records, ef.duplicates, ef.status, ef.error,
       ef.duplicate_of, ef.account_id, ef.first_event, ef.last_event, ef.ingested_at,
       case when ef.kind in ('cloudtrail', 'cloudtrail_digest') and ef.status <> 'rejected'
            then coalesce(v.integrity, 'not checked: run credtrail verify on the case') end
from evidence_files ef left join v on v.path = ef.path
order by ef.file_id`,
	})
}

// methodLine is one row of the Method sheet.
type methodLine struct{ section, item, value, notes string }

func (b *book) writeMethod(ctx context.Context) error {
	r := b.r
	baseline, suppressions := "none", "none"
	if r.opts.BaselinePath != "" {
		baseline = r.opts.BaselinePath
	}
	if r.opts.SuppressionsPath != "" {
		suppressions = r.opts.SuppressionsPath
	}
	lines := []methodLine{
		{"Report", "As of (UTC)", r.asOfText("2006-01-02 15:04:05"), "Key ages, suppression expiry and the document dates are computed from this time, never from the clock; the same case and parameters give the same workbook."},
		{"Report", "credtrail version", r.opts.Version, ""},
		{"Report", "Rows per sheet at most", strconv.Itoa(r.maxRows()), "A longer sheet is cut with a note at its top; every row is in the JSON lines output (--format jsonl --tables)."},
		{"Report", "Timeline events per finding at most", strconv.Itoa(r.timelinePerFinding()), "A finding with more events shows its first ones on the Timeline; all of them are in its evidence (findings.jsonl) and in events.jsonl (--format jsonl --tables)."},
		{"Report", "Baseline", baseline, "Each finding is new or unchanged against it; findings gone since are on the Resolved sheet."},
		{"Report", "Suppressions", suppressions, "Accepted risks: listed on the Suppressed sheet, not counted by --fail-on."},
	}
	if len(r.params) == 0 {
		lines = append(lines, methodLine{"Analysis", "parameters", "not analysed", "The case has no analysis parameters: credtrail analyze (or run) has not been run on it."})
	}
	for _, p := range r.params {
		lines = append(lines, methodLine{"Analysis", p[0], p[1], parameterNotes[p[0]]})
	}
	lines = append(lines, definitions...)
	lines = append(lines, limitations...)
	i := 0
	return b.streamRows(ctx, table{
		sheet:   SheetMethod,
		note:    "How this workbook was made: the parameters and thresholds of the analysis, the definitions used, and what the evidence cannot show.",
		columns: []column{{"Section", 14, kText}, {"Item", 28, kText}, {"Value", 30, kWrap}, {"Notes", 90, kWrap}},
	}, int64(len(lines)), int64(len(lines)+1), func(dst []any) (bool, error) {
		if i >= len(lines) {
			return false, nil
		}
		l := lines[i]
		i++
		copy(dst, []any{l.section, l.item, nilIfEmpty(l.value), nilIfEmpty(l.notes)})
		return true, nil
	})
}

var parameterNotes = map[string]string{
	"since":             "Start of the analysis window (UTC).",
	"until":             "End of the analysis window (UTC).",
	"as_of":             "The time the analysis speaks for (UTC).",
	"key_max_age_days":  "An active access key older than this is overdue for rotation.",
	"unused_after_days": "A credential or permission not used for this long counts as unused.",
	"allowed_regions":   "Regions where activity is expected; activity elsewhere is reported.",
	"trusted_accounts":  "Accounts trusted in role trust policies without a finding.",
	"trusted_cidrs":     "Source networks expected for sign-ins and API calls.",
}

var definitions = []methodLine{
	{"Definitions", "critical", "", "Compromise or full-account exposure is likely now (for example an active root access key, root use without MFA)."},
	{"Definitions", "high", "", "A strong path to compromise or an audit control failing outright."},
	{"Definitions", "medium", "", "Weakens a control; fix in the normal cycle."},
	{"Definitions", "low", "", "Hygiene; worth fixing, little risk on its own."},
	{"Definitions", "info", "", "Context for the auditor; no action implied."},
	{"Definitions", "Rotation", "ok / overdue / inactive / unknown", "overdue: an active key last rotated more than key_max_age_days before the as-of time; unknown: the report gives no rotation date."},
	{"Definitions", "Baseline", "new / unchanged / resolved", "Compared by finding ID, which is stable for the same rule and subject."},
	{"Definitions", "Principal", "", "The acting IAM identity of an event: the role for an assumed-role session, the user for a user, arn:aws:iam::ACCOUNT:root for root."},
	{"Definitions", "Times", "UTC", "Every date and time in this workbook is UTC and stored as an Excel date, so it sorts and filters as one."},
}

var limitations = []methodLine{
	{"Limitations", "CloudTrail coverage", "", "Only the events in the evidence are seen: trails, regions and periods not collected are invisible, and data events appear only if the trail logged them."},
	{"Limitations", "Credential report", "", "A point-in-time snapshot, regenerated by AWS at most every four hours; key and password use after it was generated is not in it."},
	{"Limitations", "Authorization details", "", "Policies as exported; SCPs, resource policies and session policies are not in the export and are not evaluated."},
	{"Limitations", "Text cells", "", "User agents, names and request values are written as text, never formulas; CSV output neutralises leading =, +, -, @, tab and carriage return."},
	{"Limitations", "Unused permissions", "", "Unused means no successful call seen in the window: actions CloudTrail does not log (data events unless enabled) look unused; conditions and resources of statements are not evaluated; a principal without events is 'no evidence', not unused. Without an action catalog, wildcards are judged as patterns."},
	{"Limitations", "Event history CSV", "", "Console event-history exports carry no identity type; such events cannot be attributed as root by type alone."},
}
