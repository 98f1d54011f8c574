package samples

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"sort"
)

// The world is everything the three exports describe: accounts, their IAM
// principals and credentials, the resources the background activity
// touches, the actors that produce it and the planted events. It is built
// once, before any file is written, from the seed alone.

const day = 86400

type world struct {
	opts        Options
	seed        uint64
	asOf        int64 // end of the CloudTrail window; the IAM exports are generated then
	windowStart int64
	orgID       string
	trailBucket string
	trailName   string
	mgmtAccount string // the organization's management account, not in the archive
	vendorAcct  string // the monitoring vendor's account, outside the organization
	accounts    []*account
	principals  []*principal  // users, roles and roots: who usage is tracked for
	creds       []*credential // access keys, passwords and roles: what "last used" is tracked for
	awsPolicies map[string]*managedPolicy
	planted     map[taskKey][]*plantedEvent
	facts       []Fact // facts written by the scenarios; the rest are derived
	// extraEvidence adds planted event ids to a derived fact's evidence, by subject.
	extraEvidence map[string][]string
	digest        struct {
		account *account
		region  string
	}
}

type taskKey struct {
	account int
	region  string
	day     int
}

type account struct {
	index      int
	id         string
	alias      string
	regions    []string // regions with background activity; regions[0] is us-east-1
	users      []*iamUser
	groups     []*iamGroup
	roles      []*iamRole
	policies   []*managedPolicy // customer managed
	root       *rootUser
	actors     []*actor
	res        resources
	gaadPaged  bool // written as two pages
	gaadSDK    bool // written as a Go SDK program would: URL-encoded documents, Z times
	instanceID map[string][]string
}

type rootUser struct {
	created      int64
	mfa          bool
	pwLastUsed   int64 // before the window; 0 = no_information
	pwChanged    int64 // newer report semantics when non-zero (password_enabled true)
	key          *accessKey
	principal    *principal
	loginCred    *credential
	consoleLogin bool
}

type iamUser struct {
	acct      *account
	name      string
	id        string
	arn       string
	path      string
	created   int64
	groups    []*iamGroup
	attached  []*managedPolicy
	inline    []inlinePolicy
	boundary  *managedPolicy
	tags      [][2]string
	password  *password
	mfa       bool
	keys      []*accessKey // slot order; at most two
	principal *principal
}

type password struct {
	changed  int64
	lastUsed int64 // before the window; 0 = never (no_information)
	cred     *credential
}

type accessKey struct {
	id       string
	active   bool
	created  int64
	lastUsed int64 // before the window; 0 = never
	region   string
	service  string
	cred     *credential
}

type iamGroup struct {
	acct     *account
	name     string
	id       string
	arn      string
	path     string
	created  int64
	attached []*managedPolicy
	inline   []inlinePolicy
	members  []*iamUser
}

type iamRole struct {
	acct            *account
	name            string
	id              string
	arn             string
	path            string
	created         int64
	description     string
	trust           *policyDoc
	attached        []*managedPolicy
	inline          []inlinePolicy
	boundary        *managedPolicy
	instanceProfile bool
	maxSession      int
	tags            [][2]string
	lastUsed        int64 // before the window; 0 = never
	lastRegion      string
	principal       *principal
	cred            *credential
}

type inlinePolicy struct {
	name string
	doc  *policyDoc
}

type managedPolicy struct {
	name        string
	id          string
	arn         string
	path        string
	aws         bool
	description string
	created     int64
	updated     int64
	versions    []policyVersion // newest first; versions[0] is the default
}

type policyVersion struct {
	id      string
	doc     *policyDoc
	created int64
}

func (p *managedPolicy) doc() *policyDoc { return p.versions[0].doc }

// principal is an identity whose CloudTrail usage is tracked: a user, a
// role (through its sessions) or an account's root.
type principal struct {
	index int
	acct  *account
	arn   string
	kind  string // user, role, root
	user  *iamUser
	role  *iamRole
}

