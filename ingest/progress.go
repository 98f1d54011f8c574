package ingest

import "sync"

// Stages of an ingest, as Progress reports them.
const (
	StageReading = "reading" // hashing and sniffing the inputs, unpacking bundles
	StageLoading = "loading" // loading the files into the case
)

// Progress says how far an ingest has come. IngestOptions.Progress gets it
// after each file read or recorded, and before each statement that loads
// many files at once. Bytes are the sizes of the files as on disk; a
// bundle's bytes are counted as its entries while loading.
type Progress struct {
	Stage            string
	FilesDone, Files int // Files grows while reading, as bundles are unpacked
	BytesDone, Bytes int64
	Records          int64 // records read from the files loaded so far
	// The CloudTrail batch loading now, in one long statement; 0 between batches.
	BatchFiles int
	BatchBytes int64
}

// tracker sends Progress to the caller's function, one call at a time
// (files are read on several goroutines).
type tracker struct {
	mu sync.Mutex
	fn func(Progress)
	p  Progress
}

func (t *tracker) update(change func(*Progress)) {
	if t == nil || t.fn == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	change(&t.p)
	t.fn(t.p)
}
