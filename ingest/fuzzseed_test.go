package ingest

import (
	"os"
	"path/filepath"
	"testing"
)

// maxFuzzSeed bounds a seed file: large seeds slow every mutation.
const maxFuzzSeed = 64 << 10

// addFuzzSeeds adds the files matching patterns (testdata fixtures, and
// public corpus files where ../shared/corpus exists) as seeds, at most max
// of them per pattern.
func addFuzzSeeds(f *testing.F, max int, patterns ...string) {
	f.Helper()
	for _, pattern := range patterns {
		names, _ := filepath.Glob(pattern)
		n := 0
		for _, name := range names {
			if n >= max {
				break
			}
			info, err := os.Stat(name)
			if err != nil || !info.Mode().IsRegular() || info.Size() > maxFuzzSeed {
				continue
			}
			if b, err := os.ReadFile(name); err == nil {
				f.Add(b)
				n++
			}
		}
	}
}

// fuzzCorpus is the shared public corpus, read only.
const fuzzCorpus = "../../shared/corpus"
