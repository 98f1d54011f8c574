package samples

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
)

// One task writes the CloudTrail log files of one account, region and day:
// hour by hour it draws the background events (as time stubs), merges the
// planted ones, sorts them and renders them into delivery files of at most
// maxRecordsPerFile records. Everything it draws comes from its own RNG, so
// its output does not depend on which goroutine runs it or when.

const maxRecordsPerFile = 500

type task struct {
	account int
	region  string
	day     int
}

type taskResult struct {
	events, files, bytes int64
	tracker              *tracker
	logFiles             []logFile // delivered files, for the digest region only
}

// logFile is what a digest file lists about a log file.
type logFile struct {
	key            string
	hash           string // hex SHA-256 of the uncompressed file
	oldest, newest int64
	delivered      int64
}

type stubKind uint8

const (
	stubCall stubKind = iota
	stubIssue
	stubFailedLogin
	stubPlanted
)

// stub is an event not yet rendered: when, and who.
type stub struct {
	t     int64
	seq   int32
	actor int32
	ref   int32 // session index, or planted index
	kind  stubKind
}

type taskState struct {
	g          *generator
	w          *world
	a          *account
	t          task
	r          *rand.Rand
	regionIdx  int // index in a.regions; -1 when only planted events happen here
	tableIdx   int
	plans      [][]session
	active     []int64 // seconds each actor is active on the day
	weights    float64 // sum of the weights of the active actors
	identities [][][]byte
	planted    []*plantedEvent
	rec        record
	dirs       map[string]bool
	tr         *tracker
	res        taskResult
	*scratch
}

// scratch holds the buffers a task reuses from event to event; tasks pass
// them on to the next task, so that the buffers do not grow again from
// nothing in every task (which made the garbage collector interrupt the
// compressor often).
type scratch struct {
	stubs []stub
	arena []byte // JSON fragments of the event being rendered
	body  []byte // the log file being built
	zbuf  bytes.Buffer
	gz    *gzip.Writer
}

func (g *generator) getScratch() *scratch {
	if sc, ok := g.scratchPool.Get().(*scratch); ok {
		return sc
	}
	zw, _ := gzip.NewWriterLevel(io.Discard, g.level)
	return &scratch{gz: zw}
}

func (g *generator) runTask(ctx context.Context, t task) (taskResult, error) {
	w := g.w
	a := w.accounts[t.account]
	st := &taskState{g: g, w: w, a: a, t: t, r: w.rng("task", t.account, t.region, t.day), regionIdx: slices.Index(a.regions, t.region), dirs: map[string]bool{}, tr: newTracker(w)}
	if t.region != "us-east-1" {
		st.tableIdx = 1
	}
	st.scratch = g.getScratch()
	defer g.scratchPool.Put(st.scratch)
	st.plans = make([][]session, len(a.actors))
	st.active = make([]int64, len(a.actors))
	st.identities = make([][][]byte, len(a.actors))
	for i, ac := range a.actors {
		st.plans[i] = w.plan(ac, t.day)
		st.identities[i] = make([][]byte, len(st.plans[i]))
		for _, s := range st.plans[i] {
			st.active[i] += s.end - s.start
		}
		if st.active[i] > 0 {
			st.weights += ac.weight
		}
	}
	st.planted = w.planted[taskKey{t.account, t.region, t.day}]
	ds := w.windowStart + int64(t.day)*day
	interval := g.interval[t.account][t.region]
	for h := int64(0); h < 24; h++ {
		if err := ctx.Err(); err != nil {
			return st.res, err
		}
		hs := ds + h*3600
		st.hourStubs(hs, hs+3600)
		for from := hs; from < hs+3600; from += interval {
			if err := st.deliver(from, from+interval); err != nil {
				return st.res, err
			}
		}
	}
	st.res.tracker = st.tr
	return st.res, nil
}

