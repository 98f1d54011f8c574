package samples

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Fact is one item of expected.json: something a correct analysis of the
// generated case must report.
type Fact struct {
	Fact     string   `json:"fact"`
	Category string   `json:"category"` // root, credentials, structure, trust, usage, incident
	Subject  string   `json:"subject"`  // an ARN or an access key id
	Evidence []string `json:"evidence"` // event ids, "credential_report:account=…:user=…[:access_key_N]", "authorization_details:<ARN or policy_ref>"
	Detail   string   `json:"detail"`
}

var categoryOrder = map[string]int{"root": 0, "credentials": 1, "structure": 2, "trust": 3, "usage": 4, "incident": 5}

func reportRow(a *account, user string) string {
	return "credential_report:account=" + a.id + ":user=" + user
}

// keyRef names one access key column group of a report row: the report has
// no key ids, so keys are known by user and slot (1 or 2).
func keyRef(a *account, user string, slot int) string {
	return fmt.Sprintf("%s:access_key_%d", reportRow(a, user), slot)
}

func authz(ref string) string { return "authorization_details:" + ref }

func date(t int64) string { return isoTime(t)[:10] }

// facts derives every credential, structure, trust and usage fact from the
// world and what the archive recorded, and adds the planted stories' facts.
// Derived facts are complete: every principal that matches is listed.
func (g *generator) facts() []Fact {
	w := g.w
	out := slices.Clone(w.facts)
	add := func(f Fact) {
		if extra, ok := w.extraEvidence[f.Subject]; ok && f.Fact == "permissions_boundary_removes_permissions" {
			f.Evidence = append(f.Evidence, extra...)
		}
		out = append(out, f)
	}
	for _, a := range w.accounts {
		g.rootFacts(a, add)
		for _, u := range a.users {
			g.credentialFacts(a, u, add)
			g.userStructureFacts(a, u, add)
		}
		for _, gr := range a.groups {
			if len(gr.members) == 0 {
				add(Fact{Fact: "empty_group", Category: "structure", Subject: gr.arn, Evidence: []string{authz(gr.arn)},
					Detail: "group " + gr.name + " has no members" + policyNote(gr.attached, gr.inline)})
			}
		}
		for _, ro := range a.roles {
			g.roleFacts(a, ro, add)
		}
		g.notActionFacts(a, add)
		for _, p := range w.principals {
			if p.acct == a && p.kind != "root" {
				g.usageFacts(a, p, add)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		x, y := out[i], out[j]
		if x.Category != y.Category {
			return categoryOrder[x.Category] < categoryOrder[y.Category]
		}
		if x.Fact != y.Fact {
			return x.Fact < y.Fact
		}
		return x.Subject < y.Subject
	})
	return out
}

func policyNote(attached []*managedPolicy, inline []inlinePolicy) string {
	var names []string
	for _, p := range attached {
		names = append(names, p.name)
	}
	for _, p := range inline {
		names = append(names, p.name+" (inline)")
	}
	if len(names) == 0 {
		return ""
	}
	return " but carries " + strings.Join(names, ", ")
}

func (g *generator) rootFacts(a *account, add func(Fact)) {
	root, arn := a.root, "arn:aws:iam::"+a.id+":root"
	row := reportRow(a, "<root_account>")
	if !root.mfa {
		add(Fact{Fact: "root_mfa_not_enabled", Category: "root", Subject: arn, Evidence: []string{row}, Detail: "the root user has no MFA device (mfa_active false)"})
	}
	if k := root.key; k != nil && k.active {
		l := g.keyLastUse(k)
		add(Fact{Fact: "root_access_key_active", Category: "root", Subject: arn, Evidence: []string{keyRef(a, "<root_account>", 1)},
			Detail: fmt.Sprintf("the root user has an active access key, created %s, last used %s (%s, %s)", date(k.created), date(l.t), l.service, l.region)})
	}
}

func (g *generator) credentialFacts(a *account, u *iamUser, add func(Fact)) {
	w := g.w
	row := []string{reportRow(a, u.name)}
	days := func(t int64) int64 { return (w.asOf - t) / day }
	if p := u.password; p != nil {
		last := g.passwordLastUsed(p)
		if !u.mfa {
			use := "never used"
			if last != 0 {
				use = "last used " + date(last)
			}
			add(Fact{Fact: "console_user_without_mfa", Category: "credentials", Subject: u.arn, Evidence: row,
				Detail: u.name + " has a console password (" + use + ") and no MFA device"})
		}
		if last == 0 {
			add(Fact{Fact: "password_never_used", Category: "credentials", Subject: u.arn, Evidence: row,
				Detail: u.name + "'s password, set " + date(p.changed) + ", has never been used"})
		}
		ref, what := last, "last used "+date(last)
		if last == 0 {
			ref, what = p.changed, "never used since it was set on "+date(p.changed)
		}
		for _, n := range []int64{45, 90} {
			if days(ref) > n {
				add(Fact{Fact: fmt.Sprintf("credentials_unused_%d_days", n), Category: "credentials", Subject: u.arn, Evidence: row,
					Detail: fmt.Sprintf("%s's password is %s (%d days before the report)", u.name, what, days(ref))})
			}
		}
	}
	active := 0
	for slot, k := range u.keys {
		if !k.active {
			continue
		}
		active++
		l := g.keyLastUse(k)
		name := fmt.Sprintf("%s's access key %d (%s)", u.name, slot+1, k.id)
		key := []string{keyRef(a, u.name, slot+1)}
		if days(k.created) > 90 {
			add(Fact{Fact: "access_key_not_rotated_90_days", Category: "credentials", Subject: u.arn, Evidence: key,
				Detail: fmt.Sprintf("%s is active and was created %s (%d days before the report)", name, date(k.created), days(k.created))})
		}
		ref, what := l.t, "last used "+date(l.t)
		if l.t == 0 {
			ref, what = k.created, "never used since it was created on "+date(k.created)
			add(Fact{Fact: "access_key_never_used", Category: "credentials", Subject: u.arn, Evidence: key,
				Detail: name + " is active and has never been used (last used N/A)"})
		}
		for _, n := range []int64{45, 90} {
			if days(ref) > n {
				add(Fact{Fact: fmt.Sprintf("credentials_unused_%d_days", n), Category: "credentials", Subject: u.arn, Evidence: key,
					Detail: fmt.Sprintf("%s is active and %s (%d days before the report)", name, what, days(ref))})
			}
		}
	}
	if active > 1 {
		add(Fact{Fact: "multiple_active_access_keys", Category: "credentials", Subject: u.arn, Evidence: row,
			Detail: fmt.Sprintf("%s has %d active access keys", u.name, active)})
	}
}

var privescActions = []string{
	"iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:AttachUserPolicy", "iam:AttachGroupPolicy", "iam:AttachRolePolicy",
	"iam:PutUserPolicy", "iam:PutGroupPolicy", "iam:PutRolePolicy", "iam:CreateAccessKey", "iam:CreateLoginProfile",
	"iam:UpdateLoginProfile", "iam:UpdateAssumeRolePolicy", "iam:AddUserToGroup",
}

// passRoleTargets are the compute a passed role runs, by the service
// principal that role must trust.
var passRoleTargets = [][2]string{{"lambda:CreateFunction", "lambda.amazonaws.com"}, {"ec2:RunInstances", "ec2.amazonaws.com"},
	{"cloudformation:CreateStack", "cloudformation.amazonaws.com"}}

// adminServices are the service principals trusted by an administrator
// role: passing such a role to its service is an escalation, passing a role
// no more privileged than the caller is not (issue #14).
func adminServices(roles []*policySet, trusts []*policyDoc) []string {
	var out []string
	for i, ps := range roles {
		if !ps.isAdmin() {
			continue
		}
		for _, s := range trusts[i].Statements {
			if s.Effect != "Allow" || s.Principal == nil {
				continue
			}
			for _, k := range s.Principal.Kinds {
				if k.Kind == "Service" {
					out = append(out, k.Values...)
				}
			}
		}
	}
	return out
}

// privesc returns what lets a principal that is not an administrator raise
// its own privileges, and the policies that grant it; services are the
// account's adminServices.
func privesc(ps *policySet, services []string) (actions, refs []string) {
	grantedBy := func(action string) []string {
		var rs []string
		for _, p := range ps.identity {
			if docAllows(p.doc, action) {
				rs = append(rs, p.ref)
			}
		}
		return rs
	}
	seen := map[string]bool{}
	note := func(rs []string) {
		for _, r := range rs {
			if !seen[r] {
				seen[r] = true
				refs = append(refs, r)
			}
		}
	}
	for _, act := range privescActions {
		if ps.allows(act) {
			actions = append(actions, act)
			note(grantedBy(act))
		}
	}
	if ps.allows("iam:PassRole") {
		for _, t := range passRoleTargets {
			if ps.allows(t[0]) && slices.Contains(services, t[1]) {
				actions = append(actions, "iam:PassRole+"+t[0])
				note(grantedBy("iam:PassRole"))
				note(grantedBy(t[0]))
			}
		}
	}
	return actions, refs
}

func (g *generator) userStructureFacts(a *account, u *iamUser, add func(Fact)) {
	ev := []string{authz(u.arn)}
	if len(u.inline) > 0 {
		var names, refs []string
		for _, p := range u.inline {
			names = append(names, p.name)
			refs = append(refs, authz(u.arn+"#inline/"+p.name))
		}
		add(Fact{Fact: "user_has_inline_policy", Category: "structure", Subject: u.arn, Evidence: refs, Detail: u.name + " has inline policies: " + strings.Join(names, ", ")})
	}
	if len(u.attached) > 0 {
		var names []string
		for _, p := range u.attached {
			names = append(names, p.name)
		}
		add(Fact{Fact: "user_has_attached_policy", Category: "structure", Subject: u.arn, Evidence: ev, Detail: u.name + " has managed policies attached directly: " + strings.Join(names, ", ")})
	}
	if len(u.groups) == 0 {
		add(Fact{Fact: "user_in_no_group", Category: "structure", Subject: u.arn, Evidence: ev, Detail: u.name + " is in no group"})
	}
	ps := u.policySet()
	if ps.isAdmin() {
		for _, p := range ps.identity {
			if !grantsAll(p.doc) {
				continue
			}
			if p.viaGroup != "" {
				add(Fact{Fact: "user_admin_via_group", Category: "structure", Subject: u.arn, Evidence: []string{authz(p.viaGroup), authz(p.ref)},
					Detail: u.name + " is an administrator (Action * on *) through group " + p.viaGroup[strings.LastIndex(p.viaGroup, "/")+1:] + " (" + p.name + ")"})
			} else {
				add(Fact{Fact: "user_admin_direct", Category: "structure", Subject: u.arn, Evidence: []string{authz(u.arn), authz(p.ref)},
					Detail: u.name + " is an administrator (Action * on *) through the directly attached " + p.name})
			}
		}
		return
	}
	g.privescFact(a, u.arn, u.name, ps, add)
	g.boundaryFact(u.arn, u.name, ps, add)
}

func (g *generator) privescFact(a *account, arn, name string, ps *policySet, add func(Fact)) {
	var roles []*policySet
	var trusts []*policyDoc
	for _, ro := range a.roles {
		roles, trusts = append(roles, ro.policySet()), append(trusts, ro.trust)
	}
	actions, refs := privesc(ps, adminServices(roles, trusts))
	if len(actions) == 0 {
		return
	}
	ev := []string{}
	for _, r := range refs {
		ev = append(ev, authz(r))
	}
	add(Fact{Fact: "privilege_escalation_possible", Category: "structure", Subject: arn, Evidence: ev,
		Detail: name + " is not an administrator but may " + strings.Join(actions, ", ") + " (granted by " + strings.Join(refs, ", ") + ")"})
}

func (g *generator) boundaryFact(arn, name string, ps *policySet, add func(Fact)) {
	if ps.boundary == nil {
		return
	}
	patterns, _ := ps.grantedPatterns()
	var cut []string
	for _, p := range patterns {
		if !docAllows(ps.boundary.doc, p) && !slices.Contains(cut, p) {
			cut = append(cut, p)
		}
	}
	if len(cut) == 0 {
		return
	}
	var allowed []string
	for _, s := range ps.boundary.doc.Statements {
		allowed = append(allowed, s.Action...)
	}
	add(Fact{Fact: "permissions_boundary_removes_permissions", Category: "structure", Subject: arn,
		Evidence: []string{authz(arn), authz(ps.boundary.ref)},
		Detail: fmt.Sprintf("%s's policies grant %s but the permissions boundary %s allows only %s: the rest is removed, and attempts at it are denied",
			name, strings.Join(cut, ", "), ps.boundary.name, strings.Join(allowed, ", "))})
}

func (g *generator) roleFacts(a *account, ro *iamRole, add func(Fact)) {
	ev := []string{authz(ro.arn)}
	for _, s := range ro.trust.Statements {
		if s.Effect != "Allow" || s.Principal == nil {
			continue
		}
		if s.Principal.Any {
			add(Fact{Fact: "trust_any_principal", Category: "trust", Subject: ro.arn, Evidence: ev, Detail: ro.name + " can be assumed by any principal (Principal \"*\")"})
			continue
		}
		for _, k := range s.Principal.Kinds {
			for _, v := range k.Values {
				switch k.Kind {
				case "Service":
					add(Fact{Fact: "trusted_by_service", Category: "trust", Subject: ro.arn, Evidence: ev, Detail: ro.name + " can be assumed by the service " + v})
				case "AWS":
					if v == "*" {
						add(Fact{Fact: "trust_any_principal", Category: "trust", Subject: ro.arn, Evidence: ev, Detail: ro.name + " can be assumed by any AWS principal (Principal {\"AWS\": \"*\"}) without conditions"})
						continue
					}
					other := strings.Split(v, ":")[4]
					if other == a.id {
						continue
					}
					if hasConditionKey(s, "sts:ExternalId") {
						add(Fact{Fact: "cross_account_trust_with_external_id", Category: "trust", Subject: ro.arn, Evidence: ev, Detail: ro.name + " can be assumed from account " + other + " with an sts:ExternalId condition"})
					} else {
						add(Fact{Fact: "cross_account_trust_without_external_id", Category: "trust", Subject: ro.arn, Evidence: ev, Detail: ro.name + " can be assumed from account " + other + " with no sts:ExternalId condition"})
					}
				case "Federated":
					if strings.HasSuffix(v, "/"+githubOIDC) && !hasConditionKey(s, githubOIDC+":sub") {
						add(Fact{Fact: "github_oidc_trust_without_sub", Category: "trust", Subject: ro.arn, Evidence: ev,
							Detail: ro.name + " trusts GitHub Actions OIDC with no condition on the token's sub: any repository can assume it"})
					}
				}
			}
		}
	}
	ps := ro.policySet()
	if ps.isAdmin() {
		add(Fact{Fact: "role_admin", Category: "structure", Subject: ro.arn, Evidence: ev, Detail: ro.name + " has Action * on * (AdministratorAccess)"})
		return
	}
	g.privescFact(a, ro.arn, ro.name, ps, add)
	g.boundaryFact(ro.arn, ro.name, ps, add)
}

func hasConditionKey(s statement, key string) bool {
	for _, kv := range s.Condition {
		for k := range kv {
			if strings.EqualFold(k, key) {
				return true
			}
		}
	}
	return false
}

func (g *generator) notActionFacts(a *account, add func(Fact)) {
	hasNotAction := func(d *policyDoc) bool {
		return slices.ContainsFunc(d.Statements, func(s statement) bool { return s.Effect == "Allow" && s.NotAction != nil })
	}
	page := map[string]bool{}
	for _, u := range a.users {
		for _, p := range u.inline {
			if hasNotAction(p.doc) {
				add(Fact{Fact: "notaction_allow", Category: "structure", Subject: u.arn, Evidence: []string{authz(u.arn + "#inline/" + p.name)},
					Detail: "inline policy " + p.name + " of " + u.name + " allows everything except its NotAction list"})
			}
		}
		for _, p := range u.attached {
			page[p.arn] = true
		}
	}
	for _, gr := range a.groups {
		for _, p := range gr.attached {
			page[p.arn] = true
		}
	}
	for _, ro := range a.roles {
		for _, p := range ro.attached {
			page[p.arn] = true
		}
	}
	policies := slices.Clone(a.policies)
	for _, name := range sortedKeys(g.w.awsPolicies) {
		if p := g.w.awsPolicies[name]; page[p.arn] {
			policies = append(policies, p)
		}
	}
	for _, p := range policies {
		if hasNotAction(p.doc()) {
			add(Fact{Fact: "notaction_allow", Category: "structure", Subject: p.arn, Evidence: []string{authz(p.arn)},
				Detail: "managed policy " + p.name + " (default version " + p.versions[0].id + ") allows everything except its NotAction list"})
		}
	}
}

func (g *generator) usageFacts(a *account, p *principal, add func(Fact)) {
	w := g.w
	events := g.tr.events[p.index]
	ev := []string{authz(p.arn)}
	if p.kind == "role" {
		if events == 0 && g.roleLastUsed(p.role).t == 0 {
			add(Fact{Fact: "role_never_used", Category: "usage", Subject: p.arn, Evidence: ev, Detail: p.role.name + " has never been used (RoleLastUsed empty, no session in CloudTrail)"})
		}
	} else if events == 0 {
		u := p.user
		var seen []string
		for slot, k := range u.keys {
			if l := g.keyLastUse(k); l.t >= w.windowStart {
				seen = append(seen, fmt.Sprintf("access key %d (%s) last used %s in %s (%s)", slot+1, k.id, isoTime(l.t), l.region, l.service))
			}
		}
		if u.password != nil {
			if t := g.passwordLastUsed(u.password); t >= w.windowStart {
				seen = append(seen, "password last used "+isoTime(t))
			}
		}
		if len(seen) > 0 {
			add(Fact{Fact: "no_cloudtrail_coverage", Category: "usage", Subject: p.arn, Evidence: []string{reportRow(a, u.name)},
				Detail: "the credential report shows " + strings.Join(seen, "; ") + ", inside the CloudTrail window, yet the archive holds no event of " + u.name + ": activity not recorded by the trail (DynamoDB data events), not unused permissions"})
		}
	}
	used := g.tr.used[p.index]
	if len(used) == 0 {
		return
	}
	patterns, broad := p.policySet().grantedPatterns()
	if broad {
		return
	}
	usedSvc := map[string]bool{}
	for act := range used {
		usedSvc[serviceOf(act)] = true
	}
	var granted, unusedSvc, unusedAct []string
	for _, pat := range patterns {
		svc := serviceOf(pat)
		if !slices.Contains(granted, svc) {
			granted = append(granted, svc)
			if !usedSvc[svc] {
				unusedSvc = append(unusedSvc, svc)
			}
		}
		if usedSvc[svc] && !strings.ContainsAny(pat, "*?") && used[pat] == 0 && !slices.Contains(unusedAct, pat) {
			unusedAct = append(unusedAct, pat)
		}
	}
	sort.Strings(granted)
	sort.Strings(unusedSvc)
	sort.Strings(unusedAct)
	usedActs := sortedKeys(used)
	usedSvcs := sortedKeys(usedSvc)
	if len(unusedSvc) > 0 {
		add(Fact{Fact: "unused_services", Category: "usage", Subject: p.arn, Evidence: ev,
			Detail: fmt.Sprintf("granted %d services, used %d in the window (calls without error): used %s; granted but unused %s",
				len(granted), len(usedSvcs), strings.Join(usedSvcs, ", "), strings.Join(unusedSvc, ", "))})
	}
	if len(unusedAct) > 0 {
		add(Fact{Fact: "unused_actions", Category: "usage", Subject: p.arn, Evidence: ev,
			Detail: fmt.Sprintf("in the services it uses, granted actions never called: %s; actions used: %s", strings.Join(unusedAct, ", "), strings.Join(usedActs, ", "))})
	}
}
