package samples

import (
	"encoding/json"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// Every fact of expected.json is checked against the generated files alone:
// its evidence exists and has the properties the fact states. Then the
// three exports are checked against each other.

func TestExpectedFacts(t *testing.T) { checkFacts(t, smallCase(t)) }

func TestExportsAgree(t *testing.T) { checkConsistency(t, smallCase(t)) }

var mustHaveFacts = []string{
	"root_console_login_without_mfa", "root_access_key_used", "root_access_key_active", "root_mfa_not_enabled",
	"console_user_without_mfa", "access_key_not_rotated_90_days", "access_key_never_used", "multiple_active_access_keys",
	"password_never_used", "credentials_unused_45_days", "credentials_unused_90_days", "inactive_old_key_not_flagged",
	"user_has_attached_policy", "user_has_inline_policy", "user_in_no_group", "empty_group", "user_admin_via_group",
	"user_admin_direct", "privilege_escalation_possible", "notaction_allow", "permissions_boundary_removes_permissions",
	"cross_account_trust_without_external_id", "cross_account_trust_with_external_id", "trust_any_principal",
	"github_oidc_trust_without_sub", "trusted_by_service", "unused_services", "unused_actions", "role_never_used",
	"no_cloudtrail_coverage", "leaked_access_key_used_from_new_ip", "reconnaissance_burst", "access_key_created_for_another_user",
	"login_profile_created_for_another_user", "admin_role_assumed_with_leaked_key", "cloudtrail_logging_stopped",
	"s3_bulk_download", "activity_in_new_region", "console_brute_force",
}

var (
	arnRE      = regexp.MustCompile(`^arn:aws:(iam|sts)::(\d{12}|aws):\S+$`)
	keyIDRE    = regexp.MustCompile(`^A[SK]IA[A-Z2-7]{16}$`)
	keyRefRE   = regexp.MustCompile(`^credential_report:account=(\d{12}):user=([^:]+):access_key_([12])$`)
	eventIDRE  = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	unusedSvRE = regexp.MustCompile(`granted but unused (.*)$`)
)

// evidence splits a fact's evidence into events, report rows and key references.
type evidence struct {
	events []*ctEvent
	rows   []csvRow
	keys   []keyCols
	authz  []string
}

// keyCols are the five columns of one access key slot.
type keyCols struct {
	active, rotated, used, region, service string
}

func (c *caseData) evidenceOf(t *testing.T, f Fact) evidence {
	t.Helper()
	var ev evidence
	for _, ref := range f.Evidence {
		switch {
		case eventIDRE.MatchString(ref):
			e, ok := c.events[ref]
			if !ok {
				t.Errorf("%s %s: event %s is not in the archive", f.Fact, f.Subject, ref)
				continue
			}
			ev.events = append(ev.events, e)
		case keyRefRE.MatchString(ref):
			m := keyRefRE.FindStringSubmatch(ref)
			row := c.row(m[1], m[2])
			if row == nil {
				t.Errorf("%s %s: no report row for %s", f.Fact, f.Subject, ref)
				continue
			}
			p := "access_key_" + m[3] + "_"
			ev.keys = append(ev.keys, keyCols{row[p+"active"], row[p+"last_rotated"], row[p+"last_used_date"], row[p+"last_used_region"], row[p+"last_used_service"]})
			ev.rows = append(ev.rows, row)
		case strings.HasPrefix(ref, "credential_report:"):
			row, ok := c.rowOf(ref)
			if !ok {
				t.Errorf("%s %s: no report row %s", f.Fact, f.Subject, ref)
				continue
			}
			ev.rows = append(ev.rows, row)
		case strings.HasPrefix(ref, "authorization_details:"):
			r := strings.TrimPrefix(ref, "authorization_details:")
			if !c.authzExists(r) {
				t.Errorf("%s %s: %s is not in the authorization details", f.Fact, f.Subject, r)
			}
			ev.authz = append(ev.authz, r)
		default:
			t.Errorf("%s %s: evidence %q of unknown kind", f.Fact, f.Subject, ref)
		}
	}
	return ev
}

// authzExists resolves an ARN or policy_ref in the authorization details.
func (c *caseData) authzExists(ref string) bool {
	owner, inline, isInline := strings.Cut(ref, "#inline/")
	for _, g := range c.gaad {
		for _, u := range g.users {
			if u.Arn == owner && (!isInline || slices.ContainsFunc(u.UserPolicyList, func(p gaadInlineIn) bool { return p.PolicyName == inline })) {
				return true
			}
		}
		for _, gr := range g.groups {
			if gr.Arn == owner && (!isInline || slices.ContainsFunc(gr.GroupPolicyList, func(p gaadInlineIn) bool { return p.PolicyName == inline })) {
				return true
			}
		}
		if ro, ok := g.roles[owner]; ok && (!isInline || slices.ContainsFunc(ro.RolePolicyList, func(p gaadInlineIn) bool { return p.PolicyName == inline })) {
			return true
		}
		if _, ok := g.policies[ref]; ok {
			return true
		}
	}
	return false
}

func (c *caseData) inlineDoc(ref string) *policyDoc {
	owner, name, _ := strings.Cut(ref, "#inline/")
	var raw json.RawMessage
	for _, g := range c.gaad {
		for _, u := range g.users {
			for _, p := range u.UserPolicyList {
				if u.Arn == owner && p.PolicyName == name {
					raw = p.PolicyDocument
				}
			}
		}
		for _, gr := range g.groups {
			for _, p := range gr.GroupPolicyList {
				if gr.Arn == owner && p.PolicyName == name {
					raw = p.PolicyDocument
				}
			}
		}
		if ro, ok := g.roles[owner]; ok {
			for _, p := range ro.RolePolicyList {
				if p.PolicyName == name {
					raw = p.PolicyDocument
				}
			}
		}
	}
	d, _ := parsePolicyDoc(raw)
	return d
}

func (c *caseData) policySet(t *testing.T, arn string) *policySet {
	t.Helper()
	ps, ok := c.gaad[accountOf(arn)].policySetOf(arn)
	if !ok {
		t.Fatalf("%s is not in the authorization details", arn)
	}
	return ps
}

func (c *caseData) gaadUser(arn string) *gaadUserIn {
	for _, u := range c.gaad[accountOf(arn)].users {
		if u.Arn == arn {
			return &u
		}
	}
	return nil
}

func olderThan(c *caseData, ts string, days int) bool {
	tm, ok := parseReportTime(ts)
	return ok && tm.Before(c.asOf.Add(-time.Duration(days)*24*time.Hour))
}

func checkFacts(t *testing.T, c *caseData) {
	t.Helper()
	seen := map[string]int{}
	for _, f := range c.expected {
		seen[f.Fact]++
		if _, ok := categoryOrder[f.Category]; !ok {
			t.Errorf("%s: category %q", f.Fact, f.Category)
		}
		if !arnRE.MatchString(f.Subject) && !keyIDRE.MatchString(f.Subject) {
			t.Errorf("%s: subject %q is neither an ARN nor an access key id", f.Fact, f.Subject)
		}
		if len(f.Evidence) == 0 || f.Detail == "" {
			t.Errorf("%s %s: no evidence or no detail", f.Fact, f.Subject)
		}
		ev := c.evidenceOf(t, f)
		if err := c.checkFact(t, f, ev); err != "" {
			t.Errorf("%s %s: %s", f.Fact, f.Subject, err)
		}
	}
	for _, name := range mustHaveFacts {
		if seen[name] == 0 {
			t.Errorf("expected.json has no %s", name)
		}
	}
}

// checkFact returns what is wrong with f, or "".
func (c *caseData) checkFact(t *testing.T, f Fact, ev evidence) string {
	first := func() *ctEvent {
		if len(ev.events) == 0 {
			return &ctEvent{}
		}
		return ev.events[0]
	}
	row := func() csvRow {
		if len(ev.rows) == 0 {
			return csvRow{}
		}
		return ev.rows[0]
	}
	key := func() keyCols {
		if len(ev.keys) == 0 {
			return keyCols{}
		}
		return ev.keys[0]
	}
	switch f.Fact {
	case "root_mfa_not_enabled":
		if row()["user"] != "<root_account>" || row()["mfa_active"] != "false" {
			return "root row does not show MFA off"
		}
	case "root_access_key_active":
		if row()["user"] != "<root_account>" || key().active != "true" {
			return "root row does not show an active key"
		}
	case "root_console_login_without_mfa":
		for _, e := range ev.events {
			if e.EventName != "ConsoleLogin" || e.UserIdentity.Type != "Root" || e.principal() != f.Subject || e.failed() || !strings.Contains(string(e.AdditionalEventData), `"MFAUsed":"No"`) {
				return "evidence is not a successful root ConsoleLogin without MFA"
			}
		}
	case "root_console_activity":
		for _, e := range ev.events {
			if e.UserIdentity.Type != "Root" || e.principal() != f.Subject || !strings.HasPrefix(e.UserIdentity.AccessKeyID, "ASIA") {
				return "evidence is not root console activity"
			}
		}
	case "root_access_key_used":
		for _, e := range ev.events {
			if e.UserIdentity.Type != "Root" || e.UserIdentity.AccessKeyID != f.Subject {
				return "evidence is not signed with the root key"
			}
		}
	case "console_user_without_mfa":
		if row()["password_enabled"] != "true" || row()["mfa_active"] != "false" || row()["arn"] != f.Subject {
			return "row does not show a password without MFA"
		}
	case "password_never_used":
		if row()["password_enabled"] != "true" || row()["password_last_used"] != "no_information" {
			return "row does not show a never-used password"
		}
	case "access_key_not_rotated_90_days":
		if key().active != "true" || !olderThan(c, key().rotated, 90) {
			return "key is not active and older than 90 days"
		}
	case "access_key_never_used":
		if key().active != "true" || key().used != "N/A" {
			return "key is not active and never used"
		}
	case "multiple_active_access_keys":
		if row()["access_key_1_active"] != "true" || row()["access_key_2_active"] != "true" {
			return "row does not show two active keys"
		}
	case "credentials_unused_45_days", "credentials_unused_90_days":
		n := 45
		if strings.Contains(f.Fact, "90") {
			n = 90
		}
		if len(ev.keys) > 0 {
			last := key().used
			if last == "N/A" {
				last = key().rotated
			}
			if key().active != "true" || !olderThan(c, last, n) {
				return "key is not active and unused for that long"
			}
		} else {
			last := row()["password_last_used"]
			if last == "no_information" {
				last = row()["password_last_changed"]
			}
			if row()["password_enabled"] != "true" || !olderThan(c, last, n) {
				return "password is not enabled and unused for that long"
			}
		}
	case "inactive_old_key_not_flagged":
		if key().active != "false" || !olderThan(c, key().rotated, 90) {
			return "key is not inactive and old"
		}
	case "user_has_inline_policy", "user_has_attached_policy", "user_in_no_group":
		u := c.gaadUser(f.Subject)
		switch {
		case u == nil:
			return "no such user"
		case f.Fact == "user_has_inline_policy" && len(u.UserPolicyList) == 0,
			f.Fact == "user_has_attached_policy" && len(u.AttachedManagedPolicies) == 0,
			f.Fact == "user_in_no_group" && len(u.GroupList) != 0:
			return "the user's entry says otherwise"
		}
	case "empty_group":
		for _, u := range c.gaad[accountOf(f.Subject)].users {
			for _, g := range u.GroupList {
				if c.gaad[accountOf(f.Subject)].groups[g].Arn == f.Subject {
					return u.UserName + " is a member"
				}
			}
		}
	case "user_admin_via_group", "user_admin_direct":
		via := f.Fact == "user_admin_via_group"
		ps := c.policySet(t, f.Subject)
		if !ps.isAdmin() || !slices.ContainsFunc(ps.identity, func(p policyRef) bool { return grantsAll(p.doc) && (p.viaGroup != "") == via }) {
			return "no policy grants * on * that way"
		}
	case "role_admin":
		if !c.policySet(t, f.Subject).isAdmin() {
			return "role is not an administrator"
		}
	case "privilege_escalation_possible":
		ps := c.policySet(t, f.Subject)
		var roles []*policySet
		var trusts []*policyDoc
		for arn, ro := range c.gaad[accountOf(f.Subject)].roles {
			roles, trusts = append(roles, c.policySet(t, arn)), append(trusts, ro.trust)
		}
		if acts, _ := privesc(ps, adminServices(roles, trusts)); ps.isAdmin() || len(acts) == 0 {
			return "no escalation path from the export"
		}
	case "notaction_allow":
		ref := ev.authz[0]
		var d *policyDoc
		if strings.Contains(ref, "#inline/") {
			d = c.inlineDoc(ref)
		}
		for _, g := range c.gaad {
			if g.policies[ref] != nil {
				d = g.policies[ref]
			}
		}
		if d == nil || !slices.ContainsFunc(d.Statements, func(s statement) bool { return s.Effect == "Allow" && s.NotAction != nil }) {
			return "the policy has no Allow with NotAction"
		}
	case "permissions_boundary_removes_permissions":
		ps := c.policySet(t, f.Subject)
		if ps.boundary == nil {
			return "no permissions boundary"
		}
		if len(ev.events) == 0 {
			return "no denied attempt in the evidence"
		}
		for _, e := range ev.events {
			bare := &policySet{identity: ps.identity}
			if e.principal() != f.Subject || !e.denied() || ps.allows(e.action()) || !bare.allows(e.action()) || !strings.Contains(e.ErrorMessage, "permissions boundary") {
				return "event " + e.EventID + " is not an action the boundary alone denies"
			}
		}
	case "cross_account_trust_without_external_id", "cross_account_trust_with_external_id", "trust_any_principal", "github_oidc_trust_without_sub", "trusted_by_service":
		ro, ok := c.gaad[accountOf(f.Subject)].roles[f.Subject]
		if !ok {
			return "no such role"
		}
		if !trustHas(ro.trust, f.Fact, accountOf(f.Subject)) {
			return "the trust policy says otherwise"
		}
	case "unused_services", "unused_actions":
		return c.checkUsage(t, f)
	case "role_never_used":
		ro := c.gaad[accountOf(f.Subject)].roles[f.Subject]
		if ro.RoleLastUsed.LastUsedDate != "" {
			return "RoleLastUsed is set"
		}
		for _, e := range c.ordered {
			if e.principal() == f.Subject || e.param("roleArn") == f.Subject {
				return "event " + e.EventID + " uses it"
			}
		}
	case "no_cloudtrail_coverage":
		for _, e := range c.ordered {
			if e.principal() == f.Subject {
				return "event " + e.EventID + " is the principal's"
			}
		}
		covered := false
		for _, slot := range []string{"1", "2"} {
			if tm, ok := parseReportTime(row()["access_key_"+slot+"_last_used_date"]); ok && !tm.Before(c.windowStart) {
				covered = true
			}
		}
		if !covered {
			return "the report shows no use inside the window"
		}
	case "leaked_access_key_used_from_new_ip":
		e := first()
		if e.UserIdentity == nil || e.UserIdentity.AccessKeyID != f.Subject {
			return "evidence is not signed with the key"
		}
		before := 0
		for _, o := range c.ordered {
			if o.UserIdentity != nil && o.UserIdentity.AccessKeyID == f.Subject && o.EventTime.Before(e.EventTime) {
				before++
				if o.SourceIPAddress == e.SourceIPAddress {
					return "the address was seen before with this key"
				}
			}
		}
		if before == 0 {
			return "the key has no earlier use to compare with"
		}
	case "reconnaissance_burst":
		denied := 0
		for _, e := range ev.events {
			if e.UserIdentity.AccessKeyID != f.Subject || e.EventTime.Sub(first().EventTime) > 10*time.Minute {
				return "evidence is not one key within minutes"
			}
			if e.denied() {
				denied++
			}
		}
		if first().EventName != "GetCallerIdentity" || denied < 10 {
			return "not GetCallerIdentity followed by a burst of denials"
		}
	case "access_key_created_for_another_user":
		e := first()
		target := e.param("userName")
		var resp struct {
			AccessKey struct{ AccessKeyID, UserName string }
		}
		json.Unmarshal(e.ResponseElements, &resp)
		if e.EventName != "CreateAccessKey" || e.failed() || e.UserIdentity.AccessKeyID != f.Subject || target == e.UserIdentity.UserName || resp.AccessKey.AccessKeyID == "" {
			return "evidence is not a CreateAccessKey for another user"
		}
		r := c.row(e.RecipientAccountID, target)
		if r == nil || !slices.ContainsFunc([]string{"1", "2"}, func(s string) bool {
			return r["access_key_"+s+"_active"] == "true" && r["access_key_"+s+"_last_rotated"] == isoTime(e.EventTime.Unix())
		}) {
			return "the report shows no active key created then for " + target
		}
		if len(ev.events) < 2 || ev.events[1].UserIdentity.AccessKeyID != resp.AccessKey.AccessKeyID {
			return "the new key's use is not in the evidence"
		}
	case "login_profile_created_for_another_user":
		e := first()
		target := e.param("userName")
		if e.EventName != "CreateLoginProfile" || e.failed() || e.UserIdentity.AccessKeyID != f.Subject || target == e.UserIdentity.UserName {
			return "evidence is not a CreateLoginProfile for another user"
		}
		if r := c.row(e.RecipientAccountID, target); r == nil || r["password_enabled"] != "true" || r["password_last_changed"] != isoTime(e.EventTime.Unix()) {
			return "the report does not show the new password"
		}
	case "admin_role_assumed_with_leaked_key":
		e := first()
		if e.EventName != "AssumeRole" || e.failed() || e.param("roleArn") != f.Subject || e.UserIdentity.Type != "IAMUser" {
			return "evidence is not a successful AssumeRole of the role by a user"
		}
		if !c.policySet(t, f.Subject).isAdmin() {
			return "the role is not an administrator"
		}
	case "cloudtrail_logging_stopped":
		e := first()
		if e.EventName != "StopLogging" || e.failed() || e.principal() != f.Subject {
			return "evidence is not a successful StopLogging by the role"
		}
	case "s3_bulk_download":
		gets := 0
		for _, e := range ev.events {
			if e.principal() != f.Subject || e.EventSource != "s3.amazonaws.com" || e.failed() || e.UserIdentity.AccessKeyID != first().UserIdentity.AccessKeyID {
				return "evidence is not the role's S3 reads with one session"
			}
			if e.EventName == "GetObject" {
				gets++
				if e.EventCategory != "Data" || !*e.ReadOnly || !slices.ContainsFunc(e.Resources, func(r struct {
					ARN       string `json:"ARN"`
					AccountID string `json:"accountId"`
					Type      string `json:"type"`
				}) bool {
					return r.Type == "AWS::S3::Object"
				}) {
					return "GetObject " + e.EventID + " is not a read data event on an object"
				}
			}
		}
		if gets < 100 {
			return "fewer than 100 objects read"
		}
	case "activity_in_new_region":
		region, start := first().AwsRegion, first().EventTime
		for _, e := range ev.events {
			if e.AwsRegion != region {
				return "evidence spans regions"
			}
		}
		for _, e := range c.ordered {
			if e.AwsRegion == region && e.EventTime.Before(start) {
				return "the region was used before"
			}
		}
	case "console_brute_force":
		fails := 0
		last := ev.events[len(ev.events)-1]
		for i, e := range ev.events {
			if e.EventName != "ConsoleLogin" || e.SourceIPAddress != first().SourceIPAddress || e.EventTime.Sub(first().EventTime) > 15*time.Minute {
				return "evidence is not sign-ins from one address within minutes"
			}
			if i < len(ev.events)-1 && e.failed() {
				fails++
			}
		}
		if fails < 20 || last.failed() || last.principal() != f.Subject {
			return "not many failures followed by the user's success"
		}
	case "activity_after_brute_force":
		for _, e := range ev.events {
			if e.principal() != f.Subject || e.SourceIPAddress != bruteForceIP {
				return "evidence is not the user's activity from the brute-force address"
			}
		}
	default:
		return "no check for this fact"
	}
	return ""
}

func trustHas(d *policyDoc, fact, acct string) bool {
	for _, s := range d.Statements {
		if s.Effect != "Allow" || s.Principal == nil {
			continue
		}
		if s.Principal.Any && fact == "trust_any_principal" {
			return true
		}
		for _, k := range s.Principal.Kinds {
			for _, v := range k.Values {
				switch {
				case fact == "trusted_by_service" && k.Kind == "Service",
					fact == "trust_any_principal" && k.Kind == "AWS" && v == "*",
					fact == "github_oidc_trust_without_sub" && k.Kind == "Federated" && strings.HasSuffix(v, githubOIDC) && !hasConditionKey(s, githubOIDC+":sub"):
					return true
				case k.Kind == "AWS" && v != "*" && accountOf(v) != acct:
					if (fact == "cross_account_trust_with_external_id") == hasConditionKey(s, "sts:ExternalId") && strings.HasPrefix(fact, "cross_account") {
						return true
					}
				}
			}
		}
	}
	return false
}

// checkUsage recomputes, from the events and the export, what a principal used and was granted.
func (c *caseData) checkUsage(t *testing.T, f Fact) string {
	used := map[string]bool{}
	usedSvc := map[string]bool{}
	for _, e := range c.ordered {
		if e.principal() == f.Subject && !e.failed() && e.action() != "" {
			used[e.action()] = true
			usedSvc[serviceOf(e.action())] = true
		}
	}
	if len(used) == 0 {
		return "the principal has no successful call"
	}
	patterns, broad := c.policySet(t, f.Subject).grantedPatterns()
	if broad {
		return "the principal is granted everything"
	}
	var unusedSvc, unusedAct []string
	for _, p := range patterns {
		if s := serviceOf(p); !usedSvc[s] && !slices.Contains(unusedSvc, s) {
			unusedSvc = append(unusedSvc, s)
		} else if usedSvc[s] && !strings.ContainsAny(p, "*?") && !used[p] && !slices.Contains(unusedAct, p) {
			unusedAct = append(unusedAct, p)
		}
	}
	sort.Strings(unusedSvc)
	sort.Strings(unusedAct)
	if f.Fact == "unused_services" && !strings.HasSuffix(f.Detail, "granted but unused "+strings.Join(unusedSvc, ", ")) {
		return "unused services from the files: " + strings.Join(unusedSvc, ", ")
	}
	if f.Fact == "unused_actions" && !strings.Contains(f.Detail, "never called: "+strings.Join(unusedAct, ", ")+";") {
		return "unused actions from the files: " + strings.Join(unusedAct, ", ")
	}
	return ""
}

// checkConsistency checks the exports against each other: every "last
// used" of the report and of RoleLastUsed is the last event that used the
// credential, and every outcome in CloudTrail is what the policies say.
func checkConsistency(t *testing.T, c *caseData) {
	type keyUse struct {
		last time.Time
		user string
	}
	keys := map[string]*keyUse{}
	logins := map[string]time.Time{}
	roleUse := map[string]time.Time{}
	for _, e := range c.ordered {
		ui := e.UserIdentity
		if ui == nil {
			continue
		}
		if strings.HasPrefix(ui.AccessKeyID, "AKIA") && (ui.Type == "IAMUser" || ui.Type == "Root") {
			if keys[ui.AccessKeyID] == nil {
				keys[ui.AccessKeyID] = &keyUse{user: ui.Arn}
			}
			keys[ui.AccessKeyID].last = e.EventTime
		}
		if e.EventName == "ConsoleLogin" && !e.failed() {
			logins[e.principal()] = e.EventTime
		}
		if ui.Type == "AssumedRole" {
			roleUse[e.principal()] = e.EventTime
		}
		if strings.HasPrefix(e.EventName, "AssumeRole") && !e.failed() {
			if e.EventTime.After(roleUse[e.param("roleArn")]) {
				roleUse[e.param("roleArn")] = e.EventTime
			}
		}
	}
	for acct, rows := range c.reports {
		for _, row := range rows {
			arn := row["arn"]
			var reported []string
			for _, s := range []string{"1", "2"} {
				if v := row["access_key_"+s+"_last_used_date"]; v != "N/A" {
					reported = append(reported, v)
				}
			}
			for id, k := range keys {
				if k.user == arn && !slices.Contains(reported, isoTime(k.last.Unix())) {
					t.Errorf("%s %s: key %s last used %s in CloudTrail, report says %v", acct, row["user"], id, k.last, reported)
				}
			}
			if tm, ok := logins[arn]; ok && row["password_last_used"] != isoTime(tm.Unix()) {
				t.Errorf("%s %s: last console sign-in %s, report says %s", acct, row["user"], tm, row["password_last_used"])
			}
			if tm, ok := parseReportTime(row["password_last_used"]); ok && !tm.Before(c.windowStart) {
				if _, ok := logins[arn]; !ok {
					t.Errorf("%s %s: password used %s but no sign-in in CloudTrail", acct, row["user"], tm)
				}
			}
		}
	}
	for acct, g := range c.gaad {
		if len(g.users)+1 != len(c.reports[acct]) {
			t.Errorf("%s: %d users in the authorization details, %d rows in the report", acct, len(g.users), len(c.reports[acct]))
		}
		for arn, ro := range g.roles {
			tm, used := roleUse[arn]
			lu, _ := time.Parse(time.RFC3339, ro.RoleLastUsed.LastUsedDate) // both spellings (Z, +00:00) are RFC 3339
			switch {
			case used && !lu.Equal(tm):
				t.Errorf("%s: last used %s in CloudTrail, RoleLastUsed %s", arn, tm, ro.RoleLastUsed.LastUsedDate)
			case !used && ro.RoleLastUsed.LastUsedDate != "" && !lu.Before(c.windowStart):
				t.Errorf("%s: RoleLastUsed %s inside the window without an event", arn, ro.RoleLastUsed.LastUsedDate)
			}
		}
	}
	// Outcomes agree with the policies.
	checked := 0
	for _, e := range c.ordered {
		p, action := e.principal(), e.action()
		if p == "" || action == "" || strings.HasSuffix(p, ":root") {
			continue
		}
		ps, ok := c.gaad[accountOf(p)].policySetOf(p)
		if !ok {
			t.Errorf("event %s: principal %s is not in the authorization details", e.EventID, p)
			continue
		}
		checked++
		if allowed := ps.allows(action); allowed == e.denied() {
			t.Errorf("event %s: %s %s (error %q) but the policies allow it: %v", e.EventID, p, action, e.ErrorCode, allowed)
		}
	}
	if checked < len(c.ordered)/4 {
		t.Errorf("only %d of %d events checked against the policies", checked, len(c.ordered))
	}
}