// hourStubs draws the stubs of [hs, he) and sorts them.
func (st *taskState) hourStubs(hs, he int64) {
	st.stubs = st.stubs[:0]
	seq := int32(0)
	add := func(s stub) {
		s.seq = seq
		seq++
		st.stubs = append(st.stubs, s)
	}
	budget := float64(st.w.opts.EventsPerDay)
	for i, ac := range st.a.actors {
		for j, s := range st.plans[i] {
			if s.issueRegion != st.t.region || s.start < hs || s.start >= he {
				continue
			}
			if s.failedFirst {
				add(stub{t: max(s.start-int64(20+st.r.IntN(40)), hs), actor: int32(i), ref: int32(j), kind: stubFailedLogin})
			}
			add(stub{t: s.start, actor: int32(i), ref: int32(j), kind: stubIssue})
		}
		if st.regionIdx < 0 || st.active[i] == 0 {
			continue
		}
		share := ac.regionShare(st.regionIdx)
		if share == 0 {
			continue
		}
		var spans [8]span
		sp, total := overlaps(st.plans[i], hs, he, spans[:0])
		if total == 0 {
			continue
		}
		x := budget * ac.weight / st.weights * share * float64(total) / float64(st.active[i])
		n := int(x + st.r.Float64())
		times := newTimeDrawer(ac, sp, total, st.r)
		for range n {
			t, si := times.next()
			add(stub{t: t, actor: int32(i), ref: int32(si), kind: stubCall})
		}
	}
	for i, p := range st.planted {
		if p.rec.time >= hs && p.rec.time < he {
			add(stub{t: p.rec.time, actor: -1, ref: int32(i), kind: stubPlanted})
		}
	}
	slices.SortFunc(st.stubs, func(x, y stub) int { return cmp.Or(cmp.Compare(x.t, y.t), cmp.Compare(x.seq, y.seq)) })
}

type span struct {
	sess     int
	from, to int64
}

// overlaps returns the parts of the sessions inside [hs, he) and their total length.
func overlaps(sessions []session, hs, he int64, out []span) ([]span, int64) {
	var total int64
	for i, s := range sessions {
		from, to := max(s.start+1, hs), min(s.end, he)
		if to > from {
			out = append(out, span{i, from, to})
			total += to - from
		}
	}
	return out, total
}

// timeDrawer draws event times inside spans following the actor's pattern.
type timeDrawer struct {
	ac       *actor
	spans    []span
	total    int64
	r        *rand.Rand
	left     int   // events left in the current burst
	cursor   int64 // time of the current burst
	burstEnd int64
	sess     int
}

func newTimeDrawer(ac *actor, spans []span, total int64, r *rand.Rand) *timeDrawer {
	return &timeDrawer{ac: ac, spans: spans, total: total, r: r}
}

func (d *timeDrawer) pickSpan() span {
	x := d.r.Int64N(d.total)
	for _, s := range d.spans {
		if x < s.to-s.from {
			return s
		}
		x -= s.to - s.from
	}
	return d.spans[len(d.spans)-1]
}

func (d *timeDrawer) next() (int64, int) {
	switch d.ac.pattern {
	case periodic:
		s := d.pickSpan()
		p := d.ac.period
		phase := int64(d.ac.index*7919) % p
		first := s.from + ((phase-s.from)%p+p)%p
		if first >= s.to {
			return s.from + d.r.Int64N(s.to-s.from), s.sess
		}
		ticks := (s.to-1-first)/p + 1
		t := first + d.r.Int64N(ticks)*p + d.r.Int64N(min(p, 20))
		return min(t, s.to-1), s.sess
	case bursty:
		if d.left == 0 {
			s := d.pickSpan()
			d.left = 8 + d.r.IntN(40)
			d.cursor, d.burstEnd, d.sess = s.from+d.r.Int64N(s.to-s.from), s.to, s.sess
		}
		d.left--
		d.cursor = min(d.cursor+d.r.Int64N(3), d.burstEnd-1)
		return d.cursor, d.sess
	}
	s := d.pickSpan()
	return s.from + d.r.Int64N(s.to-s.from), s.sess
}

// deliver renders the stubs of [from, to) into one or more log files.
func (st *taskState) deliver(from, to int64) error {
	byTime := func(s stub, t int64) int { return cmp.Compare(s.t, t) }
	lo, _ := slices.BinarySearchFunc(st.stubs, from, byTime)
	hi, _ := slices.BinarySearchFunc(st.stubs, to, byTime)
	n := hi - lo
	if n == 0 {
		return nil
	}
	files := (n + maxRecordsPerFile - 1) / maxRecordsPerFile
	per := (n + files - 1) / files
	delivered := to + 5*60
	for i := lo; i < hi; i += per {
		end := min(i+per, hi)
		st.body = append(st.body[:0], `{"Records":[`...)
		var oldest, newest int64
		for j := i; j < end; j++ {
			if j > i {
				st.body = append(st.body, ',')
			}
			st.body = st.renderStub(&st.stubs[j], st.body)
			if t := st.stubs[j].t; oldest == 0 || t < oldest {
				oldest = t
			}
			newest = max(newest, st.stubs[j].t)
		}
		st.body = append(st.body, `]}`...)
		if err := st.writeLogFile(delivered, oldest, newest, int64(end-i)); err != nil {
			return err
		}
	}
	return nil
}

