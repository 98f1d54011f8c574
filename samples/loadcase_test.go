package samples

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// The tests read a generated case back from its files alone, as an
// analyzer would, and check it against itself and against expected.json.

// smallOptions keep test runs short on a shared two-core machine.
func smallOptions() Options {
	return Options{Accounts: 2, Users: 3, Roles: 2, Days: 6, EventsPerDay: 400, Seed: 7, AsOf: DefaultAsOf}
}

var (
	sharedCaseOnce sync.Once
	sharedCaseDir  string
	sharedCaseErr  error
	sharedCase     *caseData
)

// smallCase generates one small case per test binary and loads it.
func smallCase(t *testing.T) *caseData {
	t.Helper()
	sharedCaseOnce.Do(func() {
		sharedCaseDir, sharedCaseErr = os.MkdirTemp("", "samples-case-")
		if sharedCaseErr != nil {
			return
		}
		dir := filepath.Join(sharedCaseDir, "case")
		if _, sharedCaseErr = Generate(context.Background(), dir, smallOptions()); sharedCaseErr != nil {
			return
		}
		sharedCase, sharedCaseErr = loadCase(dir, smallOptions())
	})
	if sharedCaseErr != nil {
		t.Fatal(sharedCaseErr)
	}
	return sharedCase
}

func TestMain(m *testing.M) {
	code := m.Run()
	if sharedCaseDir != "" {
		os.RemoveAll(sharedCaseDir)
	}
	os.Exit(code)
}

type ctEvent struct {
	EventVersion string `json:"eventVersion"`
	UserIdentity *struct {
		Type           string `json:"type"`
		PrincipalID    string `json:"principalId"`
		Arn            string `json:"arn"`
		AccountID      string `json:"accountId"`
		AccessKeyID    string `json:"accessKeyId"`
		UserName       string `json:"userName"`
		InvokedBy      string `json:"invokedBy"`
		SessionContext *struct {
			SessionIssuer struct {
				Arn string `json:"arn"`
			} `json:"sessionIssuer"`
			Attributes struct {
				MFAAuthenticated string `json:"mfaAuthenticated"`
				CreationDate     string `json:"creationDate"`
			} `json:"attributes"`
		} `json:"sessionContext"`
	} `json:"userIdentity"`
	EventTime           time.Time       `json:"eventTime"`
	EventSource         string          `json:"eventSource"`
	EventName           string          `json:"eventName"`
	AwsRegion           string          `json:"awsRegion"`
	SourceIPAddress     string          `json:"sourceIPAddress"`
	UserAgent           string          `json:"userAgent"`
	ErrorCode           string          `json:"errorCode"`
	ErrorMessage        string          `json:"errorMessage"`
	RequestParameters   json.RawMessage `json:"requestParameters"`
	ResponseElements    json.RawMessage `json:"responseElements"`
	AdditionalEventData json.RawMessage `json:"additionalEventData"`
	RequestID           string          `json:"requestID"`
	EventID             string          `json:"eventID"`
	ReadOnly            *bool           `json:"readOnly"`
	Resources           []struct {
		ARN       string `json:"ARN"`
		AccountID string `json:"accountId"`
		Type      string `json:"type"`
	} `json:"resources"`
	EventType          string `json:"eventType"`
	ManagementEvent    *bool  `json:"managementEvent"`
	RecipientAccountID string `json:"recipientAccountId"`
	EventCategory      string `json:"eventCategory"`

	file string
}

// principal is the acting IAM identity, as DESIGN.md defines principal_arn.
func (e *ctEvent) principal() string {
	ui := e.UserIdentity
	switch {
	case ui == nil:
		return ""
	case ui.Type == "AssumedRole" && ui.SessionContext != nil:
		return ui.SessionContext.SessionIssuer.Arn
	case ui.Type == "IAMUser" || ui.Type == "Root":
		return ui.Arn
	}
	return ""
}

// failed reports whether the call did not succeed.
func (e *ctEvent) failed() bool {
	return e.ErrorCode != "" || e.ErrorMessage != "" || strings.Contains(string(e.ResponseElements), `"Failure"`)
}

func (e *ctEvent) denied() bool {
	return strings.Contains(e.ErrorCode, "AccessDenied") || e.ErrorCode == "Client.UnauthorizedOperation"
}

// action maps the event to the IAM action it needed, with the catalog's table.
func (e *ctEvent) action() string {
	c, ok := catalog[strings.TrimSuffix(e.EventSource, ".amazonaws.com")+":"+e.EventName]
	if !ok {
		return ""
	}
	return c.action
}

