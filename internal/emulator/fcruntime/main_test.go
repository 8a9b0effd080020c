package fcruntime

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// hellofcBin is the testdata/hellofc binary TestMain builds once.
var hellofcBin string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "fcruntime-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	hellofcBin = filepath.Join(dir, "hellofc")
	// An explicit path builds a package under testdata even though ./... skips it.
	cmd := exec.Command(goTool(), "build", "-o", hellofcBin, "./testdata/hellofc")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building hellofc: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// goTool is the go command: `go test` puts its own bin directory on PATH.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "go"
}

// eventually polls cond; it waits for an effect, it does not time anything.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never happened: %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// assertOnly200 checks the invariant the SDK depends on: `next` never gets a non-200.
func assertOnly200(t *testing.T, srv *Server) {
	t.Helper()
	for code, n := range srv.Stats().NextStatus {
		if code != 200 {
			t.Errorf("next answered %d %d time(s)", code, n)
		}
	}
}
