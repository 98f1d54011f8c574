package ingest

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// input is one file of evidence: a file named on the command line, found in
// a folder, or an entry of a bundle (unpacked into a private temporary folder).
type input struct {
	display string // path as given; a bundle entry is "bundle.tgz!dir/entry"
	local   string // the file to read
	reject  string // set when the file is refused before it is read (unsafe bundle entry)
	pipe    bool   // a pipe given on the command line: read once into the scratch folder
	parent  *input // the bundle an entry comes from; nil for a file named or found in a folder
	depth   int    // bundles it lies in: 0 for a file given or found in a folder

	// Filled by prepare.
	sha256 string
	size   int64
	tail   [4]byte // the last bytes: a gzip file's trailer ends with its body size
	sniff  sniffed
	err    error // the file could not be read at all
}

// displayName makes a file or bundle entry name text: names are bytes on
// disk and in bundles, but a case stores text (DuckDB refuses a string that
// is not UTF-8), so each byte that is not part of valid UTF-8 is written
// as \xNN. The file itself is read by its real name.
func displayName(name string) string {
	if utf8.ValidString(name) {
		return name
	}
	var b strings.Builder
	for i := 0; i < len(name); {
		r, size := utf8.DecodeRuneInString(name[i:])
		if r == utf8.RuneError && size == 1 {
			fmt.Fprintf(&b, "\\x%02x", name[i])
		} else {
			b.WriteString(name[i : i+size])
		}
		i += size
	}
	return b.String()
}

// scratch is the private temporary folder for unpacked bundles and
// converted bodies. It never sits beside the evidence and is removed after use.
type scratch struct {
	dir string
	mu  sync.Mutex
	n   int
}

// scratchPrefix starts the name of a scratch folder, followed by the ID of
// the process that owns it: "credtrail-scratch-<pid>-<random>".
const scratchPrefix = "credtrail-scratch-"

// newScratch creates the run's scratch folder under the temporary folder,
// first removing those that runs killed before they could clean up left
// there (the process named in the folder's name is gone).
func newScratch(log *slog.Logger) (*scratch, error) {
	removeStaleScratch(log)
	dir, err := os.MkdirTemp("", scratchPrefix+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return nil, fmt.Errorf("create temporary folder: %w", err)
	}
	return &scratch{dir: dir}, nil
}

// removeStaleScratch removes the scratch folders under the temporary folder
// whose owning process no longer runs. A folder it cannot judge is left.
func removeStaleScratch(log *slog.Logger) {
	for _, dir := range staleScratch() {
		if err := os.RemoveAll(dir); err != nil {
			log.Warn("remove a scratch folder left by a stopped run", "dir", dir, "err", err)
			continue
		}
		log.Info("removed a scratch folder left by a stopped run", "dir", dir)
	}
}

// staleScratch lists the scratch folders under the temporary folder whose
// owning process no longer runs.
func staleScratch() []string {
	tmp := os.TempDir()
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return nil
	}
	var stale []string
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), scratchPrefix)
		if !ok || !e.IsDir() {
			continue
		}
		pidText, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid <= 0 || pid == os.Getpid() || processRuns(pid) {
			continue
		}
		stale = append(stale, filepath.Join(tmp, e.Name()))
	}
	return stale
}

// file returns the path of a new file in the scratch folder.
func (s *scratch) file(suffix string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	return filepath.Join(s.dir, strconv.Itoa(s.n)+suffix)
}

func (s *scratch) remove() error { return os.RemoveAll(s.dir) }

