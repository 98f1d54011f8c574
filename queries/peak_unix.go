//go:build unix

package queries

import (
	"runtime"
	"syscall"
)

// peakMiB is the process's peak resident memory so far, in MiB, for the
// debug log of a run's steps: the step after which it rose is the one that
// needed the memory.
func peakMiB() int64 {
	var u syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &u) != nil {
		return 0
	}
	if runtime.GOOS == "darwin" {
		return u.Maxrss >> 20 // bytes there, KiB elsewhere
	}
	return u.Maxrss >> 10
}
