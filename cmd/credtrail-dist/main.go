// Command credtrail-dist builds the release archives `make dist` writes: one
// archive per platform with the statically linked binary, the README, the
// licences of everything linked into it and a CycloneDX SBOM; a source
// archive with the modules vendored, which builds with no network; and
// SHA256SUMS over them all. Platforms whose C toolchain this machine lacks
// are skipped, and the summary says why.
package main

import (
	"bytes"
	"crypto/sha256"
	"debug/buildinfo"
	"debug/elf"
	"debug/pe"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed NOTICE.md
var notice []byte

func main() {
	version := flag.String("version", "dev", "version stamped into the binaries and the archive names")
	out := flag.String("out", "dist", "folder the archives are written to (emptied first)")
	targets := flag.String("targets", "linux/amd64,linux/arm64,windows/amd64,darwin/amd64,darwin/arm64", "platforms to build, GOOS/GOARCH, comma-separated")
	source := flag.Bool("source", true, "also write the source archive with vendored modules")
	flag.Parse()
	if err := run(*version, *out, strings.Split(*targets, ","), *source, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "credtrail-dist:", err)
		os.Exit(1)
	}
}

// module is one line of `go list -m -json all`.
type module struct {
	Path, Version, Dir string
	Main               bool
}

func run(version, out string, targets []string, source bool, stdout, stderr io.Writer) error {
	epoch, err := sourceEpoch()
	if err != nil {
		return err
	}
	mods, err := listModules()
	if err != nil {
		return err
	}
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	work := filepath.Join(out, ".work")
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		return err
	}
	var built, skipped []string
	for _, target := range targets {
		goos, goarch, ok := strings.Cut(strings.TrimSpace(target), "/")
		if !ok {
			return fmt.Errorf("target %q: want GOOS/GOARCH", target)
		}
		tc, why := toolchain(goos, goarch)
		if why != "" {
			skipped = append(skipped, fmt.Sprintf("%s/%s: %s", goos, goarch, why))
			continue
		}
		if tc.ucrt {
			if tc, err = adaptToUCRT(tc, filepath.Join(work, "ucrt")); err != nil {
				return err
			}
		}
		fmt.Fprintf(stderr, "credtrail-dist: building %s/%s with %s\n", goos, goarch, tc.cc)
		name := fmt.Sprintf("credtrail-%s-%s-%s", version, goos, goarch)
		exe := "credtrail"
		if goos == "windows" {
			exe += ".exe"
		}
		bin := filepath.Join(work, name, exe)
		if err := build(goos, goarch, tc, version, bin); err != nil {
			return err
		}
		static, err := isStatic(bin, goos)
		if err != nil {
			return err
		}
		bom, licences, err := describe(bin, mods, version, epoch)
		if err != nil {
			return err
		}
		files := []archiveFile{
			{name: exe, path: bin, mode: 0o755},
			{name: "README.md", body: readme},
			{name: "NOTICE.md", body: notice},
			{name: "credtrail.cdx.json", body: bom},
		}
		files = append(files, licences...)
		archive := name + ".tar.gz"
		if goos == "windows" {
			archive = name + ".zip"
		}
		if err := writeArchive(filepath.Join(out, archive), name, files, epoch); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(out, name+".cdx.json"), bom, 0o644); err != nil {
			return err
		}
		linked := "statically linked"
		switch {
		case static && goos == "windows":
			linked = "C and C++ runtime linked in; imports only Windows' own DLLs, UCRT among them"
		case !static:
			linked = "dynamically linked (the platform's system libraries)"
		}
		built = append(built, fmt.Sprintf("%s/%s: %s, %s", goos, goarch, archive, linked))
	}
	if source {
		name := "credtrail-" + version + "-src.tar.gz"
		if err := sourceArchive(filepath.Join(out, name), "credtrail-"+version, version, work, epoch); err != nil {
			return err
		}
		built = append(built, "source: "+name+" (modules vendored; builds with GOFLAGS=-mod=vendor GOPROXY=off)")
	}
	if err := os.RemoveAll(work); err != nil {
		return err
	}
	if err := writeSums(out); err != nil {
		return err
	}
	for _, b := range built {
		fmt.Fprintln(stdout, "built   ", b)
	}
	for _, s := range skipped {
		fmt.Fprintln(stdout, "skipped ", s)
	}
	fmt.Fprintf(stdout, "%s/SHA256SUMS: check with (cd %s && sha256sum -c SHA256SUMS)\n", out, out)
	return nil
}

// sourceEpoch is the time stamped on every archive entry and in the SBOM:
// SOURCE_DATE_EPOCH when set, else the last commit's time, so the same commit
// gives the same archives.
func sourceEpoch() (time.Time, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		b, err := exec.Command("git", "log", "-1", "--format=%ct").Output()
		if err != nil {
			return time.Time{}, fmt.Errorf("git log: %w (set SOURCE_DATE_EPOCH outside a git clone)", err)
		}
		s = strings.TrimSpace(string(b))
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("source date %q: %w", s, err)
	}
	return time.Unix(n, 0).UTC(), nil
}

