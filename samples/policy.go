package samples

import (
	"slices"
	"sort"
	"strings"
)

// policyDoc is an IAM policy document as the generator writes it. Rendering
// keeps the key order of documents written in the console (Version,
// Statement; Sid, Effect, Principal, Action, Resource, Condition) and the
// string-or-list choice of each value.
type policyDoc struct {
	Version      string
	Statements   []statement
	StmtAsObject bool // write a single statement as an object, as some hand-written policies do
}

type statement struct {
	Sid          string
	WriteSid     bool // write "Sid" even when empty (console-made trust policies have "Sid": "")
	Effect       string
	Principal    *principalSpec
	Action       []string
	NotAction    []string
	Resource     []string
	NotResource  []string
	Condition    map[string]map[string][]string // operator → key → values
	ListOneValue bool                           // write one-element Action/Resource as a list
}

// principalSpec is a trust policy principal: "*" or {"AWS": …, "Service": …, "Federated": …}.
type principalSpec struct {
	Any   bool
	Kinds []principalKind
}

type principalKind struct {
	Kind   string // AWS, Service, Federated
	Values []string
}

func allow(actions []string, resources ...string) statement {
	if len(resources) == 0 {
		resources = []string{"*"}
	}
	return statement{Effect: "Allow", Action: actions, Resource: resources}
}

func doc(stmts ...statement) *policyDoc {
	return &policyDoc{Version: "2012-10-17", Statements: stmts}
}

