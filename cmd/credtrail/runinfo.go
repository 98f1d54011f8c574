package main

import (
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/credtrail/credtrail/ingest"
)

// commit is the commit credtrail was built from; set with
// -ldflags "-X main.commit=..." or read from Go's build information.
var commit = ""

// runInfo says what runs an ingest, for the case's ingest_runs log.
func (s *streams) runInfo() ingest.RunInfo {
	c := commit
	if info, ok := debug.ReadBuildInfo(); ok && c == "" {
		var modified bool
		for _, kv := range info.Settings {
			switch kv.Key {
			case "vcs.revision":
				c = kv.Value
			case "vcs.modified":
				modified = kv.Value == "true"
			}
		}
		if c != "" && modified {
			c += "+modified"
		}
	}
	words := []string{"credtrail"}
	for _, a := range s.args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`;&|<>()*?") {
			a = strconv.Quote(a)
		}
		words = append(words, a)
	}
	return ingest.RunInfo{Version: version, Commit: c, CommandLine: strings.Join(words, " ")}
}
