package samples

import (
	"math/rand/v2"
	"strconv"
	"time"
	"unicode/utf8"
)

// The CloudTrail writer appends JSON by hand: reflection-based encoding of
// every event would not reach the throughput the generator needs. Every
// string goes through appendString, which escapes exactly as encoding/json
// does (minus the HTML escaping, which CloudTrail does not do either).

const hexDigits = "0123456789abcdef"

// jsonSafe[b] is true for ASCII bytes that need no escaping inside a JSON string.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\'
	}
	return t
}()

// appendString appends s as a quoted, escaped JSON string.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendEscaped(b, s)
	return append(b, '"')
}

// appendEscaped appends s escaped for the inside of a JSON string.
func appendEscaped(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(b, s[start:]...)
}

// appendKey appends `"key":` (key must need no escaping) after a comma when
// the object already has a member.
func appendKey(b []byte, key string) []byte {
	if c := b[len(b)-1]; c != '{' && c != '[' {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, key...)
	return append(b, '"', ':')
}

func appendStringField(b []byte, key, val string) []byte {
	return appendString(appendKey(b, key), val)
}

func appendIntField(b []byte, key string, v int64) []byte {
	return strconv.AppendInt(appendKey(b, key), v, 10)
}

// appendRawField appends a member whose value is already JSON; nil means null.
func appendRawField(b []byte, key string, raw []byte) []byte {
	b = appendKey(b, key)
	if raw == nil {
		return append(b, "null"...)
	}
	return append(b, raw...)
}

// appendTime appends t (unix seconds, UTC) as 2006-01-02T15:04:05Z, unquoted.
func appendTime(b []byte, t int64) []byte {
	days := t / 86400
	sec := t - days*86400
	if sec < 0 {
		sec += 86400
		days--
	}
	y, m, d := civil(days)
	b = append4(b, y)
	b = append(b, '-')
	b = append2(b, m)
	b = append(b, '-')
	b = append2(b, d)
	b = append(b, 'T')
	b = append2(b, int(sec/3600))
	b = append(b, ':')
	b = append2(b, int(sec/60%60))
	b = append(b, ':')
	b = append2(b, int(sec%60))
	return append(b, 'Z')
}

func appendTimeField(b []byte, key string, t int64) []byte {
	b = append(appendKey(b, key), '"')
	return append(appendTime(b, t), '"')
}

// civil converts days since 1970-01-01 to a proleptic Gregorian date
// (Howard Hinnant's algorithm).
func civil(days int64) (y, m, d int) {
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	yy := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	m = int(mp + 3)
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		yy++
	}
	return int(yy), m, d
}

func append2(b []byte, v int) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }

func append4(b []byte, v int) []byte {
	return append(b, byte('0'+v/1000), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
}

// isoTime formats t for the IAM exports, in the credential report's
// spelling (2022-03-08T16:02:25+00:00).
func isoTime(t int64) string {
	return time.Unix(t, 0).UTC().Format("2006-01-02T15:04:05+00:00")
}

// appendUUID appends a random UUID (version 4 layout) drawn from r.
func appendUUID(b []byte, r *rand.Rand) []byte {
	hi, lo := r.Uint64(), r.Uint64()
	hi = hi&^0xf000 | 0x4000         // version 4
	lo = lo&^(0xc<<60) | (0x8 << 60) // RFC 4122 variant
	for i := 0; i < 16; i++ {
		if i == 8 || i == 12 {
			b = append(b, '-')
		}
		b = append(b, hexDigits[hi>>(60-4*i)&0xf])
	}
	for i := 0; i < 16; i++ {
		if i == 0 || i == 4 {
			b = append(b, '-')
		}
		b = append(b, hexDigits[lo>>(60-4*i)&0xf])
	}
	return b
}

// uuid returns a random UUID string drawn from r.
func uuid(r *rand.Rand) string { return string(appendUUID(make([]byte, 0, 36), r)) }

const (
	upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	alnum      = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	lowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789"
	base32Key  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	base64Std  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

// appendRandom appends n characters drawn uniformly from alphabet.
func appendRandom(b []byte, r *rand.Rand, alphabet string, n int) []byte {
	for i := 0; i < n; i++ {
		b = append(b, alphabet[r.IntN(len(alphabet))])
	}
	return b
}

func randomString(r *rand.Rand, alphabet string, n int) string {
	return string(appendRandom(make([]byte, 0, n), r, alphabet, n))
}

// appendHex appends n random lowercase hex digits.
func appendHex(b []byte, r *rand.Rand, n int) []byte {
	for n > 0 {
		v := r.Uint64()
		for i := 0; i < 16 && n > 0; i++ {
			b = append(b, hexDigits[v&0xf])
			v >>= 4
			n--
		}
	}
	return b
}

func randomHex(r *rand.Rand, n int) string { return string(appendHex(make([]byte, 0, n), r, n)) }

// accessKeyID returns a random access key id with the given prefix (AKIA, ASIA).
func accessKeyID(r *rand.Rand, prefix string) string {
	return prefix + randomString(r, base32Key, 16)
}

// uniqueID returns a random IAM unique id (AIDA…, AROA…, AGPA…, ANPA…, AIPA…).
func uniqueID(r *rand.Rand, prefix string) string {
	return prefix + randomString(r, base32Key, 17)
}
