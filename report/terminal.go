package report

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// TerminalText makes text safe to print on a terminal. Evidence strings
// (CloudTrail fields, file and bundle entry names, account ids) are
// attacker-controlled: control characters (C0, DEL, C1: terminal escape
// sequences), line and paragraph separators and invisible format characters
// (bidi overrides and isolates, zero-width characters) are shown as \uXXXX,
// never sent; invalid UTF-8 is shown as U+FFFD. Text longer than max runes
// is cut to max-1 of them and "…"; max <= 0 keeps it whole. Every string
// from evidence that reaches a terminal goes through here.
func TerminalText(s string, max int) string {
	keep := -1
	if max > 0 && utf8.RuneCountInString(s) > max {
		keep = max - 1
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == keep {
			b.WriteString("…")
			break
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Bidi_Control, r) || unicode.Is(unicode.Cf, r) {
			fmt.Fprintf(&b, "\\u%04x", r)
		} else {
			b.WriteRune(r)
		}
		n++
	}
	return b.String()
}

// TerminalLines is TerminalText for a message of several lines (an error
// that quotes SQL, say): each line is escaped, the line breaks are kept.
func TerminalLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = TerminalText(l, 0)
	}
	return strings.Join(lines, "\n")
}
