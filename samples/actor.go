package samples

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// An actor produces background events: an AWS service, an IAM user with a
// key, a person at the console, or the sessions of a role (created by a
// service, by another actor, by an OIDC provider or by another account).
// Its share of an account's daily volume is its weight; when it is active
// and where come from its day plan, computed from the seed alone so that
// every (account, region, day) task sees the same sessions.
type actorKind uint8

const (
	kindService     actorKind = iota // AWSService identity
	kindUserKey                      // IAM user with a long-term access key
	kindConsole                      // IAM user at the console (sign-in, temporary credentials)
	kindServiceRole                  // role sessions created by a service (Lambda, EC2 instance profile)
	kindAssumed                      // role sessions assumed by an IAM user (a CI pipeline)
	kindWebIdentity                  // role sessions from GitHub Actions OIDC
	kindVendor                       // role sessions assumed from another account with an ExternalId
)

type pattern uint8

const (
	uniform  pattern = iota
	periodic         // clustered on ticks every period seconds (pollers, agents)
	bursty           // in bursts of a few dozen calls (tools, pipelines)
)

type actor struct {
	index   int
	acct    *account
	name    string
	kind    actorKind
	weight  float64
	regions []float64 // share per acct.regions entry

	calls      []weightedCall
	denied     []*apiCall // attempted now and then, and refused
	deniedRate float64
	errRate    float64 // share of calls that fail with one of the call's own errors

	pattern  pattern
	period   int64
	workdays bool   // active on weekdays only (mostly)
	workFrom int    // local hour a working day starts
	workLen  int    // hours
	tz       int    // hours east of UTC
	runs     [2]int // kindAssumed, kindWebIdentity: pipeline runs per active day
	runLen   int64  // seconds a run lasts

	uas       []string // user agents; a CLI user agent gets the command appended
	cli       bool
	browser   string // console sign-in user agent
	ips       []string
	buckets   []string
	keyPrefix string
	vpce      bool // S3 calls through a gateway endpoint, from private addresses

	user       *iamUser
	key        *accessKey
	role       *iamRole
	service    string // AWSService: the service; kindServiceRole: who creates the sessions
	issuer     *actor // kindAssumed: who assumes the role
	vendorAcct string
	vendorRole string // principal id of the vendor's caller
	externalID string
	oidc       string // provider ARN
	subject    string // OIDC subject
	instances  []string
	principal  *principal

	// derived at setup
	table    [2]callTable // [0]: us-east-1, [1]: other regions
	cliUA    []string     // per catalog index: user agent with the command
	identity []byte       // for identities that do not change between sessions
}

type weightedCall struct {
	c *apiCall
	w int
}

type callTable struct {
	calls []*apiCall
	cum   []int
}

