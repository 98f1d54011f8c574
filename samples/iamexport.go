package samples

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// The IAM exports are written after the archive, so that every "last used"
// they report agrees with the events (tracked while they were written).

const credentialReportHeader = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated"

// keyLastUse is a key's last use: the newest of what the archive shows and
// what happened before the window.
func (g *generator) keyLastUse(k *accessKey) lastUse {
	l := g.tr.last[k.cred.index]
	if k.lastUsed > l.t {
		return lastUse{k.lastUsed, k.region, k.service}
	}
	return l
}

func (g *generator) passwordLastUsed(p *password) int64 {
	return max(p.lastUsed, g.tr.last[p.cred.index].t)
}

func (g *generator) rootPasswordLastUsed(root *rootUser) int64 {
	return max(root.pwLastUsed, g.tr.last[root.loginCred.index].t)
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func timeOr(t int64, none string) string {
	if t == 0 {
		return none
	}
	return isoTime(t)
}

// credentialReport renders an account's report as AWS does: 22 columns,
// lowercase booleans, no trailing newline.
func (g *generator) credentialReport(a *account) []byte {
	var b bytes.Buffer
	b.WriteString(credentialReportHeader)
	root := a.root
	row := []string{"<root_account>", "arn:aws:iam::" + a.id + ":root", isoTime(root.created)}
	if root.pwChanged != 0 {
		row = append(row, "true", timeOr(g.rootPasswordLastUsed(root), "no_information"), isoTime(root.pwChanged), "not_supported")
	} else {
		row = append(row, "not_supported", timeOr(g.rootPasswordLastUsed(root), "no_information"), "not_supported", "not_supported")
	}
	row = append(row, boolText(root.mfa))
	var keys []*accessKey
	if root.key != nil {
		keys = []*accessKey{root.key}
	}
	row = g.appendKeyColumns(row, keys)
	b.WriteByte('\n')
	b.WriteString(strings.Join(row, ","))
	for _, u := range usersSorted(a.users) {
		row = []string{u.name, u.arn, isoTime(u.created)}
		if p := u.password; p != nil {
			row = append(row, "true", timeOr(g.passwordLastUsed(p), "no_information"), isoTime(p.changed), "N/A")
		} else {
			row = append(row, "false", "N/A", "N/A", "N/A")
		}
		row = append(row, boolText(u.mfa))
		row = g.appendKeyColumns(row, u.keys)
		b.WriteByte('\n')
		b.WriteString(strings.Join(row, ","))
	}
	return b.Bytes()
}

func (g *generator) appendKeyColumns(row []string, keys []*accessKey) []string {
	for slot := range 2 {
		if slot >= len(keys) {
			row = append(row, "false", "N/A", "N/A", "N/A", "N/A")
			continue
		}
		k := keys[slot]
		l := g.keyLastUse(k)
		if l.t == 0 {
			row = append(row, boolText(k.active), isoTime(k.created), "N/A", "N/A", "N/A")
		} else {
			row = append(row, boolText(k.active), isoTime(k.created), isoTime(l.t), l.region, l.service)
		}
	}
	return append(row, "false", "N/A", "false", "N/A")
}

// writeCredentialReports writes each account's report as a console download
// (CSV) and as the aws iam get-credential-report answer (base64 Content).
func (g *generator) writeCredentialReports() error {
	for _, a := range g.w.accounts {
		csv := g.credentialReport(a)
		dir := filepath.Join(g.dir, "iam", a.id)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := g.writeFile(filepath.Join(dir, "credential-report.csv"), csv); err != nil {
			return err
		}
		wrapper := struct {
			Content       string `json:"Content"`
			ReportFormat  string `json:"ReportFormat"`
			GeneratedTime string `json:"GeneratedTime"`
		}{base64.StdEncoding.EncodeToString(csv), "text/csv", isoTime(g.w.asOf)}
		js, err := marshalIndent(wrapper, "    ")
		if err != nil {
			return err
		}
		if err := g.writeFile(filepath.Join(dir, "get-credential-report.json"), js); err != nil {
			return err
		}
	}
	return nil
}

func (g *generator) writeFile(path string, data []byte) error {
	g.iamFiles++
	g.iamBytes += int64(len(data))
	return os.WriteFile(path, data, 0o644)
}

func marshalIndent(v any, indent string) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", indent)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// ---- get-account-authorization-details -------------------------------------

type gaadPage struct {
	UserDetailList  []gaadUser   `json:"UserDetailList"`
	GroupDetailList []gaadGroup  `json:"GroupDetailList"`
	RoleDetailList  []gaadRole   `json:"RoleDetailList"`
	Policies        []gaadPolicy `json:"Policies"`
	IsTruncated     bool         `json:"IsTruncated"`
	Marker          string       `json:"Marker,omitempty"`
}

type gaadInline struct {
	PolicyName     string `json:"PolicyName"`
	PolicyDocument any    `json:"PolicyDocument"`
}

type gaadAttached struct {
	PolicyName string `json:"PolicyName"`
	PolicyArn  string `json:"PolicyArn"`
}

type gaadBoundary struct {
	PermissionsBoundaryType string `json:"PermissionsBoundaryType"`
	PermissionsBoundaryArn  string `json:"PermissionsBoundaryArn"`
}

type gaadTag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

type gaadUser struct {
	Path                    string         `json:"Path"`
	UserName                string         `json:"UserName"`
	UserID                  string         `json:"UserId"`
	Arn                     string         `json:"Arn"`
	CreateDate              string         `json:"CreateDate"`
	UserPolicyList          []gaadInline   `json:"UserPolicyList"`
	GroupList               []string       `json:"GroupList"`
	AttachedManagedPolicies []gaadAttached `json:"AttachedManagedPolicies"`
	PermissionsBoundary     *gaadBoundary  `json:"PermissionsBoundary,omitempty"`
	Tags                    []gaadTag      `json:"Tags"`
}

type gaadGroup struct {
	Path                    string         `json:"Path"`
	GroupName               string         `json:"GroupName"`
	GroupID                 string         `json:"GroupId"`
	Arn                     string         `json:"Arn"`
	CreateDate              string         `json:"CreateDate"`
	GroupPolicyList         []gaadInline   `json:"GroupPolicyList"`
	AttachedManagedPolicies []gaadAttached `json:"AttachedManagedPolicies"`
}

type gaadInstanceProfile struct {
	Path                string            `json:"Path"`
	InstanceProfileName string            `json:"InstanceProfileName"`
	InstanceProfileID   string            `json:"InstanceProfileId"`
	Arn                 string            `json:"Arn"`
	CreateDate          string            `json:"CreateDate"`
	Roles               []gaadProfileRole `json:"Roles"`
}

type gaadProfileRole struct {
	Path                     string `json:"Path"`
	RoleName                 string `json:"RoleName"`
	RoleID                   string `json:"RoleId"`
	Arn                      string `json:"Arn"`
	CreateDate               string `json:"CreateDate"`
	AssumeRolePolicyDocument any    `json:"AssumeRolePolicyDocument"`
}

type gaadRole struct {
	Path                     string                `json:"Path"`
	RoleName                 string                `json:"RoleName"`
	RoleID                   string                `json:"RoleId"`
	Arn                      string                `json:"Arn"`
	CreateDate               string                `json:"CreateDate"`
	AssumeRolePolicyDocument any                   `json:"AssumeRolePolicyDocument"`
	InstanceProfileList      []gaadInstanceProfile `json:"InstanceProfileList"`
	RolePolicyList           []gaadInline          `json:"RolePolicyList"`
	AttachedManagedPolicies  []gaadAttached        `json:"AttachedManagedPolicies"`
	PermissionsBoundary      *gaadBoundary         `json:"PermissionsBoundary,omitempty"`
	Tags                     []gaadTag             `json:"Tags"`
	RoleLastUsed             gaadRoleLastUsed      `json:"RoleLastUsed"`
}

type gaadRoleLastUsed struct {
	LastUsedDate string `json:"LastUsedDate,omitempty"`
	Region       string `json:"Region,omitempty"`
}

type gaadPolicy struct {
	PolicyName                    string              `json:"PolicyName"`
	PolicyID                      string              `json:"PolicyId"`
	Arn                           string              `json:"Arn"`
	Path                          string              `json:"Path"`
	DefaultVersionID              string              `json:"DefaultVersionId"`
	AttachmentCount               int                 `json:"AttachmentCount"`
	PermissionsBoundaryUsageCount int                 `json:"PermissionsBoundaryUsageCount"`
	IsAttachable                  bool                `json:"IsAttachable"`
	Description                   string              `json:"Description,omitempty"`
	CreateDate                    string              `json:"CreateDate"`
	UpdateDate                    string              `json:"UpdateDate"`
	PolicyVersionList             []gaadPolicyVersion `json:"PolicyVersionList"`
}

type gaadPolicyVersion struct {
	Document         any    `json:"Document"`
	VersionID        string `json:"VersionId"`
	IsDefaultVersion bool   `json:"IsDefaultVersion"`
	CreateDate       string `json:"CreateDate"`
}

// gaadStyle is how a tool wrote the export: the AWS CLI decodes policy
// documents into objects and writes +00:00 times; the raw API (and SDKs
// other than botocore) keep documents URL-encoded and write Z times.
type gaadStyle struct{ sdk bool }

func (s gaadStyle) time(t int64) string {
	if s.sdk {
		return time.Unix(t, 0).UTC().Format(time.RFC3339)
	}
	return isoTime(t)
}

func (s gaadStyle) doc(d *policyDoc) any {
	if s.sdk {
		return urlEncode(string(d.json()))
	}
	return json.RawMessage(d.json())
}

func (s gaadStyle) inline(ps []inlinePolicy) []gaadInline {
	out := []gaadInline{}
	for _, p := range ps {
		out = append(out, gaadInline{p.name, s.doc(p.doc)})
	}
	return out
}

func attachedList(ps []*managedPolicy) []gaadAttached {
	out := []gaadAttached{}
	for _, p := range ps {
		out = append(out, gaadAttached{p.name, p.arn})
	}
	return out
}

func tagList(tags [][2]string) []gaadTag {
	out := []gaadTag{}
	for _, t := range tags {
		out = append(out, gaadTag{t[0], t[1]})
	}
	return out
}

func boundary(p *managedPolicy) *gaadBoundary {
	if p == nil {
		return nil
	}
	return &gaadBoundary{"Policy", p.arn}
}

// roleLastUsed is a role's last use: the newest of the archive's and what
// happened before the window.
func (g *generator) roleLastUsed(ro *iamRole) lastUse {
	l := g.tr.last[ro.cred.index]
	if ro.lastUsed > l.t {
		return lastUse{t: ro.lastUsed, region: ro.lastRegion}
	}
	return l
}

func (g *generator) authorizationDetails(a *account) gaadPage {
	s := gaadStyle{sdk: a.gaadSDK}
	page := gaadPage{UserDetailList: []gaadUser{}, GroupDetailList: []gaadGroup{}, RoleDetailList: []gaadRole{}, Policies: []gaadPolicy{}}
	attachments := map[string]int{}
	boundaries := map[string]int{}
	for _, u := range usersSorted(a.users) {
		groups := []string{}
		for _, gr := range u.groups {
			groups = append(groups, gr.name)
		}
		page.UserDetailList = append(page.UserDetailList, gaadUser{
			Path: u.path, UserName: u.name, UserID: u.id, Arn: u.arn, CreateDate: s.time(u.created),
			UserPolicyList: s.inline(u.inline), GroupList: groups, AttachedManagedPolicies: attachedList(u.attached),
			PermissionsBoundary: boundary(u.boundary), Tags: tagList(u.tags),
		})
		for _, p := range u.attached {
			attachments[p.arn]++
		}
		if u.boundary != nil {
			boundaries[u.boundary.arn]++
		}
	}
	groups := append([]*iamGroup(nil), a.groups...)
	sort.Slice(groups, func(i, j int) bool { return groups[i].name < groups[j].name })
	for _, gr := range groups {
		page.GroupDetailList = append(page.GroupDetailList, gaadGroup{
			Path: gr.path, GroupName: gr.name, GroupID: gr.id, Arn: gr.arn, CreateDate: s.time(gr.created),
			GroupPolicyList: s.inline(gr.inline), AttachedManagedPolicies: attachedList(gr.attached),
		})
		for _, p := range gr.attached {
			attachments[p.arn]++
		}
	}
	roles := append([]*iamRole(nil), a.roles...)
	sort.Slice(roles, func(i, j int) bool { return roles[i].name < roles[j].name })
	r := g.w.rng("gaad", a.index)
	for _, ro := range roles {
		gr := gaadRole{
			Path: ro.path, RoleName: ro.name, RoleID: ro.id, Arn: ro.arn, CreateDate: s.time(ro.created),
			AssumeRolePolicyDocument: s.doc(ro.trust), InstanceProfileList: []gaadInstanceProfile{},
			RolePolicyList: s.inline(ro.inline), AttachedManagedPolicies: attachedList(ro.attached),
			PermissionsBoundary: boundary(ro.boundary), Tags: tagList(ro.tags),
		}
		if ro.instanceProfile {
			gr.InstanceProfileList = append(gr.InstanceProfileList, gaadInstanceProfile{
				Path: "/", InstanceProfileName: ro.name, InstanceProfileID: uniqueID(r, "AIPA"),
				Arn: "arn:aws:iam::" + a.id + ":instance-profile/" + ro.name, CreateDate: s.time(ro.created),
				Roles: []gaadProfileRole{{ro.path, ro.name, ro.id, ro.arn, s.time(ro.created), s.doc(ro.trust)}},
			})
		}
		if l := g.roleLastUsed(ro); l.t != 0 {
			gr.RoleLastUsed = gaadRoleLastUsed{s.time(l.t), l.region}
		}
		page.RoleDetailList = append(page.RoleDetailList, gr)
		for _, p := range ro.attached {
			attachments[p.arn]++
		}
	}
	policies := append([]*managedPolicy(nil), a.policies...)
	for _, name := range sortedKeys(g.w.awsPolicies) {
		if p := g.w.awsPolicies[name]; attachments[p.arn] > 0 {
			policies = append(policies, p)
		}
	}
	sort.Slice(policies, func(i, j int) bool { return policies[i].name < policies[j].name })
	for _, p := range policies {
		gp := gaadPolicy{
			PolicyName: p.name, PolicyID: p.id, Arn: p.arn, Path: p.path, DefaultVersionID: p.versions[0].id,
			AttachmentCount: attachments[p.arn], PermissionsBoundaryUsageCount: boundaries[p.arn], IsAttachable: true,
			Description: p.description, CreateDate: s.time(p.created), UpdateDate: s.time(p.updated),
		}
		for i, v := range p.versions {
			gp.PolicyVersionList = append(gp.PolicyVersionList, gaadPolicyVersion{s.doc(v.doc), v.id, i == 0, s.time(v.created)})
		}
		page.Policies = append(page.Policies, gp)
	}
	return page
}

// writeAuthorizationDetails writes each account's export: in one file, or
// as two pages (IsTruncated and Marker on the first) when the account is paged.
func (g *generator) writeAuthorizationDetails() error {
	for _, a := range g.w.accounts {
		page := g.authorizationDetails(a)
		dir := filepath.Join(g.dir, "iam", a.id)
		indent := "    "
		if a.gaadSDK {
			indent = "  "
		}
		if !a.gaadPaged {
			js, err := marshalIndent(page, indent)
			if err != nil {
				return err
			}
			if err := g.writeFile(filepath.Join(dir, "get-account-authorization-details.json"), js); err != nil {
				return err
			}
			continue
		}
		half := len(page.RoleDetailList) / 2
		first := gaadPage{UserDetailList: page.UserDetailList, GroupDetailList: page.GroupDetailList, RoleDetailList: page.RoleDetailList[:half], Policies: []gaadPolicy{},
			IsTruncated: true, Marker: "AAEAA" + randomString(g.w.rng("marker", a.index), base64Std, 150)}
		second := gaadPage{UserDetailList: []gaadUser{}, GroupDetailList: []gaadGroup{}, RoleDetailList: page.RoleDetailList[half:], Policies: page.Policies}
		for i, p := range []gaadPage{first, second} {
			js, err := marshalIndent(p, indent)
			if err != nil {
				return err
			}
			name := "get-account-authorization-details-page-" + string(rune('1'+i)) + ".json"
			if err := g.writeFile(filepath.Join(dir, name), js); err != nil {
				return err
			}
		}
	}
	return nil
}
