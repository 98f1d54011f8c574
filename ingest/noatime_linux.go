package ingest

import (
	"errors"
	"os"
	"syscall"
)

// openEvidence opens a file for reading without updating its access time,
// so that reading evidence leaves its timestamps as they were. O_NOATIME is
// refused (EPERM) for a file the user neither owns nor has CAP_FOWNER over:
// that file is opened plainly.
func openEvidence(name string) (*os.File, error) {
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NOATIME, 0)
	if errors.Is(err, syscall.EPERM) {
		return os.Open(name)
	}
	return f, err
}