// collect expands the paths given by the user into files. Folders are walked
// in lexical order; nothing is followed outside them: a link in a walked
// folder to a file outside every path given is recorded as rejected, never
// read. A path that does not exist is an error: it is a mistake on the
// command line, not bad evidence.
func collect(paths []string) ([]*input, error) {
	// roots are the paths given, with links resolved: what a link may point
	// into. <(cat x.json) is /dev/fd/63, a link to an anonymous pipe that no
	// path resolves to: a path that exists but does not resolve stays as given.
	roots := make([]string, len(paths))
	for i, p := range paths {
		root, err := filepath.EvalSymlinks(p)
		if err != nil {
			if _, serr := os.Stat(p); serr != nil {
				return nil, fmt.Errorf("evidence path: %w", serr)
			}
			root = p
		}
		roots[i] = root
	}
	var out []*input
	for i, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("evidence path: %w", err)
		}
		if !info.IsDir() {
			in := &input{display: displayName(p), local: p}
			switch {
			case info.Mode()&fs.ModeNamedPipe != 0:
				in.pipe = true // <(cat x.json), /dev/stdin: read once, see readPipes
			case !info.Mode().IsRegular():
				in.reject = notRegular(info.Mode())
			}
			out = append(out, in)
			continue
		}
		// A folder given as a symbolic link is walked where it points;
		// its files keep the name the user gave.
		root := roots[i]
		err = filepath.WalkDir(root, func(name string, d fs.DirEntry, err error) error {
			if err != nil {
				return fmt.Errorf("walk %s: %w", name, err)
			}
			if d.IsDir() {
				return nil
			}
			rel, err := filepath.Rel(root, name)
			if err != nil {
				return err
			}
			in := &input{display: displayName(filepath.Join(p, rel)), local: name}
			if !d.Type().IsRegular() && d.Type()&fs.ModeSymlink == 0 {
				// A pipe or device found in a folder is not opened: it
				// could block the run or never end.
				in.reject = notRegular(d.Type())
				out = append(out, in)
				return nil
			}
			if d.Type()&fs.ModeSymlink != 0 {
				target, err := filepath.EvalSymlinks(name)
				switch {
				case err != nil:
					in.reject = "link to nothing readable"
				case !slices.ContainsFunc(roots, func(r string) bool { return within(target, r) }):
					in.reject = "link outside the evidence"
				case !isRegularFile(target):
					return nil // a folder inside the evidence is walked where it lies
				default:
					in.local = target
				}
			}
			out = append(out, in)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// notRegular is the reason a file that is not a regular file is refused.
func notRegular(mode fs.FileMode) string {
	switch {
	case mode&fs.ModeNamedPipe != 0:
		return "a named pipe found in a folder, not a file: give it on the command line to read it"
	case mode&fs.ModeDevice != 0:
		return "a device, not a file"
	case mode&fs.ModeSocket != 0:
		return "a socket, not a file"
	}
	return "not a regular file"
}

// readPipes reads each input that is a pipe (given on the command line as
// <(cat x.json) or /dev/stdin) once, into the scratch folder: it is then
// hashed and loaded from that copy, as its bytes cannot be read twice. A
// failure to write the copy stops the run.
func readPipes(inputs []*input, sc *scratch) error {
	for _, in := range inputs {
		if !in.pipe {
			continue
		}
		f, err := openEvidence(in.local)
		if err != nil {
			in.err = err
			continue
		}
		local, err := copyToScratch(f, sc)
		f.Close()
		switch {
		case isScratchError(err):
			return fmt.Errorf("copy %s into %s: %w", in.display, sc.dir, err)
		case err != nil:
			in.err = fmt.Errorf("read: %w", err)
		default:
			in.local = local
		}
	}
	return nil
}

// within says whether path is root or lies under it; both are resolved paths.
func within(path, root string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// prepare hashes and sniffs inputs, using up to workers goroutines, and
// calls done after each (from the goroutine that prepared it).
func prepare(ctx context.Context, inputs []*input, workers int, done func(*input)) {
	buffers := make([]prepareBuffers, max(workers, 1))
	parallel(ctx, len(inputs), workers, func(w, i int) {
		prepareOne(inputs[i], &buffers[w])
		done(inputs[i])
	})
}

// parallel calls work(w, i) for every i in [0, n) on up to workers
// goroutines, w being the goroutine's number in [0, workers). It stops
// handing out work when ctx is done and returns when the work handed out is.
func parallel(ctx context.Context, n, workers int, work func(w, i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for w := range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				work(w, i)
			}
		}()
	}
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
}

// keptFileBytes bounds the files prepareOne keeps in memory while hashing
// them, to sniff their content without opening and reading them again.
const keptFileBytes = 1 << 20

// prepareBuffers are one preparing goroutine's reusable buffers.
type prepareBuffers struct {
	chunk []byte
	kept  []byte
	zr    *gzip.Reader
}

// prepareOne hashes a file and sniffs its kind. A small file (most CloudTrail
// files are 10-100 KB) is read once, and sniffed from memory; opening it a
// second time and a new gzip reader per file were half the cost of preparing
// a CloudTrail archive.
func prepareOne(in *input, pb *prepareBuffers) {
	if in.reject != "" {
		return
	}
	f, err := openEvidence(in.local)
	if err != nil {
		in.err = err
		return
	}
	if pb.chunk == nil {
		pb.chunk = make([]byte, 256<<10)
	}
	h := sha256.New()
	pb.kept = pb.kept[:0]
	keep := true
	var n int64
	for {
		k, rerr := f.Read(pb.chunk)
		h.Write(pb.chunk[:k])
		n += int64(k)
		for _, b := range pb.chunk[max(k-len(in.tail), 0):k] {
			copy(in.tail[:], in.tail[1:])
			in.tail[len(in.tail)-1] = b
		}
		if keep && n <= keptFileBytes {
			pb.kept = append(pb.kept, pb.chunk[:k]...)
		} else {
			keep = false
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			f.Close()
			in.err = fmt.Errorf("read: %w", rerr)
			return
		}
	}
	f.Close()
	in.size = n
	in.sha256 = hex.EncodeToString(h.Sum(nil))
	if !keep {
		in.sniff, in.err = sniffFile(in.local)
		return
	}
	if pb.zr == nil {
		pb.zr = new(gzip.Reader)
	}
	in.sniff, in.err = sniffContent(bytes.NewReader(pb.kept), pb.zr)
}

// maxBundleEntries bounds what one bundle may unpack, against archive bombs.
const maxBundleEntries = 1_000_000

// UnpackLimits bound what bundles unpack: a small archive can hold
// terabytes (a gzip or zip of zeros unpacks to about 1,000 times its size,
// and bundles nested in bundles multiply that).
type UnpackLimits struct {
	MaxBytes int64 // bytes the bundles of one run unpack to, together
	MaxRatio int64 // bytes one bundle unpacks to, per byte of the bundle
	MaxDepth int   // bundles inside bundles: 1 unpacks only the bundles found as files
}

// DefaultUnpackLimits pass real exports with room to spare: a tar.gz of
// uncompressed CloudTrail JSON (the sample case's) unpacks to 8.6 times its
// size, a tar.gz of CloudTrail's own .json.gz files to 1.5 times, and an
// organization's export is tens of GB.
var DefaultUnpackLimits = UnpackLimits{MaxBytes: 64 << 30, MaxRatio: 200, MaxDepth: 4}

// unpacker unpacks the bundles of one run into its scratch folder within
// its limits.
type unpacker struct {
	sc     *scratch
	limits UnpackLimits
	total  int64 // bytes unpacked so far
}

func newUnpacker(sc *scratch, limits UnpackLimits) *unpacker {
	d := DefaultUnpackLimits
	if limits.MaxBytes > 0 {
		d.MaxBytes = limits.MaxBytes
	}
	if limits.MaxRatio > 0 {
		d.MaxRatio = limits.MaxRatio
	}
	if limits.MaxDepth > 0 {
		d.MaxDepth = limits.MaxDepth
	}
	return &unpacker{sc: sc, limits: d}
}

// tooDeep says why a bundle lies too deep in bundles to be unpacked, or nil.
func (u *unpacker) tooDeep(in *input) error {
	if in.depth < u.limits.MaxDepth {
		return nil
	}
	return &limitError{fmt.Sprintf("a bundle inside %d bundles is not unpacked (--max-bundle-depth)", in.depth)}
}

// limitError is a bundle passing an unpack limit.
type limitError struct{ msg string }

func (e *limitError) Error() string { return e.msg }

func isLimitError(err error) bool {
	var le *limitError
	return errors.As(err, &le)
}

// budgetReader reads a bundle's decompressed content (a tar stream, a zip
// entry) and fails once the bundle passes its share of the limits. It
// counts what is read, not only what is written: entries skipped are
// decompressed too.
type budgetReader struct {
	r        io.Reader
	u        *unpacker
	n, ratio int64 // bytes read; bytes the bundle may unpack to
}

func (u *unpacker) budget(r io.Reader, bundle *input) *budgetReader {
	return &budgetReader{r: r, u: u, ratio: u.limits.MaxRatio * max(bundle.size, 1)}
}

func (b *budgetReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.n += int64(n)
	b.u.total += int64(n)
	switch {
	case b.n > b.ratio:
		return n, &limitError{fmt.Sprintf("unpacks to more than %d times its size (--max-unpack-ratio)", b.u.limits.MaxRatio)}
	case b.u.total > b.u.limits.MaxBytes:
		return n, &limitError{fmt.Sprintf("the bundles of this run unpack to more than %d GiB (--max-unpack-gib)", b.u.limits.MaxBytes>>30)}
	}
	return n, err
}

// unpack extracts a bundle's regular files into the scratch folder and
// returns them as inputs named "bundle!entry". Entries that are links, have
// absolute names or climb out with ".." are returned as rejected inputs. A
// bundle that passes a limit stops there: the entry being unpacked is
// rejected and the error says which limit.
func (u *unpacker) unpack(in *input) ([]*input, error) {
	if err := u.tooDeep(in); err != nil {
		return nil, err
	}
	if in.sniff.format == formatZip {
		return u.unpackZip(in)
	}
	f, err := openEvidence(in.local)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if in.sniff.gzipped {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		defer zr.Close()
		r = zr
	}
	tr := tar.NewReader(u.budget(r, in))
	var out []*input
	for len(out) < maxBundleEntries {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("tar: %w", err)
		}
		entry := &input{display: in.display + "!" + displayName(h.Name), depth: in.depth + 1}
		switch h.Typeflag {
		case tar.TypeDir, tar.TypeXGlobalHeader:
			continue
		case tar.TypeReg:
			if reason := unsafeEntryName(h.Name); reason != "" {
				entry.reject = reason
			} else if entry.local, err = copyToScratch(tr, u.sc); err != nil {
				if isScratchError(err) {
					return out, err
				}
				if isLimitError(err) {
					entry.reject = "bundle entry not unpacked: the bundle " + err.Error()
					return append(out, entry), err
				}
				// The entry is named, rejected, and the rest of the
				// bundle is lost with it: a tar is read in order.
				entry.reject = "bundle ends inside this entry: " + err.Error()
				return append(out, entry), fmt.Errorf("%s: %w", h.Name, err)
			}
		case tar.TypeSymlink, tar.TypeLink:
			entry.reject = "bundle entry is a link (to " + strconv.Quote(h.Linkname) + ")"
		default:
			entry.reject = fmt.Sprintf("bundle entry is not a regular file (tar type %q)", h.Typeflag)
		}
		out = append(out, entry)
	}
	return out, fmt.Errorf("more than %d entries", maxBundleEntries)
}

