package samples

// userIdentity objects, in the shapes FORMATS.md A3.4 describes. They are
// rendered once per credential or session and reused for every event.

func identityUser(u *iamUser, keyID string) []byte {
	b := make([]byte, 0, 256)
	b = append(b, `{"type":"IAMUser"`...)
	b = appendStringField(b, "principalId", u.id)
	b = appendStringField(b, "arn", u.arn)
	b = appendStringField(b, "accountId", u.acct.id)
	if keyID != "" {
		b = appendStringField(b, "accessKeyId", keyID)
	}
	b = appendStringField(b, "userName", u.name)
	return append(b, '}')
}

// identityUserConsole is an IAM user's console session: temporary
// credentials with the session's creation time and MFA state.
func identityUserConsole(u *iamUser, sessKey string, created int64, mfa bool) []byte {
	b := make([]byte, 0, 384)
	b = append(b, `{"type":"IAMUser"`...)
	b = appendStringField(b, "principalId", u.id)
	b = appendStringField(b, "arn", u.arn)
	b = appendStringField(b, "accountId", u.acct.id)
	b = appendStringField(b, "accessKeyId", sessKey)
	b = appendStringField(b, "userName", u.name)
	b = appendSessionAttrs(b, created, mfa)
	return append(b, '}')
}

func appendSessionAttrs(b []byte, created int64, mfa bool) []byte {
	b = append(b, `,"sessionContext":{"sessionIssuer":{},"webIdFederationData":{},"attributes":{"creationDate":"`...)
	b = appendTime(b, created)
	if mfa {
		return append(b, `","mfaAuthenticated":"true"}}`...)
	}
	return append(b, `","mfaAuthenticated":"false"}}`...)
}

// identityRoot is the root user: with an access key (sessCreated 0) or a console session.
func identityRoot(a *account, keyID string, sessCreated int64, mfa bool) []byte {
	b := make([]byte, 0, 256)
	b = append(b, `{"type":"Root"`...)
	b = appendStringField(b, "principalId", a.id)
	b = appendStringField(b, "arn", "arn:aws:iam::"+a.id+":root")
	b = appendStringField(b, "accountId", a.id)
	b = appendStringField(b, "accessKeyId", keyID)
	if sessCreated != 0 {
		b = appendSessionAttrs(b, sessCreated, mfa)
	}
	return append(b, '}')
}

// roleSession describes how a role session came to be, for its userIdentity.
type roleSession struct {
	name        string
	keyID       string
	created     int64
	mfa         bool
	ec2Delivery bool   // instance profile credentials (ec2RoleDelivery 2.0)
	webIdentity string // OIDC provider ARN for web identity sessions
	invokedBy   string // service acting with a service-linked or service role
}

func identityAssumedRole(ro *iamRole, s roleSession) []byte {
	b := make([]byte, 0, 640)
	b = append(b, `{"type":"AssumedRole"`...)
	b = appendStringField(b, "principalId", ro.id+":"+s.name)
	b = appendStringField(b, "arn", "arn:aws:sts::"+ro.acct.id+":assumed-role/"+ro.name+"/"+s.name)
	b = appendStringField(b, "accountId", ro.acct.id)
	b = appendStringField(b, "accessKeyId", s.keyID)
	b = append(b, `,"sessionContext":{"sessionIssuer":{"type":"Role"`...)
	b = appendStringField(b, "principalId", ro.id)
	b = appendStringField(b, "arn", ro.arn)
	b = appendStringField(b, "accountId", ro.acct.id)
	b = appendStringField(b, "userName", ro.name)
	b = append(b, `},"webIdFederationData":{`...)
	if s.webIdentity != "" {
		b = appendStringField(b, "federatedProvider", s.webIdentity)
		b = append(b, `,"attributes":{}`...)
	}
	b = append(b, `},"attributes":{"creationDate":"`...)
	b = appendTime(b, s.created)
	if s.mfa {
		b = append(b, `","mfaAuthenticated":"true"}`...)
	} else {
		b = append(b, `","mfaAuthenticated":"false"}`...)
	}
	if s.ec2Delivery {
		b = append(b, `,"ec2RoleDelivery":"2.0"`...)
	}
	b = append(b, '}')
	if s.invokedBy != "" {
		b = appendStringField(b, "invokedBy", s.invokedBy)
	}
	return append(b, '}')
}

func identityService(service string) []byte {
	b := append([]byte(`{"type":"AWSService"`), `,"invokedBy":`...)
	return append(appendString(b, service), '}')
}

// identityAccount is a principal of another account calling into this one.
func identityAccount(principalID, accountID string) []byte {
	b := append([]byte(`{"type":"AWSAccount"`), `,"principalId":`...)
	b = appendString(b, principalID)
	b = appendStringField(b, "accountId", accountID)
	return append(b, '}')
}

func identityWebIdentity(provider, subject string) []byte {
	b := append([]byte(`{"type":"WebIdentityUser"`), `,"principalId":`...)
	b = appendString(b, provider+":sts.amazonaws.com:"+subject)
	b = appendStringField(b, "userName", subject)
	b = appendStringField(b, "identityProvider", provider)
	return append(b, '}')
}

// identityFailedLogin is the userIdentity of a console sign-in failure.
func identityFailedLogin(u *iamUser) []byte {
	b := append([]byte(`{"type":"IAMUser"`), `,"principalId":`...)
	b = appendString(b, u.id)
	b = appendStringField(b, "accountId", u.acct.id)
	b = appendStringField(b, "accessKeyId", "")
	b = appendStringField(b, "userName", u.name)
	return append(b, '}')
}
