//go:build !linux

package ingest

import "os"

// openEvidence opens a file for reading; only Linux can leave its access
// time alone (see noatime_linux.go).
func openEvidence(name string) (*os.File, error) { return os.Open(name) }