func (u *unpacker) unpackZip(in *input) ([]*input, error) {
	f, err := openEvidence(in.local)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	zr, err := zip.NewReader(f, info.Size())
	if err != nil {
		return nil, fmt.Errorf("zip: %w", err)
	}
	var out []*input
	budget := u.budget(nil, in) // one for the bundle, read entry by entry
	for _, zf := range zr.File {
		mode := zf.Mode()
		if mode.IsDir() {
			continue
		}
		entry := &input{display: in.display + "!" + displayName(zf.Name), depth: in.depth + 1}
		switch {
		case mode&fs.ModeSymlink != 0:
			entry.reject = "bundle entry is a link"
		case !mode.IsRegular():
			entry.reject = "bundle entry is not a regular file"
		case unsafeEntryName(zf.Name) != "":
			entry.reject = unsafeEntryName(zf.Name)
		default:
			// A zip entry is read on its own: a corrupt one is
			// rejected and the next ones are still read.
			rc, err := zf.Open()
			if err != nil {
				entry.reject = "cannot read bundle entry: " + err.Error()
				break
			}
			budget.r = rc
			entry.local, err = copyToScratch(budget, u.sc)
			rc.Close()
			switch {
			case isScratchError(err):
				return out, err
			case isLimitError(err):
				entry.reject = "bundle entry not unpacked: the bundle " + err.Error()
				return append(out, entry), err
			case err != nil:
				entry.local, entry.reject = "", "cannot read bundle entry: "+err.Error()
			}
		}
		out = append(out, entry)
	}
	return out, nil
}

