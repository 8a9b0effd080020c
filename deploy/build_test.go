package deploy_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"debug/buildinfo"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// checkZip checks the FC package: exactly one entry, `main` at the root,
// executable (0755) as recorded for Unix, and byte-identical to binPath.
func checkZip(zipPath, binPath string) error {
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return err
	}
	defer zr.Close()
	if len(zr.File) != 1 {
		names := make([]string, len(zr.File))
		for i, f := range zr.File {
			names[i] = f.Name
		}
		return fmt.Errorf("%s: entries %v, want exactly [main]", zipPath, names)
	}
	f := zr.File[0]
	if f.Name != "main" {
		return fmt.Errorf("%s: entry %q, want main at the root", zipPath, f.Name)
	}
	if perm := f.Mode().Perm(); perm != 0o755 {
		return fmt.Errorf("%s: main has mode %#o, want 0755", zipPath, perm)
	}
	if creator := f.CreatorVersion >> 8; creator != 3 { // 3 = Unix: others' modes are not honoured on unzip
		return fmt.Errorf("%s: main was recorded by creator %d, want 3 (Unix)", zipPath, creator)
	}
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	inZip, err := io.ReadAll(rc) // also verifies the CRC
	if err != nil {
		return err
	}
	onDisk, err := os.ReadFile(binPath)
	if err != nil {
		return err
	}
	if !bytes.Equal(inZip, onDisk) {
		return fmt.Errorf("%s: main differs from %s", zipPath, binPath)
	}
	return nil
}

// checkELF checks binPath is what FC's go1 runtime can exec on any image: a
// 64-bit x86-64 ELF executable needing no dynamic loader or shared library.
func checkELF(binPath string) error {
	f, err := elf.Open(binPath)
	if err != nil {
		return err
	}
	defer f.Close()
	if f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_X86_64 {
		return fmt.Errorf("%s: %v %v, want ELFCLASS64 EM_X86_64", binPath, f.Class, f.Machine)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s: has PT_INTERP: dynamically linked", binPath)
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil {
		return err
	}
	if len(libs) != 0 {
		return fmt.Errorf("%s: DT_NEEDED %v: needs shared libraries", binPath, libs)
	}
	return nil
}

func needGo(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a binary; skipped in -short mode")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go is not on PATH")
	}
}

// runBuild runs build.sh of moduleDir from an unrelated working directory,
// as a user might, and returns its combined output.
func runBuild(t *testing.T, moduleDir string) (string, error) {
	t.Helper()
	cmd := exec.Command("bash", filepath.Join(moduleDir, "build.sh"))
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// pinnedToolchain returns the Go toolchain scripts/lib.sh pins for build.sh.
func pinnedToolchain(t *testing.T) string {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot, "scripts", "lib.sh"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "GO_TOOLCHAIN="); ok && strings.HasPrefix(v, "go1.") {
			return v
		}
	}
	t.Fatalf("scripts/lib.sh has no GO_TOOLCHAIN=go1.x.y line (%v)", sc.Err())
	return ""
}

// checkArtifacts checks what build.sh left in moduleDir/dist: the binary FC
// runs, built by the pinned toolchain; the zip; the SBOM of that binary.
func checkArtifacts(t *testing.T, moduleDir string, out string) {
	t.Helper()
	bin := filepath.Join(moduleDir, "dist", "main")
	if err := checkELF(bin); err != nil {
		t.Error(err)
	}
	if err := checkZip(filepath.Join(moduleDir, "dist", "function.zip"), bin); err != nil {
		t.Error(err)
	}
	if bi, err := buildinfo.ReadFile(bin); err != nil {
		t.Error(err)
	} else if want := pinnedToolchain(t); bi.GoVersion != want {
		t.Errorf("%s was built by %s, want %s (GO_TOOLCHAIN in scripts/lib.sh)", bin, bi.GoVersion, want)
	}
	if err := checkSBOMFiles(filepath.Join(moduleDir, "dist", "sbom.cdx.json"), bin); err != nil {
		t.Error(err)
	}
	for _, want := range []string{"dist/main", "dist/function.zip", "dist/sbom.cdx.json", "bytes", "sha256"} {
		if !strings.Contains(out, want) {
			t.Errorf("build.sh output does not report sizes (%q missing):\n%s", want, out)
		}
	}
}

// TestBuildScript builds the real function and checks what FC will run.
func TestBuildScript(t *testing.T) {
	needGo(t)
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "main.go")); errors.Is(err, os.ErrNotExist) {
		t.Skip("no main.go at the module root yet: build.sh has nothing to build (TestBuildScriptInScratchModule covers the script)")
	}
	out, err := runBuild(t, root)
	if err != nil {
		t.Fatalf("build.sh: %v\n%s", err, out)
	}
	checkArtifacts(t, root, out)

	// The SBOM of the real function names what it is made of.
	sbom, err := os.ReadFile(filepath.Join(root, "dist", "sbom.cdx.json"))
	if err != nil {
		t.Fatal(err)
	}
	_, mods, err := sbomModules(sbom)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range shippedModules {
		if mods[m] == "" {
			t.Errorf("dist/sbom.cdx.json does not list %s", m)
		}
	}
	t.Logf("dist/sbom.cdx.json: %d components besides the main module (the standard library %s included)", len(mods)-1, mods[stdComponent])
}

