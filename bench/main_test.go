package bench

import (
	"debug/buildinfo"
	"debug/elf"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Environment variables that hand TestMain an already built function (as
// scripts/bench.sh does after running build.sh); unset, TestMain runs
// build.sh itself.
const (
	envFunctionBin = "BENCH_FUNCTION_BIN"
	envFunctionZip = "BENCH_FUNCTION_ZIP"
)

// artifacts are the binaries the benchmarks run; set once by TestMain.
type artifacts struct {
	fn, fnZip       string // the product: build.sh's dist/main and dist/function.zip
	hello, helloZip string // the hello-world fc.Start baseline, same build flags
	ecsemu          string // the ECS emulator as a process of its own
	flags           string // the build settings both binaries share
}

var bins artifacts

// buildKeys are the recorded build settings that must match between the
// function and the baseline for the comparison to be fair; "toolchain" is
// the Go version that built the binary (build.sh pins one, whatever go is on
// PATH). -ldflags is not among them: Go leaves it out of the build
// information of a -trimpath build, so its effect (-s: no symbol table, -w:
// no DWARF) is read from the ELF file instead.
var buildKeys = []string{"toolchain", "-trimpath", "CGO_ENABLED", "GOOS", "GOARCH", "GOAMD64"}

func TestMain(m *testing.M) {
	flag.Parse()
	// Under a plain `go test` (CI) there is nothing to run: build nothing.
	if f := flag.Lookup("test.bench"); f == nil || f.Value.String() == "" {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "eni-detach-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	code := 1
	if bins, err = prepare(dir); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
	} else {
		fmt.Printf("build settings of the function and of hellofc: %s\n", bins.flags)
		code = m.Run()
	}
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

func prepare(dir string) (artifacts, error) {
	root, err := filepath.Abs("..")
	if err != nil {
		return artifacts{}, err
	}
	a := artifacts{fn: os.Getenv(envFunctionBin), fnZip: os.Getenv(envFunctionZip)}
	if a.fn == "" {
		if out, err := run(root, nil, "bash", "build.sh"); err != nil {
			return a, fmt.Errorf("build.sh: %w\n%s", err, out)
		}
		a.fn, a.fnZip = filepath.Join(root, "dist", "main"), filepath.Join(root, "dist", "function.zip")
	}
	if a.fnZip == "" {
		return a, fmt.Errorf("%s is set but %s is not", envFunctionBin, envFunctionZip)
	}
	settings, err := buildSettings(a.fn)
	if err != nil {
		return a, err
	}
	stripped, err := strippedFlags(a.fn)
	if err != nil {
		return a, err
	}

	// The baseline is built exactly as the function was, read back from
	// the function's own build information.
	a.hello = filepath.Join(dir, "hellofc", "main") // "main" inside the zip, like the function
	args := []string{"build", "-o", a.hello}
	if settings["-trimpath"] == "true" {
		args = append(args, "-trimpath")
	}
	if stripped != "" {
		args = append(args, "-ldflags="+stripped)
	}
	args = append(args, "./internal/emulator/fcruntime/testdata/hellofc")
	env := []string{
		"GOTOOLCHAIN=" + settings["toolchain"],
		"CGO_ENABLED=" + settings["CGO_ENABLED"], "GOOS=" + settings["GOOS"], "GOARCH=" + settings["GOARCH"], "GOAMD64=" + settings["GOAMD64"],
	}
	if out, err := run(root, env, "go", args...); err != nil {
		return a, fmt.Errorf("building hellofc: %w\n%s", err, out)
	}
	helloSettings, err := buildSettings(a.hello)
	if err != nil {
		return a, err
	}
	var flags []string
	for _, k := range buildKeys {
		if settings[k] != helloSettings[k] {
			return a, fmt.Errorf("hellofc was built with %s=%q, the function with %q", k, helloSettings[k], settings[k])
		}
		flags = append(flags, k+"="+settings[k])
	}
	if helloStripped, err := strippedFlags(a.hello); err != nil || helloStripped != stripped {
		return a, fmt.Errorf("hellofc is stripped as %q (%v), the function as %q", helloStripped, err, stripped)
	}
	a.flags = strings.Join(append(flags, "ldflags (from the ELF file)="+stripped), " ")

	// Zipped the way build.sh zips the function.
	a.helloZip = filepath.Join(dir, "hellofc.zip")
	if out, err := run(root, []string{"GOOS=", "GOARCH=", "CGO_ENABLED=0"}, "go", "run", "./internal/tools/mkzip", "-o", a.helloZip, "-mode", "0755", a.hello); err != nil {
		return a, fmt.Errorf("zipping hellofc: %w\n%s", err, out)
	}
	a.ecsemu = filepath.Join(dir, "ecsemu")
	if out, err := run(root, nil, "go", "build", "-o", a.ecsemu, "./bench/testdata/ecsemu"); err != nil {
		return a, fmt.Errorf("building ecsemu: %w\n%s", err, out)
	}
	return a, nil
}

func run(dir string, env []string, name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	return cmd.CombinedOutput()
}

func buildSettings(bin string) (map[string]string, error) {
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		return nil, fmt.Errorf("build information of %s: %w", bin, err)
	}
	m := map[string]string{"toolchain": info.GoVersion}
	for _, s := range info.Settings {
		m[s.Key] = s.Value
	}
	return m, nil
}

// strippedFlags returns the linker flags the ELF file shows it was built
// with: -s when it has no symbol table, -w when it has no DWARF.
func strippedFlags(bin string) (string, error) {
	f, err := elf.Open(bin)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var flags []string
	if f.Section(".symtab") == nil {
		flags = append(flags, "-s")
	}
	if f.Section(".debug_info") == nil && f.Section(".zdebug_info") == nil {
		flags = append(flags, "-w")
	}
	return strings.Join(flags, " "), nil
}
