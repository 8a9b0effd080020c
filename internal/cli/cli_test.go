package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/eni-detach/eni-detach/internal/config"
)

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return runWithStdin(t, "", args...)
}

func runWithStdin(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Run(args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

func TestLocalDetachesADemoENI(t *testing.T) {
	code, out, logs := run(t, "local", "--detach-delay", "100ms")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, logs)
	}
	for _, want := range []string{`"outcome": "Detached"`, `"networkInterfaceId": "eni-demo0000000000001"`,
		"eni-demo0000000000001     Secondary  Available", `"type": "eni-detach:NetworkInterface:Detached"`, `"published": 1`,
		"eni-bp1fixture0000000001  Secondary  InUse"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(logs, `"request_id":"local-`) {
		t.Errorf("logs lack the request id:\n%s", logs)
	}
}

func TestLocalWithEventFile(t *testing.T) {
	file := writeFile(t, `{"InstanceId":"i-demo0000000000001","DryRun":true}`)
	code, out, _ := run(t, "local", "--event", file, "--detach-delay", "50ms")
	if code != 0 || strings.Count(out, `"outcome": "DryRun"`) != 2 || !strings.Contains(out, "(none)") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

func TestLocalReadsStandardInput(t *testing.T) {
	code, out, _ := runWithStdin(t, `{"NetworkInterfaceId":"eni-bp1fixture0000000002","DryRun":true}`, "local", "--event", "-")
	if code != 0 || !strings.Contains(out, `"outcome": "DryRun"`) || !strings.Contains(out, `"networkInterfaceId": "eni-bp1fixture0000000002"`) {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// TestLocalExitStatus: 0 whenever the function answered, whatever it
// answered; 1 only when it returned an error to FC.
func TestLocalExitStatus(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		payload string
		code    int
		want    []string // in stdout
	}{
		{name: "invalid request is an answer", payload: `{"NetworkInterfaceId":"bad","InstanceId":5}`, code: 0,
			want: []string{`"code": "InvalidRequest"`, `"field": "NetworkInterfaceId"`, `"field": "InstanceId"`}},
		{name: "not JSON is an answer", payload: `not json`, code: 0,
			want: []string{`the payload is not JSON: unexpected 'o' at byte offset 1, near not json`}},
		{name: "refusal is an answer", payload: `{"NetworkInterfaceId":"eni-bp1fixture0000000000"}`, code: 0,
			want: []string{`"outcome": "Conflict"`, `"code": "Guard.PrimaryNetworkInterface"`}},
		{name: "HTTP 404 is an answer", payload: fileText(t, "handler/testdata/http/post-not-found.json"), code: 0,
			want: []string{"== response: HTTP 404 (", `"outcome": "NotFound"`, "x-fc-request-id: local-"}},
		{name: "HTTP 405 is an answer", payload: fileText(t, "handler/testdata/http/get.json"), code: 0,
			want: []string{"== response: HTTP 405 (", "allow: POST"}},
		{name: "HTTP 503 is an answer", args: []string{"--ecs-error", "ServiceUnavailable"},
			payload: fileText(t, "handler/testdata/http/post-detach.json"), code: 0,
			want: []string{"== response: HTTP 503 (", `"code": "ServiceUnavailable"`}},
		{name: "non-retryable failure is an answer", args: []string{"--ecs-error", "InvalidOperation.EniHotPlugNotSupported"},
			payload: `{"NetworkInterfaceId":"eni-bp1fixture0000000001"}`, code: 0,
			want: []string{`"outcome": "NeedsInstanceStop"`}},
		{name: "retryable failure is returned to FC", args: []string{"--ecs-error", "ServiceUnavailable"},
			payload: `{"NetworkInterfaceId":"eni-bp1fixture0000000001"}`, code: 1,
			want: []string{`"outcome": "Failed"`, "== error returned to FC",
				"retryable failure: eni-bp1fixture0000000001 (ServiceUnavailable)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"local", "--event", "-", "--detach-delay", "100ms"}, tc.args...)
			code, out, logs := runWithStdin(t, tc.payload, args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, tc.code, out, logs)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func fileText(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestUsage: every usage problem is exit status 2 with a message on
// stderr, and nothing runs.
func TestUsage(t *testing.T) {
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "")
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "eni-detach local"},
		{[]string{"help"}, 0, "eni-detach detach --region R"},
		{[]string{"help", "local"}, 0, "usage: eni-detach local"},
		{[]string{"help", "detach"}, 0, "--timeout"},
		{[]string{"help", "frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"frobnicate"}, 2, "unknown command"},
		{[]string{"local", "--help"}, 0, "usage: eni-detach local"},
		{[]string{"local", "--help"}, 0, "Exit status: 0 the function answered"},
		{[]string{"detach", "--help"}, 0, "usage: eni-detach detach"},
		{[]string{"local", "extra-arg"}, 2, `local: unexpected argument "extra-arg"`},
		{[]string{"local", "--event", "x.json", "extra-arg"}, 2, `unexpected argument "extra-arg"`},
		{[]string{"local", "--detach-delay", "-1s"}, 2, "--detach-delay must not be negative, got -1s"},
		{[]string{"local", "--detach-delay", "soon"}, 2, "invalid value"},
		{[]string{"local", "--no-such-flag"}, 2, "flag provided but not defined"},
		{[]string{"local", "--event", "/does/not/exist"}, 2, "no such file"},
		{[]string{"detach", "--region", "cn-hangzhou", "--eni", "eni-a1", "extra-arg"}, 2, `detach: unexpected argument "extra-arg"`},
		{[]string{"detach", "--region", "cn-hangzhou", "--eni", "eni-a1", "--timeout", "-5s"}, 2, "--timeout must not be negative, got -5s"},
		{[]string{"detach", "--eni", "eni-a1"}, 2, "--region is required"},
		{[]string{"detach", "--region", "cn-hangzhou", "--eni", "ENI"}, 2, "NetworkInterfaceId"},
		{[]string{"detach", "--region", "cn-hangzhou"}, 2, "detach: --eni or --instance is required"},
		{[]string{"detach", "--region", "cn-hangzhou", "--eni", "eni-a1"}, 2, "ALIBABA_CLOUD_ACCESS_KEY_ID"},
	} {
		code, out, errOut := run(t, tc.args...)
		if code != tc.code || !strings.Contains(out+errOut, tc.want) {
			t.Errorf("%v: exit %d, want %d with %q; output %q", tc.args, code, tc.code, tc.want, out+errOut)
		}
		if tc.code == 2 && (out != "" || errOut == "") {
			t.Errorf("%v: a usage error belongs on stderr only; stdout %q stderr %q", tc.args, out, errOut)
		}
	}
}

// The top-level help lists every flag of every command: the synopses are
// the commands' own.
func TestHelpListsEveryFlag(t *testing.T) {
	_, help, _ := run(t, "help")
	for _, cmd := range []string{"local", "detach"} {
		for _, name := range commandFlags(t, cmd) {
			if !regexp.MustCompile(`[\s(\[]--` + regexp.QuoteMeta(name) + `[\s\])]`).MatchString(help) {
				t.Errorf("top-level help lacks %s --%s:\n%s", cmd, name, help)
			}
		}
	}
	for _, lvl := range config.LogLevels {
		if !strings.Contains(help, lvl) {
			t.Errorf("top-level help lacks LOG_LEVEL %s", lvl)
		}
	}
}

// detach names the instance when the instance's ENIs could not be listed
// (here: nothing listens on the ECS endpoint).
func TestDetachErrorNamesTheInstance(t *testing.T) {
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIexample")
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "example-secret")
	t.Setenv(config.EnvECSEndpoint, "http://127.0.0.1:9")
	t.Setenv(config.EnvDetachTimeout, "2s")
	code, out, errOut := run(t, "detach", "--region", "cn-hangzhou", "--instance", "i-abc123", "--timeout", "20s")
	if code != 1 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	var errLines []string
	for _, line := range strings.Split(errOut, "\n") {
		if strings.HasPrefix(line, "error:") {
			errLines = append(errLines, line)
		}
	}
	// The response follows on stdout: the error line does not repeat it.
	if want := "error: retryable failure: instance i-abc123 (Transport.Network)"; len(errLines) != 1 || errLines[0] != want {
		t.Fatalf("error lines %q, want [%q]", errLines, want)
	}
	if !strings.Contains(out, `"instanceId": "i-abc123"`) {
		t.Fatalf("stdout lacks the response:\n%s", out)
	}
}

// An invalid configuration stops local before it invokes anything: the
// environment given to it is a usage error.
func TestLocalInvalidConfiguration(t *testing.T) {
	t.Setenv(config.EnvDetachTimeout, "forever")
	code, out, errOut := run(t, "local")
	if code != 2 || out != "" || !strings.Contains(errOut, "local: InvalidConfiguration: DETACH_TIMEOUT") {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out, errOut)
	}
}
