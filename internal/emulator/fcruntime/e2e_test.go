package fcruntime

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/eni-detach/eni-detach/internal/creds"
)

// echo is what testdata/hellofc answers.
type echo struct {
	Event          json.RawMessage `json:"event"`
	EnvRegion      string          `json:"envRegion"`
	RequestID      string          `json:"requestId"`
	AccessKeyID    string          `json:"accessKeyId"`
	HasSecret      bool            `json:"hasSecret"`
	HasToken       bool            `json:"hasToken"`
	FunctionName   string          `json:"functionName"`
	TimeoutSec     int             `json:"timeoutSec"`
	Region         string          `json:"region"`
	AccountID      string          `json:"accountId"`
	RetryCount     int             `json:"retryCount"`
	DeadlineUnixMs int64           `json:"deadlineUnixMs"`
}

var testCreds = creds.Credentials{
	AccessKeyID:     "STS.test-access-key",
	AccessKeySecret: "test-secret-never-echoed",
	SecurityToken:   "test-token-never-echoed",
}

// startHellofc runs hellofc under a fresh Server; both are torn down after the test.
func startHellofc(t *testing.T, cfg Config) (*Server, *Process) {
	t.Helper()
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	proc, err := srv.StartProcess(context.Background(), hellofcBin, nil)
	if err != nil {
		srv.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := proc.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
		if err := srv.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		assertOnly200(t, srv)
		if t.Failed() {
			t.Logf("child output:\n%s", proc.Output())
		}
	})
	return srv, proc
}

func decodeEcho(t *testing.T, res Result) echo {
	t.Helper()
	if res.Status != StatusResponse {
		t.Fatalf("status %q, want %q; body %s", res.Status, StatusResponse, res.Body)
	}
	var e echo
	if err := json.Unmarshal(res.Body, &e); err != nil {
		t.Fatalf("decoding %s: %v", res.Body, err)
	}
	return e
}

func compactJSON(t *testing.T, b []byte) string {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatalf("compact %s: %v", b, err)
	}
	return buf.String()
}

