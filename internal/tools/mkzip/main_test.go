package main

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeInput(t *testing.T, dir, name, body string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), mode); err != nil {
		t.Fatal(err)
	}
	// WriteFile's mode is filtered by the umask; set it exactly.
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestWriteZip(t *testing.T) {
	tests := []struct {
		name      string
		fileMode  os.FileMode
		flagMode  os.FileMode
		wantPerms os.FileMode
	}{
		{"file's own mode kept", 0o750, 0, 0o750},
		{"-mode overrides", 0o600, 0o755, 0o755},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			in := writeInput(t, dir, "main", "\x7fELF body", tt.fileMode)
			out := filepath.Join(dir, "function.zip")
			if err := writeZip(out, []string{in}, tt.flagMode); err != nil {
				t.Fatal(err)
			}
			zr, err := zip.OpenReader(out)
			if err != nil {
				t.Fatal(err)
			}
			defer zr.Close()
			if len(zr.File) != 1 || zr.File[0].Name != "main" {
				t.Fatalf("entries = %v, want [main]", zr.File)
			}
			f := zr.File[0]
			if got := f.Mode().Perm(); got != tt.wantPerms {
				t.Errorf("mode = %#o, want %#o", got, tt.wantPerms)
			}
			if f.CreatorVersion>>8 != 3 {
				t.Errorf("creator = %d, want 3 (Unix)", f.CreatorVersion>>8)
			}
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || string(body) != "\x7fELF body" {
				t.Errorf("body = %q, %v", body, err)
			}
		})
	}
}

func TestWriteZipFailuresLeaveNothing(t *testing.T) {
	tests := []struct {
		name    string
		inputs  func(dir string) []string
		wantErr string
	}{
		{"missing input", func(dir string) []string { return []string{filepath.Join(dir, "nope")} }, "no such file"},
		{"directory input", func(dir string) []string {
			sub := filepath.Join(dir, "sub")
			if err := os.Mkdir(sub, 0o755); err != nil {
				t.Fatal(err)
			}
			return []string{sub}
		}, "not a regular file"},
		{"same base name twice", func(dir string) []string {
			a := filepath.Join(dir, "a")
			if err := os.Mkdir(a, 0o755); err != nil {
				t.Fatal(err)
			}
			return []string{writeInput(t, dir, "main", "x", 0o755), writeInput(t, a, "main", "y", 0o755)}
		}, `both be stored as "main"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			outDir := t.TempDir()
			out := filepath.Join(outDir, "function.zip")
			err := writeZip(out, tt.inputs(dir), 0o755)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
			left, _ := os.ReadDir(outDir)
			if len(left) != 0 {
				t.Errorf("a failed run left %v behind", left)
			}
		})
	}
}

// TestWriteZipIsReproducible zips the same bytes twice, from files with
// different modification times in different directories: the archives must
// be identical, which is what lets two builds be compared by sha256.
func TestWriteZipIsReproducible(t *testing.T) {
	var sums [2][]byte
	for i, mtime := range []time.Time{
		time.Date(2031, time.March, 4, 5, 6, 7, 0, time.UTC),
		time.Now(),
	} {
		dir := t.TempDir()
		in := writeInput(t, dir, "main", "\x7fELF same body", 0o700)
		if err := os.Chtimes(in, mtime, mtime); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "function.zip")
		if err := writeZip(out, []string{in}, 0o755); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		sums[i] = b
		zr, err := zip.OpenReader(out)
		if err != nil {
			t.Fatal(err)
		}
		if got := zr.File[0].Modified; !got.Equal(entryTime) {
			t.Errorf("entry time = %v, want the fixed %v, not the file's %v", got, entryTime, mtime)
		}
		zr.Close()
	}
	if !bytes.Equal(sums[0], sums[1]) {
		t.Error("the same input zipped twice gave different archives")
	}
}
