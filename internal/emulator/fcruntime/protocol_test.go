package fcruntime

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eni-detach/eni-detach/internal/creds"
)

// These tests speak the protocol by hand, as the SDK's runtime_api_client.go does.

// harness is a Server plus the hand-driven "child": an HTTP client whose
// connections are dropped before Close, as a child's would be when it exits.
type harness struct {
	*Server
	client *http.Client
}

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{}
	t.Cleanup(func() {
		// Cleanups run last-in first-out: testCtx's cancel, registered later,
		// has already released any parked `next`.
		tr.CloseIdleConnections()
		if err := srv.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		assertOnly200(t, srv)
	})
	return &harness{Server: srv, client: &http.Client{Transport: tr}}
}

type nextReply struct {
	status int
	header http.Header
	body   string
	err    error
}

// next issues one `next` in the background, like the SDK's loop.
func (h *harness) next(ctx context.Context) <-chan nextReply {
	ch := make(chan nextReply, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+h.Addr()+nextPath, nil)
		resp, err := h.client.Do(req)
		if err != nil {
			ch <- nextReply{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		ch <- nextReply{status: resp.StatusCode, header: resp.Header, body: string(b), err: err}
	}()
	return ch
}

func (h *harness) post(t *testing.T, id, kind, body string) int {
	t.Helper()
	resp, err := h.client.Post("http://"+h.Addr()+apiPrefix+id+"/"+kind, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

type invokeReply struct {
	res Result
	err error
}

func invokeAsync(ctx context.Context, srv *Server, inv Invocation) <-chan invokeReply {
	ch := make(chan invokeReply, 1)
	go func() {
		res, err := srv.Invoke(ctx, inv)
		ch <- invokeReply{res, err}
	}()
	return ch
}

func TestNextCarriesInvocation(t *testing.T) {
	srv := newHarness(t, Config{Region: "cn-beijing", AccountID: "42", FunctionName: "fn", Handler: "bootstrap", Memory: 256})
	ctx := testCtx(t)
	nexts := srv.next(ctx)
	eventually(t, "next parked", func() bool { return srv.Stats().NextParked == 1 })

	inv := Invocation{
		RequestID:   "req-headers",
		Payload:     []byte(`{"raw":true}`),
		Timeout:     10 * time.Second,
		Credentials: creds.Credentials{AccessKeyID: "ak", AccessKeySecret: "sk", SecurityToken: "tok"},
		RetryCount:  1,
	}
	invoked := invokeAsync(ctx, srv.Server, inv)
	got := <-nexts
	if got.err != nil || got.status != http.StatusOK {
		t.Fatalf("next: %d %v", got.status, got.err)
	}
	if got.body != string(inv.Payload) {
		t.Errorf("body %q", got.body)
	}
	want := map[string]string{
		"x-fc-request-id":        "req-headers",
		"x-fc-function-timeout":  "10",
		"x-fc-access-key-id":     "ak",
		"x-fc-access-key-secret": "sk",
		"x-fc-security-token":    "tok",
		"x-fc-function-name":     "fn",
		"x-fc-function-handler":  "bootstrap",
		"x-fc-function-memory":   "256",
		"x-fc-region":            "cn-beijing",
		"x-fc-account-id":        "42",
		"x-fc-retry-count":       "1",
		"x-fc-function-type":     "0",
	}
	for k, v := range want {
		if g := got.header.Get(k); g != v {
			t.Errorf("%s = %q, want %q", k, g, v)
		}
	}
	deadlineMs, err := strconv.ParseInt(got.header.Get("x-fc-function-deadline"), 10, 64)
	if err != nil {
		t.Fatalf("deadline header: %v", err)
	}

	if code := srv.post(t, "req-headers", "response", `{"answer":42}`); code != http.StatusOK {
		t.Fatalf("response post: %d", code)
	}
	r := <-invoked
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.res.Status != StatusResponse || string(r.res.Body) != `{"answer":42}` {
		t.Errorf("result %+v", r.res)
	}
	if r.res.Deadline.UnixMilli() != deadlineMs {
		t.Errorf("result deadline %d, header %d", r.res.Deadline.UnixMilli(), deadlineMs)
	}
	// A second completion for the same id finds nothing in flight.
	if code := srv.post(t, "req-headers", "response", `{}`); code != http.StatusNotFound {
		t.Errorf("duplicate completion: %d, want 404", code)
	}
}

// TestNextWithoutFunctionInfo: the optional function headers can be left
// out; the required ones and the credentials are still sent.
func TestNextWithoutFunctionInfo(t *testing.T) {
	srv := newHarness(t, Config{Region: "cn-beijing", AccountID: "42", FunctionName: "fn"})
	ctx := testCtx(t)
	nexts := srv.next(ctx)
	invoked := invokeAsync(ctx, srv.Server, Invocation{RequestID: "req-bare", Payload: []byte(`{}`), WithoutFunctionInfo: true,
		Credentials: creds.Credentials{AccessKeyID: "ak", AccessKeySecret: "sk"}})
	got := <-nexts
	if got.err != nil || got.status != http.StatusOK {
		t.Fatalf("next: %d %v", got.status, got.err)
	}
	for _, k := range []string{"x-fc-function-name", "x-fc-region", "x-fc-account-id"} {
		if v, ok := got.header[http.CanonicalHeaderKey(k)]; ok {
			t.Errorf("%s sent: %q", k, v)
		}
	}
	if got.header.Get("x-fc-request-id") != "req-bare" || got.header.Get("x-fc-access-key-id") != "ak" ||
		got.header.Get("x-fc-function-deadline") == "" {
		t.Errorf("headers %v", got.header)
	}
	if code := srv.post(t, "req-bare", "response", `{}`); code != http.StatusOK {
		t.Fatalf("response post: %d", code)
	}
	if r := <-invoked; r.err != nil || r.res.Status != StatusResponse {
		t.Fatalf("result %+v %v", r.res, r.err)
	}
}

func TestCompletionKinds(t *testing.T) {
	tests := []struct {
		name, kind, body                 string
		wantStatus, wantMsg, wantErrType string
	}{
		{"response", "response", `"plain"`, StatusResponse, "", ""},
		{"error object", "error", `{"errorMessage":"boom","errorType":"Custom"}`, StatusError, "boom", "Custom"},
		{"error not json", "error", `oops`, StatusError, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newHarness(t, Config{})
			ctx := testCtx(t)
			nexts := srv.next(ctx)
			invoked := invokeAsync(ctx, srv.Server, Invocation{Payload: []byte(`{}`)})
			n := <-nexts
			if n.err != nil {
				t.Fatal(n.err)
			}
			id := n.header.Get("x-fc-request-id")
			if len(id) != 36 {
				t.Errorf("generated request id %q", id)
			}
			if code := srv.post(t, id, tc.kind, tc.body); code != http.StatusOK {
				t.Fatalf("post: %d", code)
			}
			r := <-invoked
			if r.err != nil {
				t.Fatal(r.err)
			}
			if r.res.RequestID != id || r.res.Status != tc.wantStatus || string(r.res.Body) != tc.body ||
				r.res.ErrorMessage != tc.wantMsg || r.res.ErrorType != tc.wantErrType {
				t.Errorf("result %+v", r.res)
			}
		})
	}
}

func TestUnknownCompletionIs404(t *testing.T) {
	srv := newHarness(t, Config{})
	ctx := testCtx(t)
	// Queued but never dispatched (no `next` waiting): not completable either.
	invoked := invokeAsync(ctx, srv.Server, Invocation{RequestID: "queued"})
	eventually(t, "queued", func() bool {
		srv.mu.Lock()
		defer srv.mu.Unlock()
		return srv.pending["queued"] != nil
	})
	for _, tc := range []struct{ id, kind string }{{"nope", "response"}, {"nope", "error"}, {"queued", "response"}} {
		if code := srv.post(t, tc.id, tc.kind, `{}`); code != http.StatusNotFound {
			t.Errorf("%s/%s: %d, want 404", tc.id, tc.kind, code)
		}
	}
	if got := srv.Stats().UnknownPosts; got != 3 {
		t.Errorf("unknown posts %d", got)
	}
	srv.Close()
	if r := <-invoked; !errors.Is(r.err, ErrClosed) {
		t.Errorf("queued Invoke after Close: %v", r.err)
	}
}

func TestAbandonedNextLosesNothing(t *testing.T) {
	srv := newHarness(t, Config{})
	ctx := testCtx(t)
	gone, leave := context.WithCancel(ctx)
	first := srv.next(gone)
	eventually(t, "next parked", func() bool { return srv.Stats().NextParked == 1 })
	leave()
	if r := <-first; r.err == nil {
		t.Fatalf("cancelled next got %d", r.status)
	}
	eventually(t, "abandon noticed", func() bool { return srv.Stats().NextAbandoned == 1 })

	invoked := invokeAsync(ctx, srv.Server, Invocation{RequestID: "after-abandon"})
	second := <-srv.next(ctx)
	if second.err != nil || second.header.Get("x-fc-request-id") != "after-abandon" {
		t.Fatalf("second next: %+v", second)
	}
	srv.post(t, "after-abandon", "response", `1`)
	if r := <-invoked; r.err != nil || string(r.res.Body) != "1" {
		t.Errorf("invoke: %+v", r)
	}
}

func TestInvokeRejectsAndGivesUp(t *testing.T) {
	srv := newHarness(t, Config{})
	ctx := testCtx(t)
	first := invokeAsync(ctx, srv.Server, Invocation{RequestID: "dup"})
	eventually(t, "queued", func() bool {
		srv.mu.Lock()
		defer srv.mu.Unlock()
		return srv.pending["dup"] != nil
	})
	if _, err := srv.Invoke(ctx, Invocation{RequestID: "dup"}); err == nil {
		t.Error("duplicate request id accepted")
	}

	short, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := srv.Invoke(short, Invocation{RequestID: "cancelled"}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ctx: %v", err)
	}

	// Once given up, the id is free again and the slot is not leaked.
	srv.mu.Lock()
	_, still := srv.pending["cancelled"]
	srv.mu.Unlock()
	if still {
		t.Error("given-up invocation still pending")
	}
	n := <-srv.next(ctx)
	srv.post(t, n.header.Get("x-fc-request-id"), "response", `{}`)
	if r := <-first; r.err != nil {
		t.Error(r.err)
	}
}

func TestInstanceConcurrencyOne(t *testing.T) {
	srv := newHarness(t, Config{InstanceConcurrency: 1})
	ctx := testCtx(t)
	a := invokeAsync(ctx, srv.Server, Invocation{RequestID: "a"})
	b := invokeAsync(ctx, srv.Server, Invocation{RequestID: "b"})
	n1 := <-srv.next(ctx)
	second := srv.next(ctx)
	eventually(t, "second next parked", func() bool { return srv.Stats().NextParked == 1 })
	id1 := n1.header.Get("x-fc-request-id")
	srv.post(t, id1, "response", `{}`)
	n2 := <-second
	id2 := n2.header.Get("x-fc-request-id")
	srv.post(t, id2, "response", `{}`)
	ra, rb := <-a, <-b
	if ra.err != nil || rb.err != nil {
		t.Fatal(ra.err, rb.err)
	}
	firstRes, secondRes := ra.res, rb.res
	if id1 == "b" {
		firstRes, secondRes = rb.res, ra.res
	}
	if secondRes.DispatchedAt.Before(firstRes.CompletedAt) {
		t.Errorf("second dispatched at %v before first completed at %v", secondRes.DispatchedAt, firstRes.CompletedAt)
	}
	if st := srv.Stats(); st.MaxInFlight != 1 {
		t.Errorf("max in flight %d", st.MaxInFlight)
	}
}

func TestWrongMethodOnNextIsCounted(t *testing.T) {
	// Not newHarness: its cleanup would flag the 405 this test provokes.
	srv, err := NewServer(Config{})
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{}
	defer srv.Close()
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Post("http://"+srv.Addr()+nextPath, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// The invariant check must see statuses the mux writes, or it proves nothing.
	if got := srv.Stats().NextStatus[http.StatusMethodNotAllowed]; got != 1 {
		t.Errorf("405s counted: %d", got)
	}
}

func TestEnv(t *testing.T) {
	srv := newHarness(t, Config{Region: "r", AccountID: "a", FunctionName: "f", Handler: "h", Memory: 512, InstanceID: "i"})
	want := []string{
		"FC_RUNTIME_API=" + srv.Addr(), "FC_REGION=r", "FC_ACCOUNT_ID=a", "FC_FUNCTION_NAME=f",
		"FC_FUNCTION_HANDLER=h", "FC_FUNCTION_MEMORY_SIZE=512", "FC_INSTANCE_ID=i",
	}
	if got := srv.Env(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Env\n got %q\nwant %q", got, want)
	}
	if !strings.HasPrefix(srv.Addr(), "127.0.0.1:") {
		t.Errorf("addr %q", srv.Addr())
	}
}

func TestWaitFirstNext(t *testing.T) {
	srv := newHarness(t, Config{})
	ctx := testCtx(t)
	early, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := srv.WaitFirstNext(early); !errors.Is(err, context.Canceled) {
		t.Errorf("before any next: %v", err)
	}
	before := time.Now()
	srv.next(ctx)
	at, err := srv.WaitFirstNext(ctx)
	if err != nil || at.Before(before) {
		t.Errorf("WaitFirstNext = %v, %v (asked at %v)", at, err, before)
	}
}