// json renders the document compactly.
func (d *policyDoc) json() []byte {
	b := make([]byte, 0, 256)
	b = append(b, '{')
	if d.Version != "" {
		b = appendStringField(b, "Version", d.Version)
	}
	b = appendKey(b, "Statement")
	if d.StmtAsObject && len(d.Statements) == 1 {
		b = d.Statements[0].appendJSON(b)
	} else {
		b = append(b, '[')
		for i := range d.Statements {
			if i > 0 {
				b = append(b, ',')
			}
			b = d.Statements[i].appendJSON(b)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func (s *statement) appendJSON(b []byte) []byte {
	b = append(b, '{')
	if s.Sid != "" || s.WriteSid {
		b = appendStringField(b, "Sid", s.Sid)
	}
	b = appendStringField(b, "Effect", s.Effect)
	if p := s.Principal; p != nil {
		b = appendKey(b, "Principal")
		if p.Any {
			b = appendString(b, "*")
		} else {
			b = append(b, '{')
			for _, k := range p.Kinds {
				b = appendStringsField(b, k.Kind, k.Values, false)
			}
			b = append(b, '}')
		}
	}
	if s.Action != nil {
		b = appendStringsField(b, "Action", s.Action, s.ListOneValue)
	}
	if s.NotAction != nil {
		b = appendStringsField(b, "NotAction", s.NotAction, s.ListOneValue)
	}
	if s.Resource != nil {
		b = appendStringsField(b, "Resource", s.Resource, s.ListOneValue)
	}
	if s.NotResource != nil {
		b = appendStringsField(b, "NotResource", s.NotResource, s.ListOneValue)
	}
	if len(s.Condition) > 0 {
		b = appendKey(b, "Condition")
		b = append(b, '{')
		for _, op := range sortedKeys(s.Condition) {
			b = appendKey(b, op)
			b = append(b, '{')
			for _, k := range sortedKeys(s.Condition[op]) {
				b = appendStringsField(b, k, s.Condition[op][k], false)
			}
			b = append(b, '}')
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

func appendStringsField(b []byte, key string, vals []string, forceList bool) []byte {
	b = appendKey(b, key)
	if len(vals) == 1 && !forceList {
		return appendString(b, vals[0])
	}
	b = append(b, '[')
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, v)
	}
	return append(b, ']')
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// urlEncode percent-encodes s as the IAM Query API does (RFC 3986: only
// unreserved characters stay as they are).
func urlEncode(s string) string {
	var b strings.Builder
	b.Grow(len(s) * 2)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte("0123456789ABCDEF"[c>>4])
		b.WriteByte("0123456789ABCDEF"[c&0xf])
	}
	return b.String()
}

// ---- evaluation (actions only) -------------------------------------------
//
// The generator needs to know what a principal may do, to keep the planted
// stories consistent (what succeeded is allowed, what was denied is not) and
// to derive the structure and usage facts. Resources and conditions are not
// evaluated: every policy the generator writes grants or denies by action,
// and its resource scoping never decides an event's outcome.

// actionMatches reports whether an IAM action matches a pattern with * and ? wildcards, case-insensitively.
func actionMatches(pattern, action string) bool {
	return wildcardMatch(strings.ToLower(pattern), strings.ToLower(action))
}

func wildcardMatch(p, s string) bool {
	// Iterative glob match with backtracking on the last *.
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == s[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// matchesAction reports whether statement s applies to action.
func (s *statement) matchesAction(action string) bool {
	if s.NotAction != nil {
		for _, p := range s.NotAction {
			if actionMatches(p, action) {
				return false
			}
		}
		return true
	}
	for _, p := range s.Action {
		if actionMatches(p, action) {
			return true
		}
	}
	return false
}

// policySet is every policy in force on a principal.
type policySet struct {
	identity []policyRef // inline and managed, direct and through groups
	boundary *policyRef
}

// policyRef is one policy in force and where it comes from.
type policyRef struct {
	ref      string // managed policy ARN, or principal ARN + "#inline/" + name (the case's policy_ref)
	name     string
	doc      *policyDoc
	viaGroup string // group ARN when inherited
	inline   bool
}

// allows reports whether the identity policies allow action, no Deny
// applies, and the permissions boundary (if any) allows it too.
func (ps *policySet) allows(action string) bool {
	allowed := false
	for _, p := range ps.identity {
		for i := range p.doc.Statements {
			s := &p.doc.Statements[i]
			if !s.matchesAction(action) {
				continue
			}
			if s.Effect == "Deny" {
				return false
			}
			allowed = true
		}
	}
	if !allowed {
		return false
	}
	if ps.boundary != nil {
		return docAllows(ps.boundary.doc, action)
	}
	return true
}

func docAllows(d *policyDoc, action string) bool {
	allowed := false
	for i := range d.Statements {
		s := &d.Statements[i]
		if !s.matchesAction(action) {
			continue
		}
		if s.Effect == "Deny" {
			return false
		}
		allowed = true
	}
	return allowed
}

// grantsAll reports whether a document allows Action "*" on Resource "*".
func grantsAll(d *policyDoc) bool {
	return slices.ContainsFunc(d.Statements, func(s statement) bool {
		return s.Effect == "Allow" && slices.Contains(s.Action, "*") && slices.Contains(s.Resource, "*")
	})
}

// isAdmin reports whether the set grants Action "*" on "*" and the boundary, if any, does too.
func (ps *policySet) isAdmin() bool {
	if !slices.ContainsFunc(ps.identity, func(p policyRef) bool { return grantsAll(p.doc) }) {
		return false
	}
	return ps.boundary == nil || grantsAll(ps.boundary.doc)
}

// grantedPatterns returns the Allow action patterns of the identity
// policies, and whether any statement grants everything (Action "*" or an
// Allow with NotAction), in which case the services cannot be enumerated.
func (ps *policySet) grantedPatterns() (patterns []string, broad bool) {
	for _, p := range ps.identity {
		for _, s := range p.doc.Statements {
			if s.Effect != "Allow" {
				continue
			}
			if s.NotAction != nil {
				broad = true
				continue
			}
			for _, a := range s.Action {
				if a == "*" {
					broad = true
					continue
				}
				patterns = append(patterns, a)
			}
		}
	}
	return patterns, broad
}

// serviceOf returns the service prefix of an action or action pattern.
func serviceOf(action string) string {
	svc, _, _ := strings.Cut(action, ":")
	return strings.ToLower(svc)
}
