package samples

import (
	"math/rand/v2"
	"time"
)

// plantedEvent is an event of a planted story, fixed before the archive is
// written and merged into the background of its (account, region, day).
type plantedEvent struct {
	rec     record
	acct    *account
	p       *principal  // whose usage it is
	cred    *credential // whose last use it updates
	action  string      // IAM action, counted as used when the call succeeded
	service string      // IAM namespace, for the credential report
	login   bool        // a successful console sign-in (cred is the password)
}

func (e *plantedEvent) id() string { return string(e.rec.eventID) }

// who performs a planted call.
type who struct {
	identity []byte
	ip, ua   string
	p        *principal
	cred     *credential
	console  bool   // sessionCredentialFromConsole
	arn      string // for AccessDenied messages
	cliUA    bool   // append the aws-cli command to ua
}

// opt narrows a planted call: the resource it touches and how it ends.
type opt struct {
	target, bucket, key string
	denied              bool
	errCode, errMsg     string
	boundary            bool // the denial comes from a permissions boundary
}

type planter struct {
	w *world
	r *rand.Rand
}

// call plants one API call and returns it.
func (pl *planter) call(a *account, region string, t int64, c *apiCall, by who, o opt) *plantedEvent {
	ev := &plantedEvent{acct: a, p: by.p, cred: by.cred, action: c.action, service: iamService(c)}
	rec := &ev.rec
	pl.w.fillRecord(rec, a, region, t, c, pl.r, nil)
	rec.identity, rec.ip, rec.ua, rec.console = by.identity, by.ip, by.ua, by.console
	if by.cliUA {
		rec.ua += " md/command#" + cliCommand(c)
	}
	if o.denied {
		rec.errCode, rec.errMsg = deniedError(c, by.arn, region, a.id, o.boundary, pl.r)
	} else if o.errCode != "" {
		rec.errCode, rec.errMsg = o.errCode, o.errMsg
	}
	cc := &callCtx{r: pl.r, w: pl.w, acct: a, region: region, rec: rec, target: o.target, bucket: o.bucket, key: o.key}
	c.build(cc)
	if rec.errCode != "" {
		rec.resp = nil
	}
	pl.add(ev)
	return ev
}

func (pl *planter) add(ev *plantedEvent) {
	w := pl.w
	k := taskKey{ev.acct.index, ev.rec.region, int((ev.rec.time - w.windowStart) / day)}
	if ev.rec.time < w.windowStart || ev.rec.time >= w.asOf {
		panic("samples: planted event outside the window")
	}
	w.planted[k] = append(w.planted[k], ev)
}

// fillRecord sets the fields every call has, from the catalog entry.
func (w *world) fillRecord(rec *record, a *account, region string, t int64, c *apiCall, r *rand.Rand, arena []byte) []byte {
	*rec = record{
		version: c.version, time: t, source: c.source, name: c.name, region: region,
		readOnly: c.readOnly, eventType: "AwsApiCall", mgmt: !c.data, category: "Management", recipient: a.id,
	}
	if c.data {
		rec.category = "Data"
	}
	s := len(arena)
	arena = appendUUID(arena, r)
	rec.eventID = arena[s:len(arena):len(arena)]
	s = len(arena)
	if c.svc == "s3" {
		arena = appendRandom(arena, r, upperAlnum, 16)
	} else {
		arena = appendUUID(arena, r)
	}
	rec.requestID = arena[s:len(arena):len(arena)]
	switch {
	case c.svc == "sts" && region == "us-east-1", c.global:
		rec.tlsHost = c.svc + ".amazonaws.com"
	default:
		rec.tlsHost = c.svc + "." + region + ".amazonaws.com"
	}
	if c.svc == "signin" {
		rec.tlsHost = "signin.aws.amazon.com"
	}
	rec.tls13 = r.IntN(3) > 0
	return arena
}

// iamService is the IAM namespace a credential report names for a call.
func iamService(c *apiCall) string {
	if c.action != "" {
		return serviceOf(c.action)
	}
	return c.svc
}

// deniedError is the error CloudTrail logs for a refused call, worded as the service words it.
func deniedError(c *apiCall, arn, region, acct string, boundary bool, r *rand.Rand) (code, msg string) {
	why := "no identity-based policy allows the " + c.action + " action"
	if boundary {
		why = "no permissions boundary allows the " + c.action + " action"
	}
	switch c.svc {
	case "s3":
		return "AccessDenied", "Access Denied"
	case "ec2":
		res := "arn:aws:ec2:" + region + ":" + acct + ":instance/*"
		return "Client.UnauthorizedOperation", "You are not authorized to perform this operation. User: " + arn +
			" is not authorized to perform: " + c.action + " on resource: " + res + " because " + why +
			". Encoded authorization failure message: " + randomString(r, alnum+"-_", 180)
	case "organizations":
		return "AccessDeniedException", "You don't have permissions to access this resource."
	}
	return "AccessDenied", "User: " + arn + " is not authorized to perform: " + c.action + " on resource: * because " + why
}

// ---- who -------------------------------------------------------------------

func userKey(u *iamUser, k *accessKey, ip, ua string) who {
	return who{identity: identityUser(u, k.id), ip: ip, ua: ua, p: u.principal, cred: k.cred, arn: u.arn}
}

func userConsole(u *iamUser, sessKey string, created int64, mfa bool, ip string) who {
	return who{identity: identityUserConsole(u, sessKey, created, mfa), ip: ip, ua: "console.amazonaws.com", p: u.principal, console: true, arn: u.arn}
}

