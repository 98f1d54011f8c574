package ingest

import (
	"os"
	"path/filepath"
	"testing"
)

// corpusDir returns the shared corpus of real sample files (a shared/corpus
// folder in the working directory or one of its parents) or skips the test
// when there is none, as on a machine that only has the repository.
func corpusDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		candidate := filepath.Join(dir, "shared", "corpus")
		if fi, err := os.Stat(candidate); err == nil && fi.IsDir() {
			return candidate
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Skip("no shared/corpus folder above the working directory: corpus test skipped")
		}
		dir = parent
	}
}

// readCorpusFile reads one file of the corpus, by its MANIFEST.tsv path.
func readCorpusFile(tb testing.TB, rel string) []byte {
	tb.Helper()
	body, err := os.ReadFile(filepath.Join(corpusDir(tb), filepath.FromSlash(rel)))
	if err != nil {
		tb.Fatal(err)
	}
	return body
}