func (st *taskState) writeLogFile(delivered, oldest, newest, records int64) error {
	w := st.w
	y, m, d := civil(delivered / day)
	dir := fmt.Sprintf("AWSLogs/%s/%s/CloudTrail/%s/%04d/%02d/%02d", w.orgID, st.a.id, st.t.region, y, m, d)
	stamp := appendTime(nil, delivered)
	name := fmt.Sprintf("%s_CloudTrail_%s_%s%s%sT%s%sZ_%s.json.gz", st.a.id, st.t.region, stamp[0:4], stamp[5:7], stamp[8:10], stamp[11:13], stamp[14:16], randomString(st.r, alnum, 16))
	key := dir + "/" + name
	st.zbuf.Reset()
	st.gz.Reset(&st.zbuf)
	if _, err := st.gz.Write(st.body); err != nil {
		return err
	}
	if err := st.gz.Close(); err != nil {
		return err
	}
	full := filepath.Join(st.g.dir, filepath.FromSlash(dir))
	if !st.dirs[full] {
		if err := os.MkdirAll(full, 0o755); err != nil {
			return err
		}
		st.dirs[full] = true
	}
	if err := os.WriteFile(filepath.Join(full, name), st.zbuf.Bytes(), 0o644); err != nil {
		return err
	}
	st.res.events += records
	st.res.files++
	st.res.bytes += int64(st.zbuf.Len())
	if st.a == w.digest.account && st.t.region == w.digest.region {
		sum := sha256.Sum256(st.body)
		st.res.logFiles = append(st.res.logFiles, logFile{key: key, hash: hex.EncodeToString(sum[:]), oldest: oldest, newest: newest, delivered: delivered})
	}
	return nil
}

// renderStub appends the event of s to b and records what it used.
func (st *taskState) renderStub(s *stub, b []byte) []byte {
	switch s.kind {
	case stubPlanted:
		p := st.planted[s.ref]
		st.tr.act(p.p, p.action, p.rec.errCode == "" && p.rec.errMsg == "")
		if p.login {
			st.tr.use(p.cred, p.rec.time, p.rec.region, "signin")
		} else if p.cred != nil {
			st.tr.use(p.cred, p.rec.time, p.rec.region, p.service)
		}
		return p.rec.render(b)
	case stubIssue, stubFailedLogin:
		st.renderIssue(s)
	default:
		st.renderCall(s)
	}
	return st.rec.render(b)
}

func (st *taskState) identity(ac *actor, si int) []byte {
	if ac.identity != nil {
		return ac.identity
	}
	if id := st.identities[ac.index][si]; id != nil {
		return id
	}
	s := &st.plans[ac.index][si]
	var id []byte
	switch ac.kind {
	case kindConsole:
		id = identityUserConsole(ac.user, s.key, s.start, s.mfa)
	default:
		id = identityAssumedRole(ac.role, roleSession{name: s.name, keyID: s.key, created: s.start,
			ec2Delivery: ac.service == "ec2.amazonaws.com", webIdentity: ac.oidc})
	}
	st.identities[ac.index][si] = id
	return id
}

func (st *taskState) callerARN(ac *actor, s *session) string {
	if ac.user != nil {
		return ac.user.arn
	}
	return "arn:aws:sts::" + st.a.id + ":assumed-role/" + ac.role.name + "/" + s.name
}

var consoleAgents = map[string]string{
	"s3":  "[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.750 Linux/5.10.225-191.878.amzn2int.x86_64 OpenJDK_64-Bit_Server_VM/25.412-b08 java/1.8.0_412 vendor/Oracle_Corporation cfg/retry-mode/standard]",
	"ec2": "EC2ConsoleFrontend, aws-internal/3 aws-sdk-java/1.12.750 Linux/5.10.225-191.878.amzn2int.x86_64 OpenJDK_64-Bit_Server_VM/25.412-b08 java/1.8.0_412 vendor/Oracle_Corporation cfg/retry-mode/standard",
	"iam": "AWS Internal",
}

