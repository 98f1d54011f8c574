package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// archiveFile is one entry: its body, or the file at path.
type archiveFile struct {
	name string // below the archive's top folder, with forward slashes
	body []byte
	path string
	mode int64 // 0: 0o644
}

func (f archiveFile) open() (io.ReadCloser, int64, error) {
	if f.path == "" {
		return io.NopCloser(bytes.NewReader(f.body)), int64(len(f.body)), nil
	}
	file, err := os.Open(f.path)
	if err != nil {
		return nil, 0, err
	}
	info, err := file.Stat()
	if err != nil {
		file.Close()
		return nil, 0, err
	}
	return file, info.Size(), nil
}

// writeArchive writes a .tar.gz or a .zip (by the name) of files under the
// folder top, in name order, every entry stamped with epoch and owned by
// nobody in particular, so the same inputs give the same bytes.
func writeArchive(path, top string, files []archiveFile, epoch time.Time) error {
	sort.Slice(files, func(i, j int) bool { return files[i].name < files[j].name })
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	defer out.Close()
	if strings.HasSuffix(path, ".zip") {
		zw := zip.NewWriter(out)
		for _, f := range files {
			mode := fs.FileMode(f.mode)
			if mode == 0 {
				mode = 0o644
			}
			h := &zip.FileHeader{Name: top + "/" + f.name, Method: zip.Deflate, Modified: epoch}
			h.SetMode(mode)
			w, err := zw.CreateHeader(h)
			if err != nil {
				return err
			}
			if err := copyFile(w, f); err != nil {
				return fmt.Errorf("%s: %s: %w", path, f.name, err)
			}
		}
		if err := zw.Close(); err != nil {
			return err
		}
		return out.Close()
	}
	gz, err := gzip.NewWriterLevel(out, gzip.DefaultCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(gz)
	dirs := map[string]bool{}
	for _, f := range files {
		// Folders first, so every unpacker makes them with a sane mode.
		parts := strings.Split(top+"/"+f.name, "/")
		for i := 1; i < len(parts); i++ {
			d := strings.Join(parts[:i], "/") + "/"
			if !dirs[d] {
				dirs[d] = true
				if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: 0o755, ModTime: epoch, Format: tar.FormatPAX}); err != nil {
					return err
				}
			}
		}
		r, size, err := f.open()
		if err != nil {
			return err
		}
		mode := f.mode
		if mode == 0 {
			mode = 0o644
		}
		err = tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: top + "/" + f.name, Size: size, Mode: mode, ModTime: epoch, Format: tar.FormatPAX})
		if err == nil {
			_, err = io.Copy(tw, r)
		}
		r.Close()
		if err != nil {
			return fmt.Errorf("%s: %s: %w", path, f.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := gz.Close(); err != nil {
		return err
	}
	return out.Close()
}

func copyFile(w io.Writer, f archiveFile) error {
	r, _, err := f.open()
	if err != nil {
		return err
	}
	defer r.Close()
	_, err = io.Copy(w, r)
	return err
}

// sourceArchive writes the committed source (git archive HEAD) with the
// modules vendored beside it (go mod vendor, into the archive only) and a
// VERSION file, so that it builds with no network and says what it is.
func sourceArchive(path, top, version, work string, epoch time.Time) error {
	if b, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(b) > 0 {
		fmt.Fprintln(os.Stderr, "credtrail-dist: the work tree has uncommitted changes; the source archive holds the last commit")
	}
	src := filepath.Join(work, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return err
	}
	tarball := filepath.Join(work, "src.tar")
	if out, err := exec.Command("git", "archive", "--format=tar", "-o", tarball, "HEAD").CombinedOutput(); err != nil {
		return fmt.Errorf("git archive: %w: %s", err, out)
	}
	if out, err := exec.Command("tar", "-xf", tarball, "-C", src).CombinedOutput(); err != nil {
		return fmt.Errorf("unpack git archive: %w: %s", err, out)
	}
	vendor := exec.Command("go", "mod", "vendor")
	vendor.Dir = src
	vendor.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	if out, err := vendor.CombinedOutput(); err != nil {
		return fmt.Errorf("go mod vendor: %w: %s", err, out)
	}
	if err := os.WriteFile(filepath.Join(src, "VERSION"), []byte(version+"\n"), 0o644); err != nil {
		return err
	}
	var files []archiveFile
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		mode := int64(0o644)
		if info.Mode()&0o111 != 0 {
			mode = 0o755
		}
		files = append(files, archiveFile{name: filepath.ToSlash(rel), path: p, mode: mode})
		return nil
	})
	if err != nil {
		return err
	}
	return writeArchive(path, top, files, epoch)
}
