package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Run(args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestLocalDetachesADemoENI(t *testing.T) {
	code, out, logs := run(t, "local", "--detach-delay", "100ms")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, logs)
	}
	for _, want := range []string{`"outcome": "Detached"`, `"networkInterfaceId": "eni-demo0000000000001"`,
		"eni-demo0000000000001  Secondary  Available", `"type": "eni-detach:NetworkInterface:Detached"`, `"published": 1`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(logs, `"request_id":"local-`) {
		t.Errorf("logs lack the request id:\n%s", logs)
	}
}

func TestLocalWithEventFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(file, []byte(`{"InstanceId":"i-demo0000000000001","DryRun":true}`), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, _ := run(t, "local", "--event", file, "--detach-delay", "50ms")
	if code != 0 || strings.Count(out, `"outcome": "DryRun"`) != 2 || !strings.Contains(out, "(none)") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

func TestLocalBadEventIsAnInvalidRequest(t *testing.T) {
	file := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(file, []byte(`{"NetworkInterfaceId":"bad"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, _ := run(t, "local", "--event", file)
	if code != 1 || !strings.Contains(out, `"code": "InvalidRequest"`) || !strings.Contains(out, "NetworkInterfaceId") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "eni-detach local"},
		{[]string{"help"}, 0, "eni-detach detach"},
		{[]string{"frobnicate"}, 2, "unknown command"},
		{[]string{"local", "--help"}, 0, "usage: eni-detach local"},
		{[]string{"detach", "--help"}, 0, "usage: eni-detach detach"},
		{[]string{"detach", "--eni", "eni-a1"}, 2, "--region is required"},
		{[]string{"detach", "--region", "cn-hangzhou", "--eni", "ENI"}, 2, "NetworkInterfaceId"},
		{[]string{"local", "--event", "/does/not/exist"}, 2, "no such file"},
	} {
		code, out, errOut := run(t, tc.args...)
		if code != tc.code || !strings.Contains(out+errOut, tc.want) {
			t.Errorf("%v: exit %d, output %q", tc.args, code, out+errOut)
		}
	}
}

func TestDetachNeedsCredentials(t *testing.T) {
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "")
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "")
	code, _, errOut := run(t, "detach", "--region", "cn-hangzhou", "--eni", "eni-a1")
	if code != 2 || !strings.Contains(errOut, "ALIBABA_CLOUD_ACCESS_KEY_ID") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
}