func listModules() (map[string]module, error) {
	cmd := exec.Command("go", "list", "-m", "-json", "all")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	b, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list -m all: %w: %s", err, errb.String())
	}
	mods := map[string]module{}
	dec := json.NewDecoder(bytes.NewReader(b))
	for {
		var m module
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("go list -m all: %w", err)
		}
		mods[m.Path] = m
	}
	return mods, nil
}

type cToolchain struct {
	cc, cxx    string
	extldflags string // "" : the Go linker's default
	ucrt       bool   // an msvcrt mingw-w64 to adapt to UCRT first (ucrt.go)
}

// toolchain finds the C compilers for a platform, or says why it cannot.
func toolchain(goos, goarch string) (cToolchain, string) {
	host := runtime.GOOS + "/" + runtime.GOARCH
	var tc cToolchain
	switch goos + "/" + goarch {
	case "linux/amd64", "linux/arm64":
		prefix := map[string]string{"amd64": "x86_64-linux-gnu-", "arm64": "aarch64-linux-gnu-"}[goarch]
		tc = cToolchain{cc: prefix + "gcc", cxx: prefix + "g++", extldflags: "-static"}
		if goarch == "arm64" {
			// DuckDB's arm64 library is built for the small GOT model, which
			// a static glibc overflows ("too many GOT entries for -fpic"):
			// glibc stays dynamic, the C++ runtime is linked in.
			tc.extldflags = "-static-libstdc++ -static-libgcc"
		}
		if host == goos+"/"+goarch {
			tc.cc, tc.cxx = "gcc", "g++"
		}
	case "windows/amd64":
		// DuckDB's Windows library is built for the UCRT C runtime and POSIX
		// threads. A UCRT mingw-w64 (Debian 13's; not tried here) links it
		// as it is; Debian 12's, for msvcrt, fails to
		// (__stdio_common_vsnprintf_s and __imp___timezone undefined) until
		// adaptToUCRT points it at UCRT, and only in its POSIX-thread
		// variant (pthread_mutex_lock and std::thread undefined in the
		// win32 one).
		tc = cToolchain{cc: "x86_64-w64-mingw32ucrt-gcc", cxx: "x86_64-w64-mingw32ucrt-g++", extldflags: "-static"}
		if _, err := exec.LookPath(tc.cc); err != nil {
			tc = cToolchain{cc: "x86_64-w64-mingw32-gcc-posix", cxx: "x86_64-w64-mingw32-g++-posix", ucrt: true}
		}
	case "darwin/amd64", "darwin/arm64":
		if runtime.GOOS != "darwin" {
			return tc, "needs a macOS toolchain (Xcode's clang and the macOS SDK); built only on macOS"
		}
		tc = cToolchain{cc: "clang", cxx: "clang++"} // macOS links libSystem dynamically, always
	default:
		return tc, "no DuckDB static library for this platform"
	}
	for _, c := range []string{tc.cc, tc.cxx} {
		if _, err := exec.LookPath(c); err != nil {
			return tc, c + " not installed" + debianHint(goarch, goos)
		}
	}
	return tc, ""
}

func debianHint(goarch, goos string) string {
	switch {
	case goos == "windows":
		return " (Debian 12: apt-get install gcc-mingw-w64-x86-64-posix g++-mingw-w64-x86-64-posix)"
	case goarch == "arm64":
		return " (Debian: apt-get install gcc-aarch64-linux-gnu g++-aarch64-linux-gnu)"
	}
	return ""
}

// build compiles credtrail with cgo and DuckDB's static library. netgo and
// osusergo keep the C library's name service (which a static binary cannot
// load) out of Go's part. The Go build ID is left empty: it hashes the
// linker flags, which name files in the scratch folder for windows/amd64
// (adaptToUCRT), so the binary would depend on where -out points.
func build(goos, goarch string, tc cToolchain, version, bin string) error {
	ldflags := "-s -w -buildid= -X main.version=" + version
	if tc.extldflags != "" {
		ldflags += " -linkmode external -extldflags '" + tc.extldflags + "'"
	}
	cmd := exec.Command("go", "build", "-trimpath", "-tags", "netgo,osusergo", "-ldflags", ldflags, "-o", bin, "./cmd/credtrail")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1", "GOOS="+goos, "GOARCH="+goarch, "CC="+tc.cc, "CXX="+tc.cxx)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build %s/%s: %w\n%s", goos, goarch, err, lastLines(errb.String(), 30))
	}
	return nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// isStatic says whether an ELF binary needs no shared library, or a Windows
