# Reads `go test -v` output followed by a line "go-test-exit N" and prints
# what `go test` without -v would (package results, the output of failing
# tests), then the tests that skipped with their reasons. Exits N.
/^=== (RUN|CONT|NAME|PAUSE) / { cur = $3; next }
/^go-test-exit / { code = $2; next }
/^ *--- SKIP: / { skipped[++n] = $3 ": " (($3 in why) ? why[$3] : "(no reason given)"); delete out[$3]; next }
/^ *--- PASS: / { delete out[$3]; next }
/^ *--- FAIL: / { printf "%s", out[$3]; print; delete out[$3]; next }
/^(PASS|FAIL)$/ { next }
/^ok  / { print; cur = ""; split("", out); next }
/^\?   / { print; next }
/^FAIL\t/ { for (t in out) printf "%s", out[t]; split("", out); print; cur = ""; next }
{
	if (cur == "") { print; next }
	out[cur] = out[cur] $0 "\n"
	if (!(cur in why) && match($0, /^ +[^ :]+\.go:[0-9]+: /)) why[cur] = substr($0, RLENGTH + 1)
}
END {
	if (n) {
		print "skipped " n " test(s): they need what this machine lacks (the public corpus, LibreOffice, ...) or skip under -short"
		for (i = 1; i <= n; i++) print "  " skipped[i]
	}
	exit code
}