func (e *ctEvent) param(key string) string {
	var m map[string]any
	json.Unmarshal(e.RequestParameters, &m)
	s, _ := m[key].(string)
	return s
}

type csvRow map[string]string

type caseData struct {
	dir         string
	opts        Options
	asOf        time.Time
	windowStart time.Time
	events      map[string]*ctEvent
	ordered     []*ctEvent          // by time, then id
	logKeys     map[string][]byte   // S3 key → uncompressed bytes, for the digest checks
	digests     map[string][]byte   // S3 key → uncompressed digest
	reports     map[string][]csvRow // account → rows
	reportCSV   map[string][]byte
	gaad        map[string]*gaadCase // account → merged pages
	expected    []Fact
}

type gaadCase struct {
	pages    []map[string]json.RawMessage
	users    []gaadUserIn
	groups   map[string]gaadGroupIn // by name
	roles    map[string]gaadRoleIn  // by ARN
	policies map[string]*policyDoc  // default version, by ARN
}

type gaadInlineIn struct {
	PolicyName     string
	PolicyDocument json.RawMessage
}
type gaadAttachedIn struct{ PolicyName, PolicyArn string }
type gaadUserIn struct {
	UserName, Arn, Path     string
	UserPolicyList          []gaadInlineIn
	GroupList               []string
	AttachedManagedPolicies []gaadAttachedIn
	PermissionsBoundary     *struct{ PermissionsBoundaryArn string }
}
type gaadGroupIn struct {
	GroupName, Arn          string
	GroupPolicyList         []gaadInlineIn
	AttachedManagedPolicies []gaadAttachedIn
}
type gaadRoleIn struct {
	RoleName, Arn            string
	AssumeRolePolicyDocument json.RawMessage
	RolePolicyList           []gaadInlineIn
	AttachedManagedPolicies  []gaadAttachedIn
	PermissionsBoundary      *struct{ PermissionsBoundaryArn string }
	RoleLastUsed             struct{ LastUsedDate, Region string }
	trust                    *policyDoc
}

var (
	logKeyRE    = regexp.MustCompile(`^AWSLogs/(o-[a-z0-9]{10})/(\d{12})/CloudTrail/([a-z0-9-]+)/(\d{4})/(\d{2})/(\d{2})/(\d{12})_CloudTrail_([a-z0-9-]+)_(\d{8}T\d{4}Z)_[A-Za-z0-9]{16}\.json\.gz$`)
	digestKeyRE = regexp.MustCompile(`^AWSLogs/(o-[a-z0-9]{10})/(\d{12})/CloudTrail-Digest/([a-z0-9-]+)/(\d{4})/(\d{2})/(\d{2})/(\d{12})_CloudTrail-Digest_([a-z0-9-]+)_([A-Za-z0-9._-]+)_([a-z0-9-]+)_(\d{8}T\d{6}Z)\.json\.gz$`)
)

// gunzipStrict decompresses one gzip member and refuses trailing data, as
// aws cloudtrail validate-logs does.
func gunzipStrict(data []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	zr.Multistream(false)
	body, err := io.ReadAll(zr)
	if err != nil {
		return nil, err
	}
	if zr.Header.Name != "" || !zr.Header.ModTime.IsZero() {
		return nil, fmt.Errorf("gzip header carries a name or time: %+v", zr.Header)
	}
	rest, _ := io.ReadAll(zr)
	if len(rest) > 0 {
		return nil, errors.New("data after the gzip member")
	}
	return body, nil
}