// unsafeEntryName says why a bundle entry name must not be used, or "".
func unsafeEntryName(name string) string {
	n := strings.ReplaceAll(name, `\`, "/")
	switch {
	case strings.HasPrefix(n, "/") || filepath.IsAbs(name) || (len(n) > 1 && n[1] == ':'):
		return "bundle entry has an absolute name"
	case slices.Contains(strings.Split(n, "/"), ".."):
		return `bundle entry name contains ".."`
	}
	return ""
}

// copyToScratch writes r to a new scratch file (never to the entry's own
// name). A failure to write is a *scratchError (the scratch disk is full: a
// failure of the run); any other error is one of reading r.
func copyToScratch(r io.Reader, sc *scratch) (string, error) {
	name := sc.file(".entry")
	f, err := createScratchFile(name)
	if err != nil {
		return "", &scratchError{err}
	}
	w := &scratchWriter{f: f}
	if _, err := io.Copy(w, r); err != nil {
		f.Close()
		os.Remove(name) // what was written of it is no evidence, and takes room
		if w.err != nil {
			return "", &scratchError{w.err}
		}
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", &scratchError{err}
	}
	return name, nil
}

// createScratchFile creates a new file in the scratch folder; a variable so
// that a test can make the scratch disk full.
var createScratchFile = func(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
}

// scratchWriter keeps the error of writing a scratch file apart from that of
// reading what is copied into it.
type scratchWriter struct {
	f   *os.File
	err error
}

func (w *scratchWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	if err != nil {
		w.err = err
	}
	return n, err
}

func isScratchError(err error) bool {
	var se *scratchError
	return errors.As(err, &se)
}

func isRegularFile(name string) bool {
	info, err := os.Stat(name)
	return err == nil && info.Mode().IsRegular()
}
