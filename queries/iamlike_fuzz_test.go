package queries

import (
	"database/sql"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"
)

// globMatch is a reference IAM wildcard matcher: case-insensitive, * any
// run of characters, ? exactly one, everything else literal.
func globMatch(action, pattern string) bool {
	a, p := []rune(strings.ToLower(action)), []rune(strings.ToLower(pattern))
	// match[i][j]: a[i:] matches p[j:]
	match := make([][]bool, len(a)+1)
	for i := range match {
		match[i] = make([]bool, len(p)+1)
	}
	match[len(a)][len(p)] = true
	for i := len(a); i >= 0; i-- {
		for j := len(p) - 1; j >= 0; j-- {
			switch {
			case p[j] == '*':
				match[i][j] = match[i][j+1] || (i < len(a) && match[i+1][j])
			case i < len(a) && (p[j] == '?' || p[j] == a[i]):
				match[i][j] = match[i+1][j+1]
			}
		}
	}
	return match[0][0]
}

// FuzzIAMLike checks the SQL macro iam_like, through which every rule and
// the unused-permissions analysis compare an action with a policy's Action
// pattern, against globMatch. Patterns come from evidence (policy
// documents): LIKE's own wildcards (% _) and the escape character must stay
// literal.
func FuzzIAMLike(f *testing.F) {
	for _, s := range [][2]string{
		{"s3:GetObject", "s3:Get*"}, {"s3:GetObject", "S3:GETOBJECT"}, {"iam:PassRole", "iam:*Role"},
		{"ec2:RunInstances", "ec2:Run?nstances"}, {"s3:Get_Object", "s3:Get%"}, {"s3:GetObject", "s3:Get_bject"},
		{`s3:Get\Object`, `s3:Get\*`}, {"a", "*"}, {"", "*"}, {"kms:Decrypt", "*:*"}, {"s3:x", "s3:?"},
	} {
		f.Add(s[0], s[1])
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		f.Fatal(err)
	}
	db.SetMaxOpenConns(1) // temp macros live in one connection
	f.Cleanup(func() { db.Close() })
	for _, m := range macros {
		if strings.Contains(m, "macro iam_pattern(") || strings.Contains(m, "macro iam_like(") {
			if _, err := db.Exec(m); err != nil {
				f.Fatal(err)
			}
		}
	}
	f.Fuzz(func(t *testing.T, action, pattern string) {
		for _, s := range []string{action, pattern} {
			for _, r := range s {
				if r == 0 || r > 0x7e {
					return // IAM names are printable ASCII; lower() of other scripts differs by library
				}
			}
		}
		var got bool
		if err := db.QueryRow("select iam_like(?, ?)", action, pattern).Scan(&got); err != nil {
			t.Fatalf("iam_like(%q, %q): %v", action, pattern, err)
		}
		if want := globMatch(action, pattern); got != want {
			t.Fatalf("iam_like(%q, %q) = %v, want %v", action, pattern, got, want)
		}
	})
}
