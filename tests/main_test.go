package tests

import (
	"archive/zip"
	"bytes"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// artifacts is what TestMain built: the binary extracted from build.sh's
// dist/function.zip (the file FC would run) and what it was checked against.
type artifacts struct {
	bin      string // main, extracted from function.zip
	distMain string // dist/main as build.sh left it
	zip      string // dist/function.zip
	zipMode  fs.FileMode
}

var (
	// built is set once by TestMain before any test runs and only read
	// afterwards.
	built artifacts
	// skipReason, when set, makes every test skip.
	skipReason string
)

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		skipReason = "end-to-end tests build the function with build.sh and run it as a child process: skipped in -short mode"
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "eni-detach-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "tests:", err)
		os.Exit(1)
	}
	code := 1
	if built, err = build(dir); err != nil {
		fmt.Fprintln(os.Stderr, "tests: building the function:", err)
	} else {
		code = m.Run()
	}
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// needBinary skips the test in -short mode.
func needBinary(t *testing.T) {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
}

// build runs build.sh on a snapshot of the working tree and extracts main
// from the zip it produced.
//
// Why a snapshot: deploy's TestBuildScript runs build.sh in the checkout
// too, and `go test ./...` may run both packages at once; build.sh starts
// with `rm -f dist/main dist/function.zip`, so sharing dist/ would make
// either test see the other's half-built output.
func build(dir string) (artifacts, error) {
	root, err := filepath.Abs("..")
	if err != nil {
		return artifacts{}, err
	}
	src := filepath.Join(dir, "src")
	if err := copyTree(root, src); err != nil {
		return artifacts{}, fmt.Errorf("snapshot of %s: %w", root, err)
	}
	cmd := exec.Command("bash", filepath.Join(src, "build.sh"))
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return artifacts{}, fmt.Errorf("build.sh: %w\n%s", err, out)
	}
	a := artifacts{
		bin:      filepath.Join(dir, "bin", "main"),
		distMain: filepath.Join(src, "dist", "main"),
		zip:      filepath.Join(src, "dist", "function.zip"),
	}
	if a.zipMode, err = extractMain(a.zip, a.bin); err != nil {
		return artifacts{}, err
	}
	return a, nil
}

// copyTree copies the module's files, leaving out VCS data, caches and
// build output.
func copyTree(from, to string) error {
	skip := map[string]bool{".git": true, ".cache": true, "dist": true}
	return filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, path)
		if err != nil {
			return err
		}
		if d.IsDir() {
			if skip[rel] {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, info.Mode().Perm())
	})
}

// extractMain writes the zip's "main" entry to dst and returns its mode.
func extractMain(zipPath, dst string) (fs.FileMode, error) {
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return 0, err
	}
	defer zr.Close()
	for _, f := range zr.File {
		if f.Name != "main" {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return 0, err
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return 0, err
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return 0, err
		}
		// Extracted with the zip's own permission bits, as FC unpacks it.
		if err := os.WriteFile(dst, b, f.Mode().Perm()); err != nil {
			return 0, err
		}
		return f.Mode(), nil
	}
	return 0, fmt.Errorf("%s has no entry named main", zipPath)
}

// sameFile reports whether two files have identical contents.
func sameFile(a, b string) (bool, error) {
	x, err := os.ReadFile(a)
	if err != nil {
		return false, err
	}
	y, err := os.ReadFile(b)
	if err != nil {
		return false, err
	}
	return bytes.Equal(x, y), nil
}