// one only the DLLs of Windows itself (none of mingw-w64's lib*.dll). A
// Windows binary that imports two C runtimes, msvcrt.dll and UCRT's
// api-ms-win-crt-*, is an error: they do not share the heap, files or errno.
func isStatic(bin, goos string) (bool, error) {
	switch goos {
	case "linux":
		f, err := elf.Open(bin)
		if err != nil {
			return false, err
		}
		defer f.Close()
		libs, err := f.ImportedLibraries()
		if err != nil {
			return false, err
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				return false, nil
			}
		}
		return len(libs) == 0, nil
	case "windows":
		f, err := pe.Open(bin)
		if err != nil {
			return false, err
		}
		defer f.Close()
		syms, err := f.ImportedSymbols() // "name:DLL"; ImportedLibraries is empty for PE
		if err != nil {
			return false, err
		}
		static, msvcrt, ucrt := true, false, false
		for _, sym := range syms {
			_, dll, _ := strings.Cut(sym, ":")
			dll = strings.ToLower(dll)
			static = static && !strings.HasPrefix(dll, "lib")
			msvcrt = msvcrt || dll == "msvcrt.dll"
			ucrt = ucrt || strings.HasPrefix(dll, "api-ms-win-crt-")
		}
		if msvcrt && ucrt {
			return false, fmt.Errorf("%s imports two C runtimes, msvcrt.dll and UCRT", bin)
		}
		return static, nil
	}
	return false, nil
}

// describe returns the SBOM of a built binary and the licence files of the
// modules (and Go's standard library) linked into it.
func describe(bin string, mods map[string]module, version string, epoch time.Time) ([]byte, []archiveFile, error) {
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		return nil, nil, fmt.Errorf("read build info of %s: %w", bin, err)
	}
	sum, err := fileSHA256(bin)
	if err != nil {
		return nil, nil, err
	}
	var files []archiveFile
	ids := map[string]string{}
	goLicence, err := licenceFiles(runtime.GOROOT(), "LICENSES/go")
	if err != nil {
		return nil, nil, err
	}
	files = append(files, goLicence...)
	for _, d := range info.Deps {
		m, ok := mods[d.Path]
		if !ok || m.Dir == "" {
			return nil, nil, fmt.Errorf("module %s %s is not in the module cache (go mod download)", d.Path, d.Version)
		}
		l, err := licenceFiles(m.Dir, "LICENSES/"+d.Path)
		if err != nil {
			return nil, nil, err
		}
		if len(l) == 0 {
			return nil, nil, fmt.Errorf("module %s %s has no licence file in %s", d.Path, d.Version, m.Dir)
		}
		files = append(files, l...)
		ids[d.Path] = licenceID(l)
	}
	bom, err := cycloneDX(info, ids, version, sum, epoch)
	return bom, files, err
}

func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// licenceFiles are the LICENSE, LICENCE, COPYING and NOTICE files at the
// top of a module.
func licenceFiles(dir, into string) ([]archiveFile, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files []archiveFile
	for _, e := range entries {
		upper := strings.ToUpper(e.Name())
		if e.IsDir() || !(strings.HasPrefix(upper, "LICENSE") || strings.HasPrefix(upper, "LICENCE") ||
			strings.HasPrefix(upper, "COPYING") || strings.HasPrefix(upper, "NOTICE")) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		files = append(files, archiveFile{name: into + "/" + e.Name(), body: b})
	}
	return files, nil
}

// licenceID names the licence of the common texts, by phrases each of them
// holds; "" when it is none of them (the text is in the archive either way).
func licenceID(files []archiveFile) string {
	for _, f := range files {
		t := strings.Join(strings.Fields(string(f.body)), " ")
		switch {
		case strings.Contains(t, "Apache License") && strings.Contains(t, "Version 2.0"):
			return "Apache-2.0"
		case strings.Contains(t, "Permission is hereby granted, free of charge"):
			return "MIT"
		case strings.Contains(t, "Redistribution and use in source and binary forms") &&
			strings.Contains(t, "Neither the name"):
			return "BSD-3-Clause"
		case strings.Contains(t, "Redistribution and use in source and binary forms"):
			return "BSD-2-Clause"
		}
	}
	return ""
}

// writeSums writes SHA256SUMS over every file in out, in the format
// sha256sum -c reads.
func writeSums(out string) error {
	entries, err := os.ReadDir(out)
	if err != nil {
		return err
	}
	var b strings.Builder
	names := []string{}
	for _, e := range entries {
		if !e.IsDir() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for _, n := range names {
		sum, err := fileSHA256(filepath.Join(out, n))
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s  %s\n", sum, n)
	}
	return os.WriteFile(filepath.Join(out, "SHA256SUMS"), []byte(b.String()), 0o644)
}