// credential is something the IAM exports report a last use of.
type credential struct {
	index int
	kind  string // key, password, role
}

type resources struct {
	flowLogBucket string
	configBucket  string
	elbLogBucket  string
	dataBuckets   map[string]string // region → bucket
	artifacts     string
	artifactsRgn  string
	backups       string
	webAssets     string
	archive       string // acct 0: the bucket read in bulk in the incident
	distribution  string
	functions     map[string][]string // region → function names
	tables        []string
	secrets       []string
	parameters    []string
	kmsKeys       map[string]string // region → key id
	kmsKeyARN     map[string]string // region → key ARN
	stacks        []string
	clusters      []string
	vpcEndpoint   map[string]string // region → S3 gateway endpoint id
}

// rng returns a PCG generator seeded from the generator seed and the given labels.
func (w *world) rng(labels ...any) *rand.Rand {
	return rand.New(rand.NewPCG(w.subSeed(labels...)))
}

func (w *world) subSeed(labels ...any) (uint64, uint64) {
	h := fnv.New64a()
	fmt.Fprint(h, w.seed)
	for _, l := range labels {
		fmt.Fprintf(h, "/%v", l)
	}
	a := h.Sum64()
	return splitmix(a), splitmix(a ^ 0x9e3779b97f4a7c15)
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// daysAgo is the time n days before the as-of time.
func (w *world) daysAgo(n float64) int64 { return w.asOf - int64(n*day) }

// ago is a time about n days before the as-of time, at a random time of that day.
func (w *world) ago(r *rand.Rand, n float64) int64 {
	return w.daysAgo(n) - int64(r.IntN(day))
}

// priorUse is a last-use time at least minDays old and before the CloudTrail
// window, so that no event in the archive contradicts it.
func (w *world) priorUse(r *rand.Rand, minDays float64) int64 {
	t := w.daysAgo(minDays + float64(r.Float64()*3)) // float64(): no fused multiply-add, same bytes on every CPU
	if lim := w.windowStart - int64(1+r.IntN(5))*day - int64(r.IntN(day)); t > lim {
		t = lim
	}
	return t
}

func (w *world) addPrincipal(a *account, kind, arn string) *principal {
	p := &principal{index: len(w.principals), acct: a, arn: arn, kind: kind}
	w.principals = append(w.principals, p)
	return p
}

func (w *world) addCred(kind string) *credential {
	c := &credential{index: len(w.creds), kind: kind}
	w.creds = append(w.creds, c)
	return c
}

// ---- construction helpers ------------------------------------------------

func (w *world) addUser(a *account, r *rand.Rand, name string, created int64) *iamUser {
	u := &iamUser{acct: a, name: name, id: uniqueID(r, "AIDA"), path: "/", created: created}
	u.arn = "arn:aws:iam::" + a.id + ":user/" + name
	u.principal = w.addPrincipal(a, "user", u.arn)
	u.principal.user = u
	a.users = append(a.users, u)
	return u
}

func (w *world) setPassword(u *iamUser, changed, lastUsed int64) {
	u.password = &password{changed: changed, lastUsed: lastUsed, cred: w.addCred("password")}
}

func (w *world) addKey(u *iamUser, r *rand.Rand, created int64, active bool) *accessKey {
	k := &accessKey{id: accessKeyID(r, "AKIA"), active: active, created: created, cred: w.addCred("key")}
	u.keys = append(u.keys, k)
	return k
}

func (k *accessKey) usedBefore(t int64, region, service string) *accessKey {
	k.lastUsed, k.region, k.service = t, region, service
	return k
}

func (w *world) addGroup(a *account, r *rand.Rand, name string, created int64, members ...*iamUser) *iamGroup {
	g := &iamGroup{acct: a, name: name, id: uniqueID(r, "AGPA"), path: "/", created: created}
	g.arn = "arn:aws:iam::" + a.id + ":group/" + name
	for _, u := range members {
		g.members = append(g.members, u)
		u.groups = append(u.groups, g)
	}
	a.groups = append(a.groups, g)
	return g
}

func (w *world) addRole(a *account, r *rand.Rand, name, path string, created int64, trust *policyDoc) *iamRole {
	if path == "" {
		path = "/"
	}
	ro := &iamRole{acct: a, name: name, id: uniqueID(r, "AROA"), path: path, created: created, trust: trust, maxSession: 3600}
	ro.arn = "arn:aws:iam::" + a.id + ":role" + path + name
	ro.principal = w.addPrincipal(a, "role", ro.arn)
	ro.principal.role = ro
	ro.cred = w.addCred("role")
	a.roles = append(a.roles, ro)
	return ro
}

// customerPolicy adds a customer managed policy; docs are oldest first and
// the last one is the default version.
func (w *world) customerPolicy(a *account, r *rand.Rand, name string, created int64, docs ...*policyDoc) *managedPolicy {
	p := &managedPolicy{name: name, id: uniqueID(r, "ANPA"), path: "/", created: created}
	p.arn = "arn:aws:iam::" + a.id + ":policy/" + name
	for i, d := range docs {
		t := created + int64(i)*int64(40+r.IntN(200))*day
		if t > w.windowStart {
			t = w.windowStart - int64(i+1)*day
		}
		p.versions = append([]policyVersion{{id: fmt.Sprintf("v%d", i+1), doc: d, created: t}}, p.versions...)
	}
	p.updated = p.versions[0].created
	a.policies = append(a.policies, p)
	return p
}

// policySet gathers every policy in force on a user (directly and through its groups).
func (u *iamUser) policySet() *policySet {
	ps := &policySet{}
	ps.add(u.arn, u.inline, u.attached, "")
	for _, g := range u.groups {
		ps.add(g.arn, g.inline, g.attached, g.arn)
	}
	ps.setBoundary(u.boundary)
	return ps
}

func (ro *iamRole) policySet() *policySet {
	ps := &policySet{}
	ps.add(ro.arn, ro.inline, ro.attached, "")
	ps.setBoundary(ro.boundary)
	return ps
}

// add appends the inline and managed policies of owner (a principal, or the group viaGroup).
func (ps *policySet) add(owner string, inline []inlinePolicy, attached []*managedPolicy, viaGroup string) {
	for _, ip := range inline {
		ps.identity = append(ps.identity, policyRef{ref: owner + "#inline/" + ip.name, name: ip.name, doc: ip.doc, inline: true, viaGroup: viaGroup})
	}
	for _, p := range attached {
		ps.identity = append(ps.identity, policyRef{ref: p.arn, name: p.name, doc: p.doc(), viaGroup: viaGroup})
	}
}

func (ps *policySet) setBoundary(p *managedPolicy) {
	if p != nil {
		ps.boundary = &policyRef{ref: p.arn, name: p.name, doc: p.doc()}
	}
}

// policySet of a principal; root has no policies (it may do anything).
func (p *principal) policySet() *policySet {
	switch p.kind {
	case "user":
		return p.user.policySet()
	case "role":
		return p.role.policySet()
	}
	return &policySet{identity: []policyRef{{ref: "root", doc: doc(allow([]string{"*"}))}}}
}

// trust policy helpers

func trustService(services ...string) *policyDoc {
	return &policyDoc{Version: "2012-10-17", Statements: []statement{{
		WriteSid: true, Effect: "Allow", Principal: &principalSpec{Kinds: []principalKind{{"Service", services}}},
		Action: []string{"sts:AssumeRole"},
	}}}
}

func trustAWS(arns []string, cond map[string]map[string][]string) *policyDoc {
	return doc(statement{
		Effect: "Allow", Principal: &principalSpec{Kinds: []principalKind{{"AWS", arns}}},
		Action: []string{"sts:AssumeRole"}, Condition: cond,
	})
}

// usersSorted returns users by name, as IAM lists them.
func usersSorted(us []*iamUser) []*iamUser {
	s := slices.Clone(us)
	sort.Slice(s, func(i, j int) bool { return s[i].name < s[j].name })
	return s
}