// scratchModule copies what build.sh needs (go.mod, go.sum, build.sh, the
// pins in scripts/lib.sh and the mkzip tool) into a temporary module, with mainSrc as main.go if given.
func scratchModule(t *testing.T, mainSrc string) string {
	t.Helper()
	dir := t.TempDir()
	copyFile := func(rel string, mode os.FileMode) {
		b, err := os.ReadFile(filepath.Join(repoRoot, rel))
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, mode); err != nil {
			t.Fatal(err)
		}
	}
	copyFile("go.mod", 0o644)
	copyFile("go.sum", 0o644)
	copyFile("build.sh", 0o755)
	copyFile("scripts/lib.sh", 0o644)
	copyFile("internal/tools/mkzip/main.go", 0o644)
	if mainSrc != "" {
		if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(mainSrc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestBuildScriptInScratchModule runs build.sh on a stand-in main package,
// so the script is tested whether or not the real main.go exists yet.
func TestBuildScriptInScratchModule(t *testing.T) {
	needGo(t)
	dir := scratchModule(t, "package main\n\nimport \"os\"\n\nfunc main() { os.Exit(0) }\n")
	out, err := runBuild(t, dir)
	if err != nil {
		t.Fatalf("build.sh: %v\n%s", err, out)
	}
	checkArtifacts(t, dir, out)
}

func TestBuildScriptFailsLoudly(t *testing.T) {
	tests := []struct {
		name    string
		mainSrc string
		wantOut string
	}{
		{"no main.go", "", "no main.go at the module root"},
		{"does not compile", "package main\n\nfunc main() { undefined() }\n", "build.sh: failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			needGo(t)
			dir := scratchModule(t, tt.mainSrc)
			out, err := runBuild(t, dir)
			if err == nil {
				t.Fatalf("build.sh succeeded:\n%s", out)
			}
			if !strings.Contains(out, tt.wantOut) {
				t.Errorf("output does not say %q:\n%s", tt.wantOut, out)
			}
			if _, err := os.Stat(filepath.Join(dir, "dist", "function.zip")); err == nil {
				t.Error("a failed build left dist/function.zip behind")
			}
		})
	}
}

// TestArtifactChecksCanFail feeds the checks artifacts that are wrong in one
// way each.
func TestArtifactChecksCanFail(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "main")
	if err := os.WriteFile(bin, []byte("not really a binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	type entry struct {
		name string
		mode os.FileMode
		body string
		dos  bool // recorded without Unix attributes
	}
	writeZip := func(entries ...entry) string {
		path := filepath.Join(t.TempDir(), "f.zip")
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for _, e := range entries {
			h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
			if !e.dos {
				h.SetMode(e.mode)
			}
			w, err := zw.CreateHeader(h)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.WriteString(w, e.body); err != nil {
				t.Fatal(err)
			}
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	good := entry{"main", 0o755, "not really a binary", false}
	if err := checkZip(writeZip(good), bin); err != nil {
		t.Fatalf("a correct zip fails the check: %v", err)
	}
	zipCases := []struct {
		name    string
		entries []entry
		wantErr string
	}{
		{"not executable", []entry{{"main", 0o644, good.body, false}}, "mode 0644"},
		{"no unix attributes", []entry{{"main", 0, good.body, true}}, "mode"},
		{"in a folder", []entry{{"dist/main", 0o755, good.body, false}}, `entry "dist/main"`},
		{"two entries", []entry{good, {"README", 0o644, "x", false}}, "entries [main README]"},
		{"empty", nil, "entries []"},
		{"stale binary", []entry{{"main", 0o755, "an older build", false}}, "differs"},
	}
	for _, tt := range zipCases {
		t.Run("zip "+tt.name, func(t *testing.T) {
			err := checkZip(writeZip(tt.entries...), bin)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("checkZip error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}

	t.Run("elf not an ELF", func(t *testing.T) {
		if err := checkELF(bin); err == nil {
			t.Error("a text file passed checkELF")
		}
	})
	t.Run("elf dynamically linked", func(t *testing.T) {
		// Any distribution's ls is a dynamically linked executable.
		ls, err := exec.LookPath("ls")
		if err != nil {
			t.Skip("no ls on PATH")
		}
		if f, err := elf.Open(ls); err != nil || f.Machine != elf.EM_X86_64 {
			t.Skip("ls is not an x86-64 ELF here")
		}
		err = checkELF(ls)
		if err == nil || !strings.Contains(err.Error(), "dynamically linked") {
			t.Errorf("checkELF(%s) = %v, want a dynamic-linking error", ls, err)
		}
	})
}

// TestGoModStaysOnGo126 guards the README's first command: `go run . local`
// runs on the local Go, and machines with only Go 1.26 (and GOTOOLCHAIN=local)
// refuse a module that asks for a newer one. build.sh and the scripts get
// their newer toolchain from GOTOOLCHAIN, not from go.mod.
func TestGoModStaysOnGo126(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if err := checkGoDirective(string(b)); err != nil {
		t.Error(err)
	}
	for _, bad := range []string{
		"module m\n\ngo 1.27.0\n",
		"module m\n\ngo 1.26.0\n\ntoolchain go1.27.3\n",
		"module m\n",
	} {
		if checkGoDirective(bad) == nil {
			t.Errorf("checkGoDirective accepts %q", bad)
		}
	}
}

func checkGoDirective(gomod string) error {
	var goLine string
	for _, line := range strings.Split(gomod, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && f[0] == "go":
			goLine = f[1]
		case len(f) >= 1 && f[0] == "toolchain":
			return fmt.Errorf("go.mod has %q: a Go 1.26 machine with GOTOOLCHAIN=auto would fetch it for `go run . local` too; build.sh pins its toolchain itself", line)
		}
	}
	if goLine != "1.26" && !strings.HasPrefix(goLine, "1.26.") {
		return fmt.Errorf("go.mod says go %q, want 1.26 or 1.26.x so that Go 1.26 can run the module", goLine)
	}
	return nil
}