func TestRoundTrip(t *testing.T) {
	cfg := Config{Region: "cn-shanghai", AccountID: "5555", FunctionName: "detacher"}
	srv, proc := startHellofc(t, cfg)
	ctx := testCtx(t)

	firstNext, err := srv.WaitFirstNext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if firstNext.Before(proc.StartedAt) {
		t.Errorf("first next %v before start %v", firstNext, proc.StartedAt)
	}

	payload := []byte(`{"hello": "world", "n": [1, 2]}`)
	res, err := srv.Invoke(ctx, Invocation{RequestID: "req-roundtrip", Payload: payload, Credentials: testCreds, RetryCount: 2})
	if err != nil {
		t.Fatal(err)
	}
	got := decodeEcho(t, res)
	want := echo{
		Event:          json.RawMessage(compactJSON(t, payload)),
		EnvRegion:      "cn-shanghai",
		RequestID:      "req-roundtrip",
		AccessKeyID:    testCreds.AccessKeyID,
		HasSecret:      true,
		HasToken:       true,
		FunctionName:   "detacher",
		TimeoutSec:     3,
		Region:         "cn-shanghai",
		AccountID:      "5555",
		RetryCount:     2,
		DeadlineUnixMs: res.Deadline.UnixMilli(),
	}
	got.Event = json.RawMessage(compactJSON(t, got.Event))
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Errorf("echo\n got %+v\nwant %+v", got, want)
	}
	if res.RequestID != "req-roundtrip" {
		t.Errorf("result request id %q", res.RequestID)
	}
	for _, secret := range testCreds.Secrets() {
		if bytes.Contains(res.Body, []byte(secret)) {
			t.Errorf("response leaks %q", secret)
		}
	}
	// The SDK logs each invocation on stdout: proves output capture works.
	eventually(t, "SDK start log line", func() bool {
		for _, l := range proc.Lines() {
			if l.Stream == "stdout" && l.Text == "FC Invoke Start RequestId: req-roundtrip" {
				return true
			}
		}
		return false
	})
	rss, err := proc.PeakRSS()
	if err != nil || rss <= 0 {
		t.Errorf("PeakRSS = %d, %v", rss, err)
	}
	if st := srv.Stats(); st.Responses != 1 || st.Errors != 0 || st.Dispatched != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestConcurrentInvocations(t *testing.T) {
	srv, _ := startHellofc(t, Config{})
	const n = 40
	invs := make([]Invocation, n)
	for i := range invs {
		invs[i] = Invocation{
			RequestID: fmt.Sprintf("req-conc-%02d", i),
			// The sleep makes the invocations overlap inside the child.
			Payload:     fmt.Appendf(nil, `{"n":%d,"sleepMs":50}`, i),
			Credentials: creds.Credentials{AccessKeyID: fmt.Sprintf("ak-%02d", i), AccessKeySecret: "s"},
		}
	}
	results := srv.InvokeConcurrently(testCtx(t), invs)
	for i, res := range results {
		if res.Err != nil {
			t.Errorf("%d: %v", i, res.Err)
			continue
		}
		got := decodeEcho(t, res)
		if got.RequestID != invs[i].RequestID || res.RequestID != invs[i].RequestID {
			t.Errorf("%d: request id %q / %q, want %q", i, got.RequestID, res.RequestID, invs[i].RequestID)
		}
		if got.AccessKeyID != invs[i].Credentials.AccessKeyID {
			t.Errorf("%d: access key %q, want %q", i, got.AccessKeyID, invs[i].Credentials.AccessKeyID)
		}
		if e := compactJSON(t, got.Event); e != string(invs[i].Payload) {
			t.Errorf("%d: event %s, want %s", i, e, invs[i].Payload)
		}
	}
	st := srv.Stats()
	if st.Responses != n || st.Dispatched != n || st.InFlight != 0 {
		t.Errorf("stats %+v", st)
	}
	if st.MaxInFlight < 2 {
		t.Errorf("max in flight %d: invocations were not concurrent", st.MaxInFlight)
	}
}

func TestHandlerFailures(t *testing.T) {
	srv, proc := startHellofc(t, Config{})
	ctx := testCtx(t)
	tests := []struct {
		name, payload, wantMessage, wantType string
		wantStack                            bool
	}{
		{"returned error", `{"fail":true}`, "hellofc: asked to fail", "errorString", false},
		{"panic", `{"panic":true}`, "hellofc: asked to panic", "string", true},
		{"undecodable event", `not json`, "", "SyntaxError", false},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := srv.Invoke(ctx, Invocation{RequestID: fmt.Sprintf("req-fail-%d", i), Payload: []byte(tc.payload)})
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != StatusError {
				t.Fatalf("status %q, body %s", res.Status, res.Body)
			}
			if tc.wantMessage != "" && res.ErrorMessage != tc.wantMessage {
				t.Errorf("errorMessage %q, want %q", res.ErrorMessage, tc.wantMessage)
			}
			if res.ErrorMessage == "" {
				t.Errorf("empty errorMessage; body %s", res.Body)
			}
			if res.ErrorType != tc.wantType {
				t.Errorf("errorType %q, want %q", res.ErrorType, tc.wantType)
			}
			if hasStack := len(res.StackTrace) > 0; hasStack != tc.wantStack {
				t.Errorf("stack trace present = %v, want %v: %s", hasStack, tc.wantStack, res.StackTrace)
			}

			// The process lives on and answers the next invocation.
			after, err := srv.Invoke(ctx, Invocation{RequestID: fmt.Sprintf("req-after-%d", i), Payload: []byte(`{"ok":1}`)})
			if err != nil {
				t.Fatal(err)
			}
			if got := decodeEcho(t, after); got.RequestID != after.RequestID {
				t.Errorf("after failure: request id %q", got.RequestID)
			}
			select {
			case <-proc.Exited():
				t.Fatal("child exited")
			default:
			}
		})
	}
	if st := srv.Stats(); st.Errors != len(tests) || st.Responses != len(tests) {
		t.Errorf("stats %+v", st)
	}
}

