package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The SBOM and licences of a real binary (testdata/linked, which links
// cobra and excelize as credtrail does; .ci/dist-check checks DuckDB's in
// the release archive): every module with its version and licence, and each
// module's licence text among the archive files.
func TestDescribeBinary(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "linked")
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/linked").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	if err := os.Chdir("../.."); err != nil { // go list from the module root
		t.Fatal(err)
	}
	mods, err := listModules()
	if err != nil {
		t.Fatal(err)
	}
	body, files, err := describe(bin, mods, "v9.9.9", time.Unix(1796388828, 0).UTC())
	if err != nil {
		t.Fatal(err)
	}
	var b bom
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatalf("SBOM is not JSON: %v", err)
	}
	if b.BOMFormat != "CycloneDX" || b.SpecVersion != "1.5" || !strings.HasPrefix(b.SerialNumber, "urn:uuid:") ||
		b.Metadata.Timestamp != "2026-12-04T12:53:48Z" || len(b.Metadata.Component.Hashes) != 1 {
		t.Errorf("SBOM header: %+v", b.Metadata)
	}
	licences := map[string]string{}
	for _, c := range b.Components {
		if c.Version == "" || c.PURL != "pkg:golang/"+c.Name+"@"+c.Version {
			t.Errorf("component %s: version %q, purl %q", c.Name, c.Version, c.PURL)
		}
		if len(c.Licenses) == 1 {
			licences[c.Name] = c.Licenses[0].License.ID
		}
	}
	want := map[string]string{
		"github.com/spf13/cobra":      "Apache-2.0",
		"github.com/xuri/excelize/v2": "BSD-3-Clause",
		"stdlib":                      "BSD-3-Clause",
	}
	for name, id := range want {
		if licences[name] != id {
			t.Errorf("%s: licence %q, want %q", name, licences[name], id)
		}
	}
	names := map[string]bool{}
	for _, f := range files {
		names[f.name] = len(f.body) > 0
	}
	for _, n := range []string{"LICENSES/go/LICENSE", "LICENSES/github.com/spf13/cobra/LICENSE.txt", "LICENSES/github.com/xuri/excelize/v2/LICENSE"} {
		if !names[n] {
			t.Errorf("no licence file %s among %d", n, len(files))
		}
	}
	if len(b.Dependencies) != 1 || len(b.Dependencies[0].DependsOn) != len(b.Components) {
		t.Errorf("dependencies: %+v", b.Dependencies)
	}
}

// The same files give the same archive bytes, in name order, folders first.
func TestArchiveReproducible(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "credtrail")
	if err := os.WriteFile(exe, []byte("binary"), 0o700); err != nil {
		t.Fatal(err)
	}
	epoch := time.Unix(1796388828, 0)
	files := []archiveFile{{name: "README.md", body: []byte("read me")}, {name: "LICENSES/go/LICENSE", body: []byte("bsd")}, {name: "credtrail", path: exe, mode: 0o755}}
	var sums [2][]byte
	for i := range sums {
		p := filepath.Join(dir, "a"+string(rune('0'+i))+".tar.gz")
		if err := writeArchive(p, "credtrail-v1-linux-amd64", append([]archiveFile(nil), files...), epoch); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		sums[i] = b
	}
	if !bytes.Equal(sums[0], sums[1]) {
		t.Error("two archives of the same files differ")
	}
	zr, err := gzip.NewReader(bytes.NewReader(sums[0]))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var got []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !h.ModTime.Equal(epoch) {
			t.Errorf("%s: time %v", h.Name, h.ModTime)
		}
		got = append(got, h.Name+" "+strings.TrimLeft(h.FileInfo().Mode().String(), "-"))
	}
	want := "credtrail-v1-linux-amd64/ drwxr-xr-x|credtrail-v1-linux-amd64/LICENSES/ drwxr-xr-x|credtrail-v1-linux-amd64/LICENSES/go/ drwxr-xr-x|" +
		"credtrail-v1-linux-amd64/LICENSES/go/LICENSE rw-r--r--|credtrail-v1-linux-amd64/README.md rw-r--r--|credtrail-v1-linux-amd64/credtrail rwxr-xr-x"
	if strings.Join(got, "|") != want {
		t.Errorf("entries:\n%s\nwant\n%s", strings.Join(got, "|"), want)
	}
}

// A Windows binary counts as static when it imports only Windows' own DLLs:
// a pure Go one does, one needing mingw-w64's libwinpthread-1.dll does not,
// and one importing two C runtimes (msvcrt.dll for its startup, UCRT for the
// rest: what linking DuckDB's library with an msvcrt toolchain gives when
// adaptToUCRT is skipped) is an error.
func TestWindowsImports(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	run := func(cmd *exec.Cmd) {
		t.Helper()
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", cmd, err, out)
		}
	}
	goExe := filepath.Join(dir, "go.exe")
	build := exec.Command("go", "build", "-o", goExe, write("main.go", "package main\n\nfunc main() {}\n"))
	build.Dir = dir
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=windows", "GOARCH=amd64")
	run(build)
	if static, err := isStatic(goExe, "windows"); !static || err != nil {
		t.Errorf("a pure Go binary: static %v, %v", static, err)
	}

	cc := "x86_64-w64-mingw32-gcc"
	if _, err := exec.LookPath(cc); err != nil {
		t.Skip("the C cases need mingw-w64:", err)
	}
	threads := filepath.Join(dir, "threads.exe")
	run(exec.Command(cc, "-o", threads, write("threads.c", "#include <pthread.h>\nint main(void) { return pthread_self() == 0; }\n"), "-pthread"))
	if static, err := isStatic(threads, "windows"); static || err != nil {
		t.Errorf("a binary importing libwinpthread-1.dll: static %v, %v", static, err)
	}
	mixed := filepath.Join(dir, "mixed.exe")
	run(exec.Command(cc, "-o", mixed, write("mixed.c", `#include <stdarg.h>
int __cdecl __stdio_common_vsprintf(unsigned long long, char *, unsigned long long, const char *, void *, va_list);
int main(void) { va_list ap = 0; return __stdio_common_vsprintf(0, 0, 0, "", 0, ap); }
`), "-lucrt"))
	if _, err := isStatic(mixed, "windows"); err == nil || !strings.Contains(err.Error(), "two C runtimes") {
		t.Errorf("a binary importing msvcrt.dll and UCRT: %v, want an error naming two C runtimes", err)
	}
}

// The specs of Debian 12's mingw-w64 turn into UCRT ones: UCRT's library
// where msvcrt's was, UCRT's declarations for the C preprocessor; a
// compiler that does not link msvcrt is refused rather than half-adapted.
func TestUCRTSpecs(t *testing.T) {
	out, err := exec.Command("x86_64-w64-mingw32-gcc-posix", "-dumpspecs").Output()
	if err != nil {
		t.Skip("needs Debian 12's mingw-w64 (gcc-mingw-w64-x86-64-posix):", err)
	}
	specs, err := ucrtSpecs(string(out))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(specs, "-lmsvcrt") || !strings.Contains(specs, "-lmoldname -lmingwex -lucrt") {
		t.Errorf("libraries not switched to UCRT:\n%s", specs)
	}
	if !strings.Contains(specs, "\n*cpp:\n-D_UCRT -D__MSVCRT_VERSION__=0x1400 ") {
		t.Errorf("the preprocessor is not told UCRT:\n%s", specs)
	}
	if _, err := ucrtSpecs(specs); err == nil {
		t.Error("specs already for UCRT adapted again")
	}
}
