package report

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/xuri/excelize/v2"
)

// Temporary files carry the id of the process writing them: a run removes
// those that a killed run left (its process no longer exists) before it
// makes its own, and never those of a run still writing.

// createTemp creates a temporary file prefix+PID+"-"+random in dir, after
// removing the ones of that prefix left by processes that are gone.
func createTemp(dir, prefix string) (*os.File, error) {
	removeStaleTemps(dir, prefix)
	return os.CreateTemp(dir, prefix+strconv.Itoa(os.Getpid())+"-*")
}

func removeStaleTemps(dir, prefix string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		pidText, _, ok := strings.Cut(strings.TrimPrefix(e.Name(), prefix), "-")
		if !ok || !strings.HasPrefix(e.Name(), prefix) || !e.Type().IsRegular() {
			continue
		}
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid <= 0 || pid == os.Getpid() || processExists(pid) {
			continue
		}
		os.Remove(filepath.Join(dir, e.Name()))
	}
}

// processExists says whether a process of that id runs (signal 0 checks
// without sending anything; EPERM: it runs as another user).
func processExists(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}

// tempPrefix is the prefix of the temporary files of an output path:
// hidden, beside it, so that the rename into place stays on one file system.
func tempPrefix(path string) string { return "." + filepath.Base(path) + ".tmp-" }

// outputError says why an output file cannot be made in its folder, naming
// the user's path rather than the temporary file's.
func outputError(path string, err error) error {
	dir := filepath.Dir(path)
	info, statErr := os.Stat(dir)
	switch {
	case errors.Is(statErr, fs.ErrNotExist):
		return fmt.Errorf("cannot write %s: folder %s does not exist", path, dir)
	case statErr == nil && !info.IsDir():
		return fmt.Errorf("cannot write %s: %s is not a folder", path, dir)
	}
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		err = pe.Err
	case errors.As(err, &le):
		err = le.Err
	}
	return fmt.Errorf("cannot write %s: %w", path, err)
}

// writeNormalised saves a workbook to w by way of a temporary file, not
// memory: a large book stays on disk until it is normalised into w.
func writeNormalised(f *excelize.File, w io.Writer) error {
	tmp, err := createTemp(os.TempDir(), "credtrail-workbook-")
	if err != nil {
		return fmt.Errorf("temporary workbook: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if err := f.Write(tmp); err != nil {
		return fmt.Errorf("write workbook: %w", err)
	}
	size, err := tmp.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	return normaliseZip(tmp, size, w)
}
