package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/credtrail/credtrail/ingest"
)

// isTerminal says whether w is a terminal; tests replace it.
var isTerminal = func(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// statusDelay is how long a command runs before it shows what it is doing:
// a quick one stays quiet. Tests set it to 0.
var statusDelay = time.Second

// statusLine shows what a long command is doing on one line of stderr,
// redrawn in place, when stderr is a terminal; elsewhere it shows nothing.
// Nothing shows in a command's first statusDelay: then the latest status is
// drawn, so a step that began before and still runs is shown.
type statusLine struct {
	w  io.Writer
	on bool

	mu          sync.Mutex
	shown       bool
	pending     string
	timer       *time.Timer
	start, last time.Time
}

const (
	statusWidth    = 79 // fits an 80-column terminal: a longer line would wrap and break the redraw
	statusInterval = 100 * time.Millisecond
)

func newStatusLine(w io.Writer) *statusLine {
	return &statusLine{w: w, on: isTerminal(w), start: time.Now()}
}

// show draws text in place of the line before. A new step is forced; the
// counts of one step are drawn at most every statusInterval.
func (l *statusLine) show(text string, force bool) {
	if !l.on {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if wait := statusDelay - now.Sub(l.start); wait > 0 {
		l.pending = text
		if l.timer == nil {
			l.timer = time.AfterFunc(wait, l.drawPending)
		}
		return
	}
	if !force && l.shown && now.Sub(l.last) < statusInterval {
		return
	}
	l.draw(text, now)
}

func (l *statusLine) drawPending() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pending != "" {
		l.draw(l.pending, time.Now())
	}
}

func (l *statusLine) draw(text string, now time.Time) {
	if utf8.RuneCountInString(text) > statusWidth {
		text = string([]rune(text)[:statusWidth-1]) + "…"
	}
	fmt.Fprintf(l.w, "\r\x1b[K%s", text)
	l.shown, l.last, l.pending = true, now, ""
}

// done clears the line, leaving the terminal as it was for what follows.
func (l *statusLine) done() {
	if !l.on {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
	l.pending = ""
	if l.shown {
		fmt.Fprint(l.w, "\r\x1b[K")
		l.shown = false
	}
}

// ingestProgress draws an ingest's progress: by bytes, files and records,
// and what a long CloudTrail batch is loading.
func ingestProgress(l *statusLine) func(ingest.Progress) {
	return func(p ingest.Progress) {
		l.show(ingestStatus(p), p.BatchFiles > 0)
	}
}

func ingestStatus(p ingest.Progress) string {
	if p.Stage == ingest.StageReading {
		return fmt.Sprintf("ingest: reading %d of %d files, %s", p.FilesDone, p.Files, sizeText(p.BytesDone))
	}
	pct := 100
	if p.Bytes > 0 {
		pct = int(p.BytesDone * 100 / p.Bytes)
	}
	text := fmt.Sprintf("ingest %d%% of %s, %d records", pct, sizeText(p.Bytes), p.Records)
	if p.BatchFiles > 0 {
		return text + fmt.Sprintf("; loading %d files, %s", p.BatchFiles, sizeText(p.BatchBytes))
	}
	return text + fmt.Sprintf(", %d of %d files", p.FilesDone, p.Files)
}

// sizeText is a size for people: 512.0 MB, 1.2 GB.
func sizeText(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}

// stepProgress shows the steps of a command, "analyze: 3 of 80: rule
// root_access_key_active", one line replacing the one before.
func stepProgress(l *statusLine, command string) func(step, steps int, what string) {
	return func(step, steps int, what string) {
		l.show(fmt.Sprintf("%s: %d of %d: %s", command, step, steps, what), true)
	}
}
