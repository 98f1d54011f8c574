//go:build unix

package ingest

import (
	"errors"
	"syscall"
)

// processRuns says whether a process with this ID exists (it may belong to
// another user); only a process known to be gone gives false.
func processRuns(pid int) bool {
	return !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}
