package samples

// record is one CloudTrail event, as it is written. Byte-slice fields hold
// JSON fragments (nil: null or absent, see render); id fields hold bytes
// that need no escaping.
type record struct {
	version        string
	identity       []byte // userIdentity object
	time           int64
	source         string
	name           string
	region         string
	ip             string
	ua             string
	errCode        string
	errMsg         string
	params         []byte // nil: null
	resp           []byte // nil: null
	addl           []byte // nil: absent
	requestID      []byte // nil: absent
	eventID        []byte
	readOnly       bool
	resources      []byte // nil: absent
	eventType      string
	mgmt           bool
	recipient      string
	shared         []byte // sharedEventID; nil: absent
	vpce           string
	category       string
	tlsHost        string // "": no tlsDetails
	tls13          bool
	console        bool   // sessionCredentialFromConsole
	serviceDetails []byte // nil: absent
}

// render appends the event as one JSON object, keys in CloudTrail's order.
func (e *record) render(b []byte) []byte {
	b = append(b, `{"eventVersion":`...)
	b = appendString(b, e.version)
	if e.identity != nil {
		b = append(b, `,"userIdentity":`...)
		b = append(b, e.identity...)
	}
	b = append(b, `,"eventTime":"`...)
	b = appendTime(b, e.time)
	b = append(b, `","eventSource":`...)
	b = appendString(b, e.source)
	b = append(b, `,"eventName":`...)
	b = appendString(b, e.name)
	b = append(b, `,"awsRegion":`...)
	b = appendString(b, e.region)
	b = append(b, `,"sourceIPAddress":`...)
	b = appendString(b, e.ip)
	b = append(b, `,"userAgent":`...)
	b = appendString(b, e.ua)
	if e.errCode != "" {
		b = append(b, `,"errorCode":`...)
		b = appendString(b, e.errCode)
	}
	if e.errMsg != "" {
		b = append(b, `,"errorMessage":`...)
		b = appendString(b, e.errMsg)
	}
	b = appendRawField(b, "requestParameters", e.params)
	b = appendRawField(b, "responseElements", e.resp)
	if e.addl != nil {
		b = appendRawField(b, "additionalEventData", e.addl)
	}
	if e.requestID != nil {
		b = append(b, `,"requestID":"`...)
		b = append(b, e.requestID...)
		b = append(b, '"')
	}
	b = append(b, `,"eventID":"`...)
	b = append(b, e.eventID...)
	b = append(b, `","readOnly":`...)
	if e.readOnly {
		b = append(b, "true"...)
	} else {
		b = append(b, "false"...)
	}
	if e.resources != nil {
		b = appendRawField(b, "resources", e.resources)
	}
	b = append(b, `,"eventType":`...)
	b = appendString(b, e.eventType)
	if e.mgmt {
		b = append(b, `,"managementEvent":true`...)
	} else {
		b = append(b, `,"managementEvent":false`...)
	}
	b = append(b, `,"recipientAccountId":"`...)
	b = append(b, e.recipient...)
	b = append(b, '"')
	if e.shared != nil {
		b = append(b, `,"sharedEventID":"`...)
		b = append(b, e.shared...)
		b = append(b, '"')
	}
	if e.vpce != "" {
		b = append(b, `,"vpcEndpointId":`...)
		b = appendString(b, e.vpce)
	}
	if e.serviceDetails != nil {
		b = appendRawField(b, "serviceEventDetails", e.serviceDetails)
	}
	b = append(b, `,"eventCategory":`...)
	b = appendString(b, e.category)
	if e.tlsHost != "" {
		if e.tls13 {
			b = append(b, `,"tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":`...)
		} else {
			b = append(b, `,"tlsDetails":{"tlsVersion":"TLSv1.2","cipherSuite":"ECDHE-RSA-AES128-GCM-SHA256","clientProvidedHostHeader":`...)
		}
		b = appendString(b, e.tlsHost)
		b = append(b, '}')
	}
	if e.console {
		b = append(b, `,"sessionCredentialFromConsole":"true"`...)
	}
	return append(b, '}')
}