func TestDeadline(t *testing.T) {
	srv, _ := startHellofc(t, Config{})
	tests := []struct {
		name        string
		timeout     time.Duration
		wantSeconds int
	}{
		{"whole seconds", 7 * time.Second, 7},
		{"sub-second rounds up", 1500 * time.Millisecond, 2},
		{"default", 0, 3},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := srv.Invoke(testCtx(t), Invocation{RequestID: fmt.Sprintf("req-dl-%d", i), Payload: []byte(`{}`), Timeout: tc.timeout})
			if err != nil {
				t.Fatal(err)
			}
			got := decodeEcho(t, res)
			if got.TimeoutSec != tc.wantSeconds {
				t.Errorf("timeout %d s, want %d", got.TimeoutSec, tc.wantSeconds)
			}
			// The child's ctx deadline is exactly the header we sent.
			if got.DeadlineUnixMs != res.Deadline.UnixMilli() {
				t.Errorf("child deadline %d, header %d", got.DeadlineUnixMs, res.Deadline.UnixMilli())
			}
			timeout := tc.timeout
			if timeout == 0 {
				timeout = 3 * time.Second
			}
			// Sanity only: the deadline is dispatch time + timeout, ms precision.
			if d := res.Deadline.Sub(res.DispatchedAt); d > timeout || d < timeout-time.Millisecond {
				t.Errorf("deadline − dispatch = %v, want %v", d, timeout)
			}
			if !res.QueuedAt.Before(res.DispatchedAt.Add(time.Nanosecond)) || res.CompletedAt.Before(res.DispatchedAt) {
				t.Errorf("times out of order: %+v", res)
			}
		})
	}
}

// A live child whose Server closes stays parked in `next` instead of retrying
// without backoff; Close returns once the child goes.
func TestCloseParksLiveChild(t *testing.T) {
	srv, err := NewServer(Config{ShutdownGrace: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	// Not StartProcess: Close would stop an owned child first.
	cmd := exec.Command(hellofcBin)
	cmd.Env = srv.Env()
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan struct{})
	go func() {
		_ = cmd.Wait() // killed below: the error is always "signal: killed"
		close(waited)
	}()
	defer func() {
		_ = cmd.Process.Kill()
		<-waited
	}()

	ctx := testCtx(t)
	if _, err := srv.Invoke(ctx, Invocation{Payload: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "child parked in next", func() bool { return srv.Stats().NextParked == 1 })

	closed := make(chan error, 1)
	go func() { closed <- srv.Close() }()
	eventually(t, "Close started", srv.isClosed)
	if _, err := srv.Invoke(ctx, Invocation{Payload: []byte(`{}`)}); err != ErrClosed {
		t.Errorf("Invoke after Close: %v, want ErrClosed", err)
	}
	before := srv.Stats().NextCalls
	// Observation window: a spinning SDK would make thousands of calls here.
	time.Sleep(200 * time.Millisecond)
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while the child was alive", err)
	default:
	}
	if after := srv.Stats().NextCalls; after != before {
		t.Errorf("next calls went from %d to %d after Close", before, after)
	}

	_ = cmd.Process.Kill()
	<-waited
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("Close did not return after the child exited")
	}
	st := srv.Stats()
	if st.NextAbandoned != 1 {
		t.Errorf("stats %+v", st)
	}
	assertOnly200(t, srv)
	if strings.Contains(out.String(), "failed to get invoke request") {
		t.Errorf("child saw a failing next:\n%s", out.String())
	}
}
