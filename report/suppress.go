package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"
)

// Suppression is one accepted risk: a finding id, or a rule and a subject
// (principal ARN, resource or account id), with the reason and an optional
// expiry date after which it no longer applies.
//
// A suppression file is JSON: {"suppressions": [ ... ]} or a bare array:
//
//	{"suppressions": [
//	  {"finding_id": "f-123", "reason": "break-glass user, reviewed quarterly", "expires": "2027-03-31"},
//	  {"rule_id": "access_key_not_rotated", "subject": "arn:aws:iam::111122223333:user/ci", "reason": "CI key, ticket SEC-42"}
//	]}
type Suppression struct {
	FindingID string `json:"finding_id,omitempty"`
	RuleID    string `json:"rule_id,omitempty"`
	Subject   string `json:"subject,omitempty"`
	Reason    string `json:"reason"`
	Expires   string `json:"expires,omitempty"` // YYYY-MM-DD, the last day it applies (UTC); empty: no expiry
}

// expired reports whether the suppression no longer applies at asOf.
func (s *Suppression) expired(asOf time.Time) bool {
	if s.Expires == "" {
		return false
	}
	d, err := time.Parse(time.DateOnly, s.Expires)
	if err != nil {
		return true
	}
	return !asOf.Before(d.AddDate(0, 0, 1))
}

func (s *Suppression) matches(f *Finding) bool {
	if s.FindingID != "" {
		return s.FindingID == f.FindingID
	}
	return s.RuleID == f.RuleID && f.matchesSubject(s.Subject)
}

// ReadSuppressions reads and checks a suppression file.
func ReadSuppressions(path string) ([]Suppression, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("suppressions: %w", err)
	}
	out, err := parseSuppressions(b)
	if err != nil {
		return nil, fmt.Errorf("suppressions %s: %w", path, err)
	}
	return out, nil
}

func parseSuppressions(b []byte) ([]Suppression, error) {
	var list []Suppression
	trimmed := bytes.TrimSpace(b)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		if err := json.Unmarshal(trimmed, &list); err != nil {
			return nil, err
		}
	} else {
		var doc struct {
			Suppressions []Suppression `json:"suppressions"`
		}
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&doc); err != nil {
			return nil, err
		}
		list = doc.Suppressions
	}
	for i, s := range list {
		switch {
		case s.FindingID == "" && (s.RuleID == "" || s.Subject == ""):
			return nil, fmt.Errorf("entry %d: needs finding_id, or rule_id and subject", i+1)
		case s.FindingID != "" && (s.RuleID != "" || s.Subject != ""):
			return nil, fmt.Errorf("entry %d: finding_id or rule_id and subject, not both", i+1)
		case s.Reason == "":
			return nil, fmt.Errorf("entry %d: no reason", i+1)
		}
		if s.Expires != "" {
			if _, err := time.Parse(time.DateOnly, s.Expires); err != nil {
				return nil, fmt.Errorf("entry %d: expires %q: want YYYY-MM-DD", i+1, s.Expires)
			}
		}
	}
	return list, nil
}

// suppressionUse is a suppression with what it did in this report.
type suppressionUse struct {
	Suppression
	Expired bool
	Matched int
}

// applySuppressions marks suppressed findings and reports the use of each entry.
func applySuppressions(findings []Finding, list []Suppression, asOf time.Time) []suppressionUse {
	uses := make([]suppressionUse, len(list))
	for i, s := range list {
		uses[i] = suppressionUse{Suppression: s, Expired: s.expired(asOf)}
	}
	for fi := range findings {
		for i := range uses {
			u := &uses[i]
			if u.Expired || !u.matches(&findings[fi]) {
				continue
			}
			u.Matched++
			if findings[fi].Suppressed == nil {
				s := u.Suppression
				findings[fi].Suppressed = &s
			}
		}
	}
	return uses
}

var errNoSeverity = errors.New("unknown severity")

// ParseSeverity checks a --fail-on value.
func ParseSeverity(s string) (string, error) {
	if SeverityRank(s) < 0 {
		return "", fmt.Errorf("%w %q (critical, high, medium, low or info)", errNoSeverity, s)
	}
	return Severities[SeverityRank(s)], nil
}
