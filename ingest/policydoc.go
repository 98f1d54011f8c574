package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// policyDocument is an IAM policy document as loaded: its JSON text and its
// statements with every string-or-list element normalised to a list.
type policyDocument struct {
	JSON       string // the decoded document, compact
	Statements []policyStatement
}

// policyStatement is one statement of a policy document. A nil list means the
// element is absent; an empty, non-nil list means it was written as [].
type policyStatement struct {
	Sid           *string // nil when absent; "" is kept as written
	Effect        string  // Allow or Deny
	Actions       []string
	NotActions    []string
	Resources     []string
	NotResources  []string
	Principals    []policyPrincipal
	NotPrincipals []policyPrincipal
	Condition     string // compact JSON object; "" when absent
}

// policyPrincipal is one value of a Principal or NotPrincipal element. Kind is
// AWS, Service, Federated or CanonicalUser, or "*" for "Principal": "*".
type policyPrincipal struct {
	Kind, Value string
}

// principalKinds are the keys a Principal object may have, in the order their
// values are listed.
var principalKinds = []string{"AWS", "Service", "Federated", "CanonicalUser"}

// parsePolicyDocument decodes a policy document given as a JSON object, as an
// RFC 3986 URL-encoded JSON string (what the IAM API returns and SDKs other
// than botocore pass on), or as a JSON string holding the document. It
// returns nil for an absent or null document. Errors name the position in
// the document ("Statement[2]: Action: …") but not the document itself.
func parsePolicyDocument(raw json.RawMessage) (*policyDocument, error) {
	text, err := policyDocumentText(raw)
	if err != nil || text == nil {
		return nil, err
	}
	if text = bytes.TrimSpace(text); len(text) == 0 || text[0] != '{' {
		return nil, fmt.Errorf("not a JSON object: %s", clipValue(text))
	}
	if !utf8.Valid(text) {
		// JSON is UTF-8, and AWS writes it so: a document with other bytes was
		// damaged or forged, and would not read the same twice.
		return nil, fmt.Errorf("not valid UTF-8 at byte %d", invalidUTF8At(text))
	}
	var top struct {
		Statement json.RawMessage
	}
	if err := json.Unmarshal(text, &top); err != nil {
		return nil, policyJSONError(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, text); err != nil {
		return nil, policyJSONError(err)
	}
	doc := &policyDocument{JSON: compact.String()}
	st := bytes.TrimSpace(top.Statement)
	switch {
	case absentJSON(st):
		// A document without statements grants nothing; keep it as written.
	case st[0] == '{':
		s, err := parseStatement(st)
		if err != nil {
			return nil, fmt.Errorf("Statement: %w", err)
		}
		doc.Statements = append(doc.Statements, s)
	case st[0] == '[':
		var list []json.RawMessage
		if err := json.Unmarshal(st, &list); err != nil {
			return nil, fmt.Errorf("Statement: %w", err)
		}
		for i, item := range list {
			s, err := parseStatement(item)
			if err != nil {
				return nil, fmt.Errorf("Statement[%d]: %w", i, err)
			}
			doc.Statements = append(doc.Statements, s)
		}
	default:
		return nil, fmt.Errorf("Statement: must be an object or a list of objects, not %s", clipValue(st))
	}
	return doc, nil
}

// policyDocumentText returns the JSON text of a document given as an object
// or as a (possibly URL-encoded) string; nil when absent.
func policyDocumentText(raw json.RawMessage) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case absentJSON(raw):
		return nil, nil
	case raw[0] == '{':
		return raw, nil
	case raw[0] != '"':
		return nil, fmt.Errorf("must be a JSON object or a string, not %s", clipValue(raw))
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, policyJSONError(err)
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("empty document")
	}
	if strings.HasPrefix(s, "{") && json.Valid([]byte(s)) {
		return []byte(s), nil // a plain JSON string
	}
	decoded, err := url.PathUnescape(s) // RFC 3986: "+" is a plus, spaces are %20
	if err != nil {
		return nil, fmt.Errorf("invalid URL encoding: %w", err)
	}
	return []byte(decoded), nil
}

// rawStatement is a statement before normalisation.
type rawStatement struct {
	Sid          *string
	Effect       *string
	Principal    json.RawMessage
	NotPrincipal json.RawMessage
	Action       json.RawMessage
	NotAction    json.RawMessage
	Resource     json.RawMessage
	NotResource  json.RawMessage
	Condition    json.RawMessage
}