func (st *taskState) renderCall(s *stub) {
	r := st.r
	ac := st.a.actors[s.actor]
	sess := &st.plans[s.actor][s.ref]
	c := ac.table[st.tableIdx].pick(r)
	x := r.Float64()
	denied := false
	if x < ac.deniedRate && len(ac.denied) > 0 {
		if d := pick(r, ac.denied); !d.global || st.t.region == "us-east-1" {
			c, denied = d, true
		}
	}
	rec := &st.rec
	st.arena = st.w.fillRecord(rec, st.a, st.t.region, s.t, c, r, st.arena[:0])
	rec.identity = st.identity(ac, int(s.ref))
	rec.ip, rec.ua = sess.ip, sess.ua
	var cred *credential
	switch ac.kind {
	case kindService:
	case kindUserKey:
		cred = ac.key.cred
		if ac.cli {
			rec.ua = ac.cliUA[c.index]
		}
	case kindConsole:
		rec.console = true
		rec.ua = "console.amazonaws.com"
		if ua, ok := consoleAgents[c.svc]; ok {
			rec.ua = ua
		}
	default:
		cred = ac.role.cred
	}
	ok := !denied
	if denied {
		rec.errCode, rec.errMsg = deniedError(c, st.callerARN(ac, sess), st.t.region, st.a.id, false, r)
	} else if x < ac.deniedRate+ac.errRate && len(c.errs) > 0 {
		e := pick(r, c.errs)
		rec.errCode, rec.errMsg = e.code, e.msg
		ok = false
	}
	cc := callCtx{r: r, w: st.w, acct: st.a, region: st.t.region, rec: rec, b: st.arena, actor: ac}
	c.build(&cc)
	st.arena = cc.b
	if rec.errCode != "" {
		rec.resp = nil
	}
	if ac.kind == kindService {
		rec.tlsHost = "" // AWS services call from inside AWS: no TLS details
	}
	if ac.vpce {
		if c.svc == "s3" {
			rec.vpce = st.a.res.vpcEndpoint[st.t.region]
		} else {
			rec.ip = st.natIP(ac)
		}
	}
	st.tr.act(ac.principal, c.action, ok)
	st.tr.use(cred, s.t, st.t.region, iamService(c))
}

// natIP is the public address an instance's calls leave the VPC from.
func (st *taskState) natIP(ac *actor) string {
	return fmt.Sprintf("54.%d.%d.%d", 80+st.a.index, 10+st.regionIdx, 20+ac.index)
}

// renderIssue renders the event that created a session: a console
// sign-in, or the AssumeRole call behind role credentials.
func (st *taskState) renderIssue(s *stub) {
	r := st.r
	ac := st.a.actors[s.actor]
	sess := &st.plans[s.actor][s.ref]
	rec := &st.rec
	if ac.kind == kindConsole {
		st.arena = st.w.fillRecord(rec, st.a, st.t.region, s.t, call("signin:ConsoleLogin"), r, st.arena[:0])
		ok := s.kind == stubIssue
		loginEvent(rec, st.a, ac.user, false, ok, sess.mfa, sess.ip, ac.browser, r)
		st.tr.act(ac.principal, "", ok)
		if ok {
			st.tr.use(ac.user.password.cred, s.t, st.t.region, "signin")
		}
		return
	}
	name := "sts:AssumeRole"
	if ac.kind == kindWebIdentity {
		name = "sts:AssumeRoleWithWebIdentity"
	}
	c := call(name)
	st.arena = st.w.fillRecord(rec, st.a, st.t.region, s.t, c, r, st.arena[:0])
	duration, ext := 3600, ""
	switch ac.kind {
	case kindServiceRole:
		rec.identity = identityService(ac.service)
		rec.ip, rec.ua, rec.tlsHost, duration = ac.service, ac.service, "", 0
		rec.shared = appendUUID(nil, r)
	case kindAssumed:
		is := ac.issuer
		rec.identity = identityUser(is.user, is.key.id)
		rec.ip, rec.ua = sess.ip, is.uas[0]
		if is.cli {
			rec.ua = is.uas[0] + " md/command#sts.assume-role"
		}
		st.tr.act(is.principal, c.action, true)
		st.tr.use(is.key.cred, s.t, st.t.region, "sts")
	case kindWebIdentity:
		rec.identity = identityWebIdentity(ac.oidc, ac.subject)
		rec.ip = sess.ip
		rec.ua = "aws-sdk-js/3.679.0 ua/2.1 os/linux#6.5.0-1025-azure lang/js md/nodejs#20.18.0 api/sts#3.679.0 m/E,N"
		rec.addl = []byte(`{"identityProviderConnectionVerificationMethod":"IAMTrustStore"}`)
	case kindVendor:
		rec.identity = identityAccount(ac.vendorRole, ac.vendorAcct)
		rec.ip, rec.ua, ext = sess.ip, sess.ua, ac.externalID
		rec.shared = appendUUID(nil, r)
	}
	assumeRoleEvent(rec, ac.role, sess.name, sess.key, duration, ext, r)
	if ac.kind == kindWebIdentity {
		resp := rec.resp[: len(rec.resp)-1 : len(rec.resp)-1]
		resp = appendStringField(resp, "subjectFromWebIdentityToken", ac.subject)
		resp = appendStringField(resp, "provider", ac.oidc)
		resp = appendStringField(resp, "audience", "sts.amazonaws.com")
		rec.resp = append(resp, '}')
	}
	st.tr.use(ac.role.cred, s.t, st.t.region, "sts")
}