func roleWho(ro *iamRole, s roleSession, ip, ua string) who {
	return who{identity: identityAssumedRole(ro, s), ip: ip, ua: ua, p: ro.principal, cred: ro.cred,
		arn: "arn:aws:sts::" + ro.acct.id + ":assumed-role/" + ro.name + "/" + s.name}
}

// ---- sign-in ----------------------------------------------------------------

// consoleLogin plants a ConsoleLogin event. u is nil for an unknown user name.
func (pl *planter) consoleLogin(a *account, t int64, u *iamUser, root bool, ok, mfa bool, ip, ua string) *plantedEvent {
	ev := &plantedEvent{acct: a}
	pl.w.fillRecord(&ev.rec, a, "us-east-1", t, call("signin:ConsoleLogin"), pl.r, nil)
	loginEvent(&ev.rec, a, u, root, ok, mfa, ip, ua, pl.r)
	switch {
	case ok && root:
		ev.p, ev.cred, ev.login = a.root.principal, a.root.loginCred, true
	case ok:
		ev.p, ev.cred, ev.login = u.principal, u.password.cred, true
	}
	ev.service = "signin"
	pl.add(ev)
	return ev
}

// loginEvent shapes a record as a ConsoleLogin (FORMATS.md A3.5).
func loginEvent(rec *record, a *account, u *iamUser, root, ok, mfa bool, ip, ua string, r *rand.Rand) {
	rec.ip, rec.ua = ip, ua
	rec.requestID = nil
	rec.readOnly = false
	rec.eventType = "AwsConsoleSignIn"
	rec.tls13 = true
	var b []byte
	switch {
	case root:
		b = identityRoot(a, "", 0, false)
	case u == nil:
		b = []byte(`{"type":"IAMUser","accountId":"` + a.id + `","accessKeyId":"","userName":"HIDDEN_DUE_TO_SECURITY_REASONS"}`)
	case ok:
		b = identityUser(u, "")
	default:
		b = identityFailedLogin(u)
	}
	rec.identity = b
	if ok {
		rec.resp = []byte(`{"ConsoleLogin":"Success"}`)
	} else {
		rec.resp = []byte(`{"ConsoleLogin":"Failure"}`)
		rec.errMsg = "Failed authentication"
		if u == nil && !root {
			rec.errMsg = "No username found in supplied account"
		}
	}
	ad := make([]byte, 0, 256)
	ad = append(ad, `{"LoginTo":"https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true&state=hashArgsFromTB_us-east-1_`...)
	ad = appendHex(ad, r, 16)
	ad = append(ad, `","MobileVersion":"No"`...)
	if ok && mfa {
		mfaARN := "arn:aws:iam::" + a.id + ":mfa/root-account-mfa-device"
		if u != nil {
			mfaARN = "arn:aws:iam::" + a.id + ":mfa/" + u.name
		}
		ad = appendStringField(ad, "MFAIdentifier", mfaARN)
		ad = append(ad, `,"MFAUsed":"Yes"}`...)
	} else {
		ad = append(ad, `,"MFAUsed":"No"}`...)
	}
	rec.addl = ad
}

// ---- role assumption ----------------------------------------------------------

// sessionToken returns a plausible (random) STS session token.
func sessionToken(r *rand.Rand) string {
	return "IQoJb3JpZ2luX2VjE" + randomString(r, base64Std, 600)
}

// expiration formats a credential expiry as STS responses do: "Oct 31, 2026, 11:12:29 PM".
func expiration(t int64) string {
	return time.Unix(t, 0).UTC().Format("Jan 2, 2006, 3:04:05 PM")
}

// iamDate formats a date in an IAM response, without the comma STS puts
// after the year: "Oct 31, 2026 11:12:29 PM".
func iamDate(t int64) string {
	return time.Unix(t, 0).UTC().Format("Jan 2, 2006 3:04:05 PM")
}

// assumeRoleEvent shapes rec as the AssumeRole call that created a session.
func assumeRoleEvent(rec *record, ro *iamRole, sessName, key string, duration int, extra string, r *rand.Rand) {
	rec.readOnly = true
	b := make([]byte, 0, 1100)
	s := 0
	b = append(b, `{"roleArn":`...)
	b = appendString(b, ro.arn)
	b = appendStringField(b, "roleSessionName", sessName)
	if duration > 0 {
		b = appendIntField(b, "durationSeconds", int64(duration))
	}
	if extra != "" {
		b = appendStringField(b, "externalId", extra)
	}
	b = append(b, '}')
	rec.params = b[s:len(b):len(b)]
	if rec.errCode == "" {
		s = len(b)
		if duration == 0 {
			duration = 3600
		}
		b = append(b, `{"credentials":{"accessKeyId":`...)
		b = appendString(b, key)
		b = appendStringField(b, "sessionToken", sessionToken(r))
		b = appendStringField(b, "expiration", expiration(rec.time+int64(duration)))
		b = append(b, `},"assumedRoleUser":{"assumedRoleId":`...)
		b = appendString(b, ro.id+":"+sessName)
		b = appendStringField(b, "arn", "arn:aws:sts::"+ro.acct.id+":assumed-role/"+ro.name+"/"+sessName)
		b = append(b, `}}`...)
		rec.resp = b[s:len(b):len(b)]
	}
	s = len(b)
	b = append(b, `[{"accountId":"`...)
	b = append(b, ro.acct.id...)
	b = append(b, `","type":"AWS::IAM::Role","ARN":`...)
	b = appendString(b, ro.arn)
	b = append(b, `}]`...)
	rec.resources = b[s:len(b):len(b)]
}