func parseStatement(raw json.RawMessage) (policyStatement, error) {
	var s policyStatement
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return s, fmt.Errorf("must be an object, not %s", clipValue(raw))
	}
	var r rawStatement
	if err := json.Unmarshal(raw, &r); err != nil {
		return s, err
	}
	s.Sid = r.Sid
	switch {
	case r.Effect == nil:
		return s, errors.New("Effect: missing")
	case *r.Effect != "Allow" && *r.Effect != "Deny":
		return s, fmt.Errorf("Effect: %q is neither Allow nor Deny", *r.Effect)
	}
	s.Effect = *r.Effect
	lists := []struct {
		name string
		raw  json.RawMessage
		dst  *[]string
	}{
		{"Action", r.Action, &s.Actions},
		{"NotAction", r.NotAction, &s.NotActions},
		{"Resource", r.Resource, &s.Resources},
		{"NotResource", r.NotResource, &s.NotResources},
	}
	for _, l := range lists {
		v, err := stringOrList(l.raw)
		if err != nil {
			return s, fmt.Errorf("%s: %w", l.name, err)
		}
		*l.dst = v
	}
	var err error
	if s.Principals, err = parsePrincipal(r.Principal); err != nil {
		return s, fmt.Errorf("Principal: %w", err)
	}
	if s.NotPrincipals, err = parsePrincipal(r.NotPrincipal); err != nil {
		return s, fmt.Errorf("NotPrincipal: %w", err)
	}
	if c := bytes.TrimSpace(r.Condition); !absentJSON(c) {
		if c[0] != '{' {
			return s, fmt.Errorf("Condition: must be an object, not %s", clipValue(c))
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, c); err != nil {
			return s, fmt.Errorf("Condition: %w", policyJSONError(err))
		}
		s.Condition = buf.String()
	}
	return s, nil
}

// stringOrList reads an element written as a string or a list of strings:
// nil when absent or null, a one-element list for a string.
func stringOrList(raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case absentJSON(raw):
		return nil, nil
	case raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		return []string{s}, nil
	case raw[0] == '[':
		var list []string
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, fmt.Errorf("must be a string or a list of strings, not %s", clipValue(raw))
		}
		if list == nil {
			list = []string{}
		}
		return list, nil
	}
	return nil, fmt.Errorf("must be a string or a list of strings, not %s", clipValue(raw))
}

// parsePrincipal reads "*" or {"AWS"|"Service"|"Federated"|"CanonicalUser": str|[str]}.
func parsePrincipal(raw json.RawMessage) ([]policyPrincipal, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case absentJSON(raw):
		return nil, nil
	case raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		if s != "*" {
			return nil, fmt.Errorf("a string principal must be \"*\", not %q", s)
		}
		return []policyPrincipal{{Kind: "*", Value: "*"}}, nil
	case raw[0] != '{':
		return nil, fmt.Errorf("must be \"*\" or an object, not %s", clipValue(raw))
	}
	var byKind map[string]json.RawMessage
	if err := json.Unmarshal(raw, &byKind); err != nil {
		return nil, err
	}
	for k := range byKind {
		if !isPrincipalKind(k) {
			return nil, fmt.Errorf("unknown principal type %q", k)
		}
	}
	var out []policyPrincipal
	for _, kind := range principalKinds {
		values, err := stringOrList(byKind[kind])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", kind, err)
		}
		for _, v := range values {
			out = append(out, policyPrincipal{Kind: kind, Value: v})
		}
	}
	return out, nil
}

func isPrincipalKind(k string) bool {
	for _, kind := range principalKinds {
		if k == kind {
			return true
		}
	}
	return false
}

// absentJSON reports whether an element is missing or null.
func absentJSON(raw []byte) bool { return len(raw) == 0 || string(raw) == "null" }

// policyJSONError phrases a decoding error, with the byte offset of a syntax error.
func policyJSONError(err error) error {
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return fmt.Errorf("invalid JSON at byte %d: %w", syntax.Offset, err)
	}
	return fmt.Errorf("invalid JSON: %w", err)
}

// clipValue shows the start of a JSON value in an error message.
func clipValue(raw []byte) string {
	const max = 40
	switch {
	case len(raw) == 0:
		return "nothing"
	case len(raw) > max:
		return string(trimUTF8Tail(raw[:max])) + "…"
	}
	return string(raw)
}

// invalidUTF8At returns the offset of the first byte that is not UTF-8.
func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(b)
}