func loadCase(dir string, opts Options) (*caseData, error) {
	c := &caseData{
		dir: dir, opts: opts, asOf: opts.AsOf, windowStart: opts.AsOf.Add(-time.Duration(opts.Days) * 24 * time.Hour),
		events: map[string]*ctEvent{}, logKeys: map[string][]byte{}, digests: map[string][]byte{},
		reports: map[string][]csvRow{}, reportCSV: map[string][]byte{}, gaad: map[string]*gaadCase{},
	}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		rel = filepath.ToSlash(rel)
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		switch {
		case strings.HasPrefix(rel, "AWSLogs/") && strings.Contains(rel, "/CloudTrail-Digest/"):
			body, err := gunzipStrict(data)
			if err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
			c.digests[rel] = body
		case strings.HasPrefix(rel, "AWSLogs/"):
			body, err := gunzipStrict(data)
			if err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
			c.logKeys[rel] = body
			var f struct{ Records []*ctEvent }
			if err := json.Unmarshal(body, &f); err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
			for _, e := range f.Records {
				e.file = rel
				if _, dup := c.events[e.EventID]; dup {
					return fmt.Errorf("%s: duplicate eventID %s", rel, e.EventID)
				}
				c.events[e.EventID] = e
				c.ordered = append(c.ordered, e)
			}
		case rel == "expected.json":
			if err := json.Unmarshal(data, &c.expected); err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
		case strings.HasSuffix(rel, "/credential-report.csv"):
			acct := strings.Split(rel, "/")[1]
			c.reportCSV[acct] = data
			rows, err := parseReport(data)
			if err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
			c.reports[acct] = rows
		case rel == "README.md", strings.HasSuffix(rel, "/get-credential-report.json"),
			rel == "cloudtrail-public-keys.json", strings.HasPrefix(rel, "cloudtrail-digest-metadata/"): // checked by credtrail verify's tests
		case strings.Contains(rel, "/get-account-authorization-details"):
			acct := strings.Split(rel, "/")[1]
			if c.gaad[acct] == nil {
				c.gaad[acct] = &gaadCase{groups: map[string]gaadGroupIn{}, roles: map[string]gaadRoleIn{}, policies: map[string]*policyDoc{}}
			}
			var page map[string]json.RawMessage
			if err := json.Unmarshal(data, &page); err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
			c.gaad[acct].pages = append(c.gaad[acct].pages, page)
			if err := c.gaad[acct].add(page); err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
		default:
			return fmt.Errorf("unexpected file %s", rel)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(c.ordered, func(i, j int) bool {
		if !c.ordered[i].EventTime.Equal(c.ordered[j].EventTime) {
			return c.ordered[i].EventTime.Before(c.ordered[j].EventTime)
		}
		return c.ordered[i].EventID < c.ordered[j].EventID
	})
	return c, nil
}

func parseReport(data []byte) ([]csvRow, error) {
	rd := csv.NewReader(bytes.NewReader(data))
	recs, err := rd.ReadAll()
	if err != nil {
		return nil, err
	}
	var rows []csvRow
	for _, rec := range recs[1:] {
		row := csvRow{}
		for i, k := range recs[0] {
			row[k] = rec[i]
		}
		rows = append(rows, row)
	}
	return rows, nil
}

func (g *gaadCase) add(page map[string]json.RawMessage) error {
	var users []gaadUserIn
	var groups []gaadGroupIn
	var roles []gaadRoleIn
	var policies []struct {
		Arn               string
		DefaultVersionId  string
		PolicyVersionList []struct {
			Document         json.RawMessage
			VersionId        string
			IsDefaultVersion bool
		}
	}
	for key, dst := range map[string]any{"UserDetailList": &users, "GroupDetailList": &groups, "RoleDetailList": &roles, "Policies": &policies} {
		if err := json.Unmarshal(page[key], dst); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
	}
	g.users = append(g.users, users...)
	for _, gr := range groups {
		g.groups[gr.GroupName] = gr
	}
	for _, ro := range roles {
		d, err := parsePolicyDoc(ro.AssumeRolePolicyDocument)
		if err != nil {
			return fmt.Errorf("role %s trust: %w", ro.RoleName, err)
		}
		ro.trust = d
		g.roles[ro.Arn] = ro
	}
	for _, p := range policies {
		defaults := 0
		for _, v := range p.PolicyVersionList {
			if !v.IsDefaultVersion {
				continue
			}
			defaults++
			if v.VersionId != p.DefaultVersionId {
				return fmt.Errorf("policy %s: default version %s is not DefaultVersionId %s", p.Arn, v.VersionId, p.DefaultVersionId)
			}
			d, err := parsePolicyDoc(v.Document)
			if err != nil {
				return fmt.Errorf("policy %s: %w", p.Arn, err)
			}
			g.policies[p.Arn] = d
		}
		if defaults != 1 {
			return fmt.Errorf("policy %s has %d default versions", p.Arn, defaults)
		}
	}
	return nil
}

// parsePolicyDoc reads a policy document written as an object or as a
// URL-encoded JSON string (FORMATS.md A2).
func parsePolicyDoc(raw json.RawMessage) (*policyDoc, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		dec, err := url.PathUnescape(s)
		if err != nil {
			return nil, err
		}
		raw = json.RawMessage(dec)
	}
	var d struct {
		Version   string
		Statement json.RawMessage
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, err
	}
	var stmts []map[string]json.RawMessage
	if json.Unmarshal(d.Statement, &stmts) != nil {
		var one map[string]json.RawMessage
		if err := json.Unmarshal(d.Statement, &one); err != nil {
			return nil, err
		}
		stmts = append(stmts, one)
	}
	out := &policyDoc{Version: d.Version}
	list := func(v json.RawMessage) []string {
		if v == nil {
			return nil
		}
		var one string
		if json.Unmarshal(v, &one) == nil {
			return []string{one}
		}
		var many []string
		json.Unmarshal(v, &many)
		return many
	}
	for _, m := range stmts {
		s := statement{Action: list(m["Action"]), NotAction: list(m["NotAction"]), Resource: list(m["Resource"]), NotResource: list(m["NotResource"])}
		json.Unmarshal(m["Effect"], &s.Effect)
		if p := m["Principal"]; p != nil {
			var star string
			if json.Unmarshal(p, &star) == nil && star == "*" {
				s.Principal = &principalSpec{Any: true}
			} else {
				var kinds map[string]json.RawMessage
				if err := json.Unmarshal(p, &kinds); err != nil {
					return nil, err
				}
				s.Principal = &principalSpec{}
				for _, k := range sortedKeys(kinds) {
					s.Principal.Kinds = append(s.Principal.Kinds, principalKind{k, list(kinds[k])})
				}
			}
		}
		if cond := m["Condition"]; cond != nil {
			var cm map[string]map[string]json.RawMessage
			if err := json.Unmarshal(cond, &cm); err != nil {
				return nil, err
			}
			s.Condition = map[string]map[string][]string{}
			for op, kv := range cm {
				s.Condition[op] = map[string][]string{}
				for k, v := range kv {
					s.Condition[op][k] = list(v)
				}
			}
		}
		out.Statements = append(out.Statements, s)
	}
	return out, nil
}