func (t *callTable) pick(r *rand.Rand) *apiCall {
	if len(t.calls) == 0 {
		return nil
	}
	x := r.IntN(t.cum[len(t.cum)-1])
	lo, hi := 0, len(t.cum)-1
	for lo < hi {
		m := (lo + hi) / 2
		if t.cum[m] > x {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return t.calls[lo]
}

func calls(spec ...any) []weightedCall {
	var out []weightedCall
	for i := 0; i < len(spec); i += 2 {
		out = append(out, weightedCall{call(spec[i].(string)), spec[i+1].(int)})
	}
	return out
}

// setup derives the per-region call tables and fixed identities.
func (a *actor) setup() {
	for i := range a.table {
		t := &a.table[i]
		total := 0
		for _, wc := range a.calls {
			if i == 1 && wc.c.global {
				continue
			}
			total += wc.w
			t.calls = append(t.calls, wc.c)
			t.cum = append(t.cum, total)
		}
	}
	if a.cli && len(a.uas) > 0 {
		a.cliUA = make([]string, len(catalogList))
		for _, wc := range a.calls {
			a.cliUA[wc.c.index] = a.uas[0] + " md/command#" + cliCommand(wc.c)
		}
		for _, c := range a.denied {
			a.cliUA[c.index] = a.uas[0] + " md/command#" + cliCommand(c)
		}
	}
	switch a.kind {
	case kindService:
		a.identity = identityService(a.service)
	case kindUserKey:
		a.identity = identityUser(a.user, a.key.id)
	}
}

// cliCommand is the aws-cli command name of a call: ec2.describe-instances.
func cliCommand(c *apiCall) string {
	svc := c.svc
	switch svc {
	case "monitoring":
		svc = "cloudwatch"
	case "elasticloadbalancing":
		svc = "elbv2"
	}
	name := strings.TrimRight(c.name, "0123456789_v") // API-version suffix
	var b strings.Builder
	for i, ch := range name {
		if 'A' <= ch && ch <= 'Z' {
			if i > 0 {
				b.WriteByte('-')
			}
			ch += 'a' - 'A'
		}
		b.WriteRune(ch)
	}
	if svc == "s3" {
		return "s3api." + b.String()
	}
	return svc + "." + b.String()
}

// session is a span of an actor's day with one set of credentials.
type session struct {
	start, end  int64
	key         string // access key id the calls are signed with
	name        string // role session name, or instance id
	ip          string
	ua          string
	issueRegion string // where the event that created it is logged; "" for none
	mfa         bool
	failedFirst bool // console: a mistyped password before the sign-in
	identity    []byte
}

// plan returns the actor's sessions of day d (d counts from the window start).
func (w *world) plan(a *actor, d int) []session {
	r := w.rng("plan", a.acct.index, a.index, d)
	ds := w.windowStart + int64(d)*day
	de := ds + day
	weekday := time.Unix(ds+12*3600, 0).UTC().Weekday()
	weekend := weekday == time.Saturday || weekday == time.Sunday
	if a.workdays && weekend && r.IntN(10) > 0 {
		return nil
	}
	ip := ""
	if len(a.ips) > 0 {
		ip = pick(r, a.ips)
	}
	ua := ""
	if len(a.uas) > 0 {
		ua = pick(r, a.uas)
	}
	switch a.kind {
	case kindService:
		return []session{{start: ds, end: de, ip: ip, ua: ua}}
	case kindUserKey, kindConsole:
		if !a.workdays {
			return []session{{start: ds, end: de, key: a.key.id, ip: ip, ua: ua}}
		}
		start := ds + int64((a.workFrom-a.tz)*3600) + int64(r.IntN(150*60))
		length := int64(a.workLen*3600) - int64(r.IntN(3*3600))
		if weekend {
			length = int64(1800 + r.IntN(5400))
		}
		s := session{start: clamp(start, ds, de-600), ip: ip, ua: ua}
		s.end = min(s.start+length, de)
		if a.kind == kindUserKey {
			s.key = a.key.id
			return []session{s}
		}
		s.key = accessKeyID(r, "ASIA")
		s.issueRegion = "us-east-1"
		s.mfa = a.user.mfa
		s.failedFirst = r.IntN(40) == 0
		return []session{s}
	case kindServiceRole:
		var out []session
		names := a.instances
		if len(names) == 0 {
			names = []string{a.name}
		}
		region := w.actorHome(a)
		for _, name := range names {
			t := ds - int64(r.IntN(6*3600))
			for t < de {
				length := int64(6 * 3600)
				if len(a.instances) == 0 {
					length = int64(3600 + r.IntN(5*3600))
				}
				s := session{start: max(t, ds), end: min(t+length, de), key: accessKeyID(r, "ASIA"), name: name, ip: ip, ua: ua}
				if t >= ds {
					s.issueRegion = region
				}
				out = append(out, s)
				t += length
			}
		}
		return out
	case kindAssumed, kindWebIdentity:
		n := a.runs[0] + r.IntN(a.runs[1]-a.runs[0]+1)
		if weekend {
			n = r.IntN(2)
		}
		out := make([]session, 0, n)
		for range n {
			start := ds + int64(6*3600+r.IntN(14*3600))
			s := session{start: start, end: min(start+a.runLen+int64(r.IntN(int(a.runLen))), de), key: accessKeyID(r, "ASIA"), ip: ip, ua: ua, issueRegion: "us-east-1"}
			if a.kind == kindAssumed {
				s.name = "jenkins-deploy-" + strconv.Itoa(4000+d*9+r.IntN(9))
				s.ip = pick(r, a.issuer.ips)
			} else {
				s.name = "GitHubActions"
				s.ip = pick(r, a.ips)
			}
			out = append(out, s)
		}
		sortSessions(out)
		return out
	case kindVendor:
		out := make([]session, 0, 24)
		for h := range 24 {
			start := ds + int64(h*3600) + int64(r.IntN(120))
			out = append(out, session{start: start, end: min(start+3600, de), key: accessKeyID(r, "ASIA"), name: "vendor-" + randomHex(r, 8), ip: pick(r, a.ips), ua: ua, issueRegion: "us-east-1"})
		}
		return out
	}
	return nil
}

func sortSessions(s []session) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j].start < s[j-1].start; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func clamp(v, lo, hi int64) int64 { return max(lo, min(v, hi)) }

// actorHome is the region an actor's sessions are created in when it is
// active in one region only (service roles).
func (w *world) actorHome(a *actor) string {
	best, bw := a.acct.regions[0], -1.0
	for i, x := range a.regions {
		if x > bw {
			best, bw = a.acct.regions[i], x
		}
	}
	return best
}

// regionShare returns the actor's share of activity in region index i.
func (a *actor) regionShare(i int) float64 {
	if i < len(a.regions) {
		return a.regions[i]
	}
	return 0
}

// spread gives a share p to the region with index primary and divides the
// rest between the account's other regions.
func spread(acct *account, primary int, p float64) []float64 {
	out := make([]float64, len(acct.regions))
	if len(out) == 1 {
		out[0] = 1
		return out
	}
	for i := range out {
		out[i] = (1 - p) / float64(len(out)-1)
	}
	out[primary] = p
	return out
}

func only(acct *account, region string) []float64 {
	out := make([]float64, len(acct.regions))
	for i, r := range acct.regions {
		if r == region {
			out[i] = 1
		}
	}
	return out
}
