//go:build unix

package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
)

// writeFIFO makes a named pipe that a goroutine writes body into once; every
// later reader finds a writer that writes nothing, as a second read of
// <(cat x.json) does.
func writeFIFO(t *testing.T, name string, body []byte) {
	t.Helper()
	if err := syscall.Mkfifo(name, 0o600); err != nil {
		t.Skip("no named pipes here:", err)
	}
	var stop atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		for first := true; ; first = false {
			f, err := os.OpenFile(name, os.O_WRONLY, 0) // waits for a reader
			if err != nil {
				return
			}
			if first {
				f.Write(body)
			}
			f.Close()
			if stop.Load() {
				return
			}
		}
	}()
	t.Cleanup(func() {
		stop.Store(true)
		// A reader that gives up at once frees the writer waiting for one.
		if r, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
			r.Close()
		}
		<-done
	})
}

// A pipe given as evidence is read once: its hash and its records are of the
// same bytes, and the real file given after it is a duplicate of them.
func TestPipeIsReadOnce(t *testing.T) {
	c := openTestCase(t)
	body, err := os.ReadFile(filepath.Join(fixtureDir, "shapes", "array.json"))
	if err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(t.TempDir(), "63")
	writeFIFO(t, fifo, body)
	o := ingestPaths(t, c, fifo)[0]
	if o.Status != StatusLoaded || o.Records != 2 {
		t.Fatalf("pipe: %+v, want loaded with 2 records", o)
	}
	sum := sha256.Sum256(body)
	if n := queryInt(t, c.DB, "select count(*) from evidence_files where path = ? and sha256 = ? and bytes = ?", fifo, hex.EncodeToString(sum[:]), len(body)); n != 1 {
		t.Error("the pipe's evidence row does not hold the hash and size of what it carried")
	}
	if n := queryInt(t, c.DB, "select count(*) from events e join evidence_files f using (file_id) where f.path = ?", fifo); n != 2 {
		t.Errorf("events from the pipe: %d, want 2", n)
	}
}

// <(cat x.json) is not a named pipe on disk but /dev/fd/63, a link to an
// anonymous pipe ("pipe:[205792]") that no path resolves to: it is read once
// too, under the name the user gave.
func TestAnonymousPipeIsReadOnce(t *testing.T) {
	body, err := os.ReadFile(filepath.Join(fixtureDir, "shapes", "array.json"))
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	name := fmt.Sprintf("/dev/fd/%d", r.Fd())
	if info, err := os.Stat(name); err != nil || info.Mode()&fs.ModeNamedPipe == 0 {
		t.Skip("no /dev/fd pipes here")
	}
	go func() {
		w.Write(body)
		w.Close()
	}()
	c := openTestCase(t)
	o := ingestPaths(t, c, name)[0]
	if o.Status != StatusLoaded || o.Records != 2 {
		t.Fatalf("%s: %+v, want loaded with 2 records", name, o)
	}
	sum := sha256.Sum256(body)
	if n := queryInt(t, c.DB, "select count(*) from evidence_files where path = ? and sha256 = ?", name, hex.EncodeToString(sum[:])); n != 1 {
		t.Error("the pipe's evidence row does not hold its name and the hash of what it carried")
	}
}

// A pipe or device inside a walked folder is refused with a reason, not
// opened (it could block the run); a device named on the command line is
// refused too.
func TestPipeInAFolderIsRefused(t *testing.T) {
	c := openTestCase(t)
	dir := copyTree(t, filepath.Join(fixtureDir, "shapes"))
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe.json"), 0o600); err != nil {
		t.Skip("no named pipes here:", err)
	}
	outcomes := ingestPaths(t, c, dir, os.DevNull)
	if o := outcomeOf(t, outcomes, "pipe.json"); o.Status != StatusRejected || !strings.Contains(o.Error, "named pipe") {
		t.Errorf("pipe in a folder: %+v, want rejected as a named pipe", o)
	}
	if o := outcomeOf(t, outcomes, os.DevNull); o.Status != StatusRejected || !strings.Contains(o.Error, "device") {
		t.Errorf("%s: %+v, want rejected as a device", os.DevNull, o)
	}
	if o := outcomeOf(t, outcomes, "array.json"); o.Status != StatusLoaded {
		t.Errorf("the folder's files: %+v", o)
	}
}