// policySetOf rebuilds, from the export alone, the policies in force on a user or role.
func (g *gaadCase) policySetOf(arn string) (*policySet, bool) {
	ps := &policySet{}
	addInline := func(owner string, list []gaadInlineIn, via string) error {
		for _, p := range list {
			d, err := parsePolicyDoc(p.PolicyDocument)
			if err != nil {
				return err
			}
			ps.identity = append(ps.identity, policyRef{ref: owner + "#inline/" + p.PolicyName, name: p.PolicyName, doc: d, inline: true, viaGroup: via})
		}
		return nil
	}
	addManaged := func(list []gaadAttachedIn, via string) {
		for _, p := range list {
			ps.identity = append(ps.identity, policyRef{ref: p.PolicyArn, name: p.PolicyName, doc: g.policies[p.PolicyArn], viaGroup: via})
		}
	}
	for _, u := range g.users {
		if u.Arn != arn {
			continue
		}
		addInline(u.Arn, u.UserPolicyList, "")
		addManaged(u.AttachedManagedPolicies, "")
		for _, name := range u.GroupList {
			gr := g.groups[name]
			addInline(gr.Arn, gr.GroupPolicyList, gr.Arn)
			addManaged(gr.AttachedManagedPolicies, gr.Arn)
		}
		if b := u.PermissionsBoundary; b != nil {
			ps.boundary = &policyRef{ref: b.PermissionsBoundaryArn, doc: g.policies[b.PermissionsBoundaryArn]}
		}
		return ps, true
	}
	if ro, ok := g.roles[arn]; ok {
		addInline(ro.Arn, ro.RolePolicyList, "")
		addManaged(ro.AttachedManagedPolicies, "")
		if b := ro.PermissionsBoundary; b != nil {
			ps.boundary = &policyRef{ref: b.PermissionsBoundaryArn, doc: g.policies[b.PermissionsBoundaryArn]}
		}
		return ps, true
	}
	return nil, false
}

// row returns a credential report row by account and user name.
func (c *caseData) row(acct, user string) csvRow {
	for _, r := range c.reports[acct] {
		if r["user"] == user {
			return r
		}
	}
	return nil
}

// rowOf finds the row of an evidence reference credential_report:account=…:user=….
func (c *caseData) rowOf(ref string) (csvRow, bool) {
	rest, ok := strings.CutPrefix(ref, "credential_report:account=")
	if !ok {
		return nil, false
	}
	acct, user, ok := strings.Cut(rest, ":user=")
	if !ok {
		return nil, false
	}
	r := c.row(acct, user)
	return r, r != nil
}

func accountOf(arn string) string {
	parts := strings.Split(arn, ":")
	if len(parts) < 5 {
		return ""
	}
	return parts[4]
}

func parseReportTime(s string) (time.Time, bool) {
	t, err := time.Parse("2006-01-02T15:04:05+00:00", s)
	return t, err == nil
}

// decodeWrapper returns the CSV inside a get-credential-report answer.
func decodeWrapper(data []byte) ([]byte, string, error) {
	var w struct{ Content, ReportFormat, GeneratedTime string }
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, "", err
	}
	csv, err := base64.StdEncoding.DecodeString(w.Content)
	return csv, w.GeneratedTime, err
}
