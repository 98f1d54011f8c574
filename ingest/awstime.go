package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Time layouts AWS exports use. Go accepts fractional seconds after the
// seconds field when parsing even when the layout does not show them.
var awsTimeLayouts = []string{
	time.RFC3339,                // 2025-01-28T17:25:12Z, 2022-03-08T16:02:25+00:00, CLI local offsets
	"2006-01-02 15:04:05Z07:00", // boto3 str(datetime): 2023-03-09 10:41:45+00:00
	"2006-01-02T15:04:05Z0700",  // offset without a colon: +0000
	"2006-01-02 15:04:05Z0700",
	"20060102T150405Z07:00", // ISO basic: 20131102T010628Z
	"20060102T150405Z0700",
}

// maxEpochSeconds is 9999-12-31T23:59:59Z. A larger number is most likely
// milliseconds, which no AWS export here uses; it is refused, not guessed.
const maxEpochSeconds = 253402300799

// parseAWSTime parses a timestamp as AWS exports write it: ISO 8601 with Z or
// an offset (fractional seconds allowed), boto3's space-separated form, the
// ISO basic form, or Unix epoch seconds ("1453076702.0"). A time without a
// zone is refused rather than assumed UTC. The result is in UTC.
func parseAWSTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("empty time")
	}
	if isEpochSeconds(s) {
		return parseEpochSeconds(s)
	}
	var firstErr error
	for _, layout := range awsTimeLayouts {
		t, err := time.Parse(layout, s)
		if err == nil {
			return t.UTC(), nil
		}
		var pe *time.ParseError
		if errors.As(err, &pe) && pe.Message != "" && firstErr == nil {
			firstErr = err // the shape matched but a field is out of range
		}
	}
	return time.Time{}, &timeError{value: s, err: firstErr}
}

// timeError is an unparseable time. It reads `invalid time "…"`, with the
// reason when one field was out of range, and wraps time's own error.
type timeError struct {
	value string
	err   error
}

func (e *timeError) Error() string {
	var pe *time.ParseError
	if errors.As(e.err, &pe) {
		return fmt.Sprintf("invalid time %q%s", e.value, pe.Message)
	}
	return fmt.Sprintf("invalid time %q", e.value)
}

func (e *timeError) Unwrap() error { return e.err }

// isEpochSeconds reports whether s is a plain decimal number (digits, one
// optional fraction, optional exponent), the way JSON writes epoch floats.
func isEpochSeconds(s string) bool {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r == '.' || r == 'e' || r == 'E' || r == '+') {
			return false
		}
	}
	return true
}

func parseEpochSeconds(s string) (time.Time, error) {
	whole, frac, hasFrac := strings.Cut(s, ".")
	if !strings.ContainsAny(s, "eE") && !strings.Contains(frac, ".") {
		sec, err := strconv.ParseInt(whole, 10, 64)
		if err != nil || sec < 0 || sec > maxEpochSeconds {
			return time.Time{}, &timeError{value: s, err: err}
		}
		var nsec int64
		if hasFrac {
			if frac == "" || strings.Trim(frac, "0123456789") != "" {
				return time.Time{}, &timeError{value: s}
			}
			frac = (frac + "000000000")[:9] // nanoseconds; finer digits are dropped
			nsec, _ = strconv.ParseInt(frac, 10, 64)
		}
		return time.Unix(sec, nsec).UTC(), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > maxEpochSeconds {
		return time.Time{}, &timeError{value: s, err: err}
	}
	sec, fr := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(fr*1e9))).UTC(), nil
}

// parseJSONTime parses a JSON value holding a time: a string in any form
// parseAWSTime takes, or a number of epoch seconds (boto3). null, an empty
// string or an absent value (nil) give the zero time and no error.
func parseJSONTime(raw json.RawMessage) (time.Time, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return time.Time{}, nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return time.Time{}, fmt.Errorf("invalid time %s: %w", raw, err)
		}
		if s == "" {
			return time.Time{}, nil
		}
		return parseAWSTime(s)
	}
	if raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9' {
		return parseEpochSeconds(string(raw))
	}
	return time.Time{}, fmt.Errorf("invalid time %s: not a string or number", clip(string(raw), 40))
}

// timeOrNull is t as a query argument: NULL for the zero time.
func timeOrNull(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}
