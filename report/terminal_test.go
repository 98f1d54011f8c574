package report

import "testing"

func TestTerminalText(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"plain text", 0, "plain text"},
		{"ESC \x1b[2J BEL \a DEL \x7f", 0, `ESC \u001b[2J BEL \u0007 DEL \u007f`},
		{"C1 CSI \u009b31m NEL \u0085", 0, `C1 CSI \u009b31m NEL \u0085`},
		{"line\u2028para\u2029", 0, `line\u2028para\u2029`},
		{"bidi \u202egnp.exe \u2066x\u2069 \u200f", 0, `bidi \u202egnp.exe \u2066x\u2069 \u200f`},
		{"zero\u200bwidth\ufeff", 0, `zero\u200bwidth\ufeff`},
		{"bad \xff byte", 0, "bad \ufffd byte"},
		{"12345", 5, "12345"},
		{"123456", 5, "1234…"},
		{"\x1b\x1b\x1b", 2, `\u001b…`},
		{"ünïcödé ok", 0, "ünïcödé ok"},
	}
	for _, tc := range tests {
		if got := TerminalText(tc.in, tc.max); got != tc.want {
			t.Errorf("TerminalText(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
	if got, want := TerminalLines("one\x1b\ntwo\r\n"), "one\\u001b\ntwo\\u000d\n"; got != want {
		t.Errorf("TerminalLines = %q, want %q", got, want)
	}
}
