package publish

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eni-detach/eni-detach/eventschema"
	"github.com/eni-detach/eni-detach/internal/creds"
	ebemu "github.com/eni-detach/eni-detach/internal/emulator/eventbridge"
)

const bus = "eni-detach-bus"

var (
	roleA = creds.Credentials{AccessKeyID: "STS.roleA", AccessKeySecret: "secret-A-7f3e", SecurityToken: "token-A-91c2"}
	roleB = creds.Credentials{AccessKeyID: "STS.roleB", AccessKeySecret: "secret-B-02aa", SecurityToken: "token-B-55d0"}
)

func emulator(t *testing.T) *ebemu.Server {
	t.Helper()
	s := ebemu.New()
	if err := s.Start(""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	s.AddCredentials(roleA)
	s.AddCredentials(roleB)
	s.AddBus(bus)
	return s
}

// fastConfig keeps retries quick so tests stay short.
func fastConfig(s *ebemu.Server) Config {
	u, err := url.Parse(s.URL())
	if err != nil {
		panic(err)
	}
	return Config{Endpoint: u, MaxAttempts: 4, BaseBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}
}

func makeEvents(n int, busName string) []eventschema.FollowUpEvent {
	out := make([]eventschema.FollowUpEvent, n)
	for i := range out {
		out[i] = eventschema.FollowUpEvent{
			SpecVersion:        "1.0",
			ID:                 fmt.Sprintf("evt-%03d", i),
			Source:             "acs:fc:cn-hangzhou:1234567890:functions/eni-detach",
			Type:               "eni-detach:NetworkInterface:Detached",
			Subject:            fmt.Sprintf("acs:ecs:cn-hangzhou:1234567890:eni/eni-%03d", i),
			Time:               time.Date(2025, 6, 3, 10, 0, 0, 123e6, time.UTC).Format(eventschema.TimeLayout),
			DataContentType:    "application/json",
			Data:               eventschema.Result{NetworkInterfaceID: fmt.Sprintf("eni-%03d", i), Outcome: eventschema.OutcomeDetached},
			AliyunEventBusName: busName,
		}
	}
	return out
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestPublishDeliversSignedCloudEvents(t *testing.T) {
	s := emulator(t)
	p := New(fastConfig(s))
	events := makeEvents(2, bus)
	rep := p.Publish(ctxTimeout(t, 10*time.Second), roleA, "cn-hangzhou", "1234567890", events)
	if rep.Err != nil || rep.Published != 2 || len(rep.Failed) != 0 || rep.Attempts != 1 {
		t.Fatalf("report = %+v", rep)
	}
	got := s.EventsForBus(bus)
	if len(got) != 2 {
		t.Fatalf("emulator holds %d events, want 2", len(got))
	}
	var ev map[string]any
	if err := json.Unmarshal(got[1].Event, &ev); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"specversion":        "1.0",
		"id":                 "evt-001",
		"source":             events[1].Source,
		"type":               events[1].Type,
		"subject":            events[1].Subject,
		"time":               "2025-06-03T10:00:00.123Z",
		"datacontenttype":    "application/json",
		"aliyuneventbusname": bus,
	}
	for k, v := range want {
		if ev[k] != v {
			t.Errorf("%s = %v, want %v", k, ev[k], v)
		}
	}
	if _, flat := ev["extensions"]; flat {
		t.Error("extensions were not flattened to top-level attributes")
	}
	data, ok := ev["data"].(map[string]any)
	if !ok || data["networkInterfaceId"] != "eni-001" || data["outcome"] != "Detached" {
		t.Errorf("data = %#v, want the JSON object", ev["data"])
	}
	for _, r := range got {
		if r.AccessKeyID != roleA.AccessKeyID || r.SecurityToken != roleA.SecurityToken {
			t.Errorf("signed by %q with token %q, want %q / %q", r.AccessKeyID, r.SecurityToken, roleA.AccessKeyID, roleA.SecurityToken)
		}
	}
	calls := s.Calls()
	if len(rep.RequestIDs) != 1 || len(calls) != 1 || rep.RequestIDs[0] != calls[0].RequestID {
		t.Fatalf("RequestIDs = %v, calls = %+v", rep.RequestIDs, calls)
	}
}

func TestPublishBatchesBySixteen(t *testing.T) {
	s := emulator(t)
	rep := New(fastConfig(s)).Publish(ctxTimeout(t, 10*time.Second), roleA, "cn-hangzhou", "1234567890", makeEvents(40, bus))
	if rep.Err != nil || rep.Published != 40 || rep.Attempts != 3 || len(rep.RequestIDs) != 3 {
		t.Fatalf("report = %+v", rep)
	}
	var sizes []int
	for _, c := range s.Calls() {
		sizes = append(sizes, c.Events)
	}
	if fmt.Sprint(sizes) != "[16 16 8]" {
		t.Fatalf("call sizes = %v, want [16 16 8]", sizes)
	}
	seen := map[string]bool{}
	for _, r := range s.Events() {
		var ev struct{ ID string }
		_ = json.Unmarshal(r.Event, &ev)
		seen[ev.ID] = true
	}
	if len(seen) != 40 {
		t.Fatalf("%d distinct events arrived, want 40", len(seen))
	}
}

// TestPublishRetries covers each failure the emulator can inject and what
// the publisher must make of it.
func TestPublishRetries(t *testing.T) {
	s := emulator(t)
	p := New(fastConfig(s))
	tests := []struct {
		name       string
		events     []eventschema.FollowUpEvent
		arm        func()
		published  int
		attempts   int
		callSizes  string // events per call, in order
		failedCode string // code of every Failure; "" when none
		retryable  bool
	}{
		{name: "partial failure retried, then accepted", events: makeEvents(5, bus),
			arm: func() { s.FailEntries(3, ebemu.CodeInternalError) }, published: 5, attempts: 2, callSizes: "[5 3]"},
		{name: "partial failure that never clears", events: makeEvents(2, bus),
			arm: func() { s.FailEntries(1000, ebemu.CodeInternalError) }, published: 0, attempts: 4, callSizes: "[2 2 2 2]",
			failedCode: ebemu.CodeInternalError, retryable: true},
		{name: "permanent entry failure is not retried", events: append(makeEvents(1, bus), makeEvents(1, "no-such-bus")...),
			arm: func() {}, published: 1, attempts: 1, callSizes: "[2]", failedCode: ebemu.CodeEventBusNotExist},
		{name: "5xx retried", events: makeEvents(3, bus),
			arm: func() { s.InjectError(503, ebemu.CodeServiceUnavailable, 2) }, published: 3, attempts: 3, callSizes: "[3 3 3]"},
		{name: "throttling retried", events: makeEvents(3, bus),
			arm: func() { s.InjectError(429, ebemu.CodeTooManyRequests, 1) }, published: 3, attempts: 2, callSizes: "[3 3]"},
		{name: "empty body recovered and retried", events: makeEvents(2, bus),
			arm: func() { s.InjectRawBody(200, "", 1) }, published: 2, attempts: 2, callSizes: "[2 2]"},
		{name: "array body recovered and retried", events: makeEvents(2, bus),
			arm: func() { s.InjectRawBody(200, "[]", 1) }, published: 2, attempts: 2, callSizes: "[2 2]"},
		{name: "body that always panics the SDK", events: makeEvents(2, bus),
			arm: func() { s.InjectRawBody(200, "[]", 1000) }, published: 0, attempts: 4, callSizes: "[2 2 2 2]",
			failedCode: CodeMalformedResponse, retryable: true},
		{name: "html error page retried", events: makeEvents(2, bus),
			arm: func() { s.InjectRawBody(502, "<html>Bad Gateway</html>", 1) }, published: 2, attempts: 2, callSizes: "[2 2]"},
		{name: "connection reset retried", events: makeEvents(2, bus),
			arm: func() { s.InjectReset(1) }, published: 2, attempts: 2, callSizes: "[0 2]"},
		{name: "invalid event fails alone, without a call", events: func() []eventschema.FollowUpEvent {
			ev := makeEvents(2, bus)
			ev[0].Type = strings.Repeat("x", 65)
			return ev
		}(), arm: func() {}, published: 1, attempts: 1, callSizes: "[1]", failedCode: CodeInvalidEvent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s.Reset()
			tc.arm()
			rep := p.Publish(ctxTimeout(t, 10*time.Second), roleA, "cn-hangzhou", "1234567890", tc.events)
			if rep.Published != tc.published || rep.Attempts != tc.attempts {
				t.Fatalf("published %d in %d attempts, want %d in %d; report %+v", rep.Published, rep.Attempts, tc.published, tc.attempts, rep)
			}
			var sizes []int
			for _, c := range s.Calls() {
				sizes = append(sizes, c.Events)
			}
			if fmt.Sprint(sizes) != tc.callSizes {
				t.Fatalf("call sizes = %v, want %s", sizes, tc.callSizes)
			}
			if n := len(s.Events()); n != tc.published {
				t.Fatalf("emulator holds %d events, report says %d", n, tc.published)
			}
			if tc.failedCode == "" {
				if rep.Err != nil || len(rep.Failed) != 0 {
					t.Fatalf("unexpected failure: %+v", rep)
				}
				return
			}
			if len(rep.Failed) != len(tc.events)-tc.published {
				t.Fatalf("Failed = %+v", rep.Failed)
			}
			for _, f := range rep.Failed {
				if f.Code != tc.failedCode || f.EventID == "" || f.Message == "" {
					t.Errorf("failure = %+v, want code %s", f, tc.failedCode)
				}
			}
			var e *Error
			if !errors.As(rep.Err, &e) || e.Code != tc.failedCode || e.Retryable != tc.retryable || e.Failed != len(rep.Failed) {
				t.Fatalf("Err = %#v", rep.Err)
			}
		})
	}
}

// TestPublishOutageEndsBeforeDeadline: with the service failing every call
// and attempts unlimited, the deadline is what stops the retries, and
// Publish returns with the error while the context is still live.
func TestPublishOutageEndsBeforeDeadline(t *testing.T) {
	s := emulator(t)
	s.InjectError(500, ebemu.CodeInternalError, 1<<30)
	cfg := fastConfig(s)
	cfg.MaxAttempts = 1 << 20
	ctx := ctxTimeout(t, 1500*time.Millisecond)
	rep := New(cfg).Publish(ctx, roleA, "cn-hangzhou", "1234567890", makeEvents(3, bus))
	if ctx.Err() != nil {
		t.Fatalf("Publish returned after the deadline: %v", ctx.Err())
	}
	var e *Error
	if !errors.As(rep.Err, &e) || e.Code != ebemu.CodeInternalError || !e.Retryable || rep.Published != 0 || len(rep.Failed) != 3 {
		t.Fatalf("report = %+v", rep)
	}
	if rep.Attempts < 2 || rep.Attempts != len(s.Calls()) {
		t.Fatalf("attempts = %d, calls = %d: the outage was not retried", rep.Attempts, len(s.Calls()))
	}
}

// TestPublishCallBoundedByDeadline: a service slower than the time left
// must not hold the invocation; the slow answer is never waited for.
func TestPublishCallBoundedByDeadline(t *testing.T) {
	s := emulator(t)
	s.InjectLatency(30*time.Second, 1<<30)
	rep := New(fastConfig(s)).Publish(ctxTimeout(t, 700*time.Millisecond), roleA, "cn-hangzhou", "1234567890", makeEvents(2, bus))
	var e *Error
	if !errors.As(rep.Err, &e) || rep.Published != 0 || rep.Attempts < 1 {
		t.Fatalf("report = %+v", rep)
	}
	if e.Code != CodeTimeout && e.Code != CodeDeadlineExceeded {
		t.Fatalf("code = %s, want %s or %s", e.Code, CodeTimeout, CodeDeadlineExceeded)
	}
	if n := len(s.Events()); n != 0 {
		t.Fatalf("emulator holds %d events", n)
	}
	// Each SDK call itself gave up (rather than being abandoned while still
	// connected): the emulator sees every client hang up, long before its
	// 30 s delay would have ended.
	if !callsEndWith(s, rep.Attempts, "ClientGone") {
		t.Fatalf("calls = %+v, want %d calls whose client hung up", s.Calls(), rep.Attempts)
	}
}

// callsEndWith polls (up to a few seconds) until n calls are logged, all
// with code.
func callsEndWith(s *ebemu.Server, n int, code string) bool {
	for range 300 {
		calls := s.Calls()
		if len(calls) == n {
			ok := true
			for _, c := range calls {
				ok = ok && c.Code == code
			}
			if ok {
				return true
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

func TestPublishBadCredentials(t *testing.T) {
	s := emulator(t)
	p := New(fastConfig(s))
	tests := []struct {
		name     string
		c        creds.Credentials
		code     string
		attempts int
	}{
		{name: "wrong secret", c: creds.Credentials{AccessKeyID: roleA.AccessKeyID, AccessKeySecret: "wrong-secret-4411", SecurityToken: roleA.SecurityToken},
			code: ebemu.CodeSignatureDoesNotMatch, attempts: 1},
		{name: "other role's token", c: creds.Credentials{AccessKeyID: roleA.AccessKeyID, AccessKeySecret: roleA.AccessKeySecret, SecurityToken: roleB.SecurityToken},
			code: ebemu.CodeSecurityTokenInvalid, attempts: 1},
		{name: "unknown key", c: creds.Credentials{AccessKeyID: "STS.unknown", AccessKeySecret: "unknown-secret-9", SecurityToken: "unknown-token-9"},
			code: ebemu.CodeInvalidStsAccessKeyID, attempts: 1},
		{name: "no key at all", c: creds.Credentials{SecurityToken: "lonely-token-3"}, code: CodeInvalidCredentials, attempts: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s.Reset()
			// 40 events: a credential failure must not be repeated per batch.
			rep := p.Publish(ctxTimeout(t, 10*time.Second), tc.c, "cn-hangzhou", "1234567890", makeEvents(40, bus))
			var e *Error
			if !errors.As(rep.Err, &e) || e.Code != tc.code || e.Retryable || rep.Attempts != tc.attempts || len(rep.Failed) != 40 {
				t.Fatalf("report: attempts %d, err %v", rep.Attempts, rep.Err)
			}
			assertNoSecrets(t, rep, tc.c)
		})
	}
}

// TestPublishRedactsEchoedSecrets: even a service (or proxy) that echoes
// the secret or token back cannot get them into the report.
func TestPublishRedactsEchoedSecrets(t *testing.T) {
	s := emulator(t)
	body := fmt.Sprintf(`{"code":"InternalError","message":"key %s token %s","requestId":"REQ-1"}`, roleA.AccessKeySecret, roleA.SecurityToken)
	s.InjectRawBody(500, body, 1)
	cfg := fastConfig(s)
	cfg.MaxAttempts = 1
	rep := New(cfg).Publish(ctxTimeout(t, 10*time.Second), roleA, "cn-hangzhou", "1234567890", makeEvents(1, bus))
	if rep.Err == nil || len(rep.Failed) != 1 || !strings.Contains(rep.Failed[0].Message, "[REDACTED]") {
		t.Fatalf("report = %+v", rep)
	}
	if len(rep.RequestIDs) != 1 || rep.RequestIDs[0] != "REQ-1" {
		t.Fatalf("RequestIDs = %v, want the error answer's", rep.RequestIDs)
	}
	assertNoSecrets(t, rep, roleA)
}

func assertNoSecrets(t *testing.T, rep Report, c creds.Credentials) {
	t.Helper()
	text := fmt.Sprintf("%v %+v %#v", rep.Err, rep.Failed, rep.Err)
	for _, sec := range c.Secrets() {
		if strings.Contains(text, sec) {
			t.Fatalf("secret %q leaked into the report: %s", sec, text)
		}
	}
}

// TestPublishConcurrentInvocations: one Publisher serving two invocations at
// once signs each one's events with that invocation's own credentials.
func TestPublishConcurrentInvocations(t *testing.T) {
	s := emulator(t)
	p := New(fastConfig(s))
	var wg sync.WaitGroup
	reps := make([]Report, 2)
	for k, c := range []creds.Credentials{roleA, roleB} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ev := makeEvents(20, bus)
			for i := range ev {
				ev[i].ID = fmt.Sprintf("%s-%d", strings.TrimPrefix(c.AccessKeyID, "STS."), i)
			}
			reps[k] = p.Publish(ctxTimeout(t, 10*time.Second), c, "cn-hangzhou", "1234567890", ev)
		}()
	}
	wg.Wait()
	for k, rep := range reps {
		if rep.Err != nil || rep.Published != 20 {
			t.Fatalf("invocation %d: %+v", k, rep)
		}
	}
	for _, r := range s.Events() {
		var ev struct{ ID string }
		_ = json.Unmarshal(r.Event, &ev)
		owner := roleA
		if strings.HasPrefix(ev.ID, "roleB-") {
			owner = roleB
		}
		if r.AccessKeyID != owner.AccessKeyID || r.SecurityToken != owner.SecurityToken {
			t.Fatalf("event %s signed by %s", ev.ID, r.AccessKeyID)
		}
	}
}

func TestPublishNothing(t *testing.T) {
	s := emulator(t)
	rep := New(fastConfig(s)).Publish(context.Background(), roleA, "cn-hangzhou", "1", nil)
	if rep.Err != nil || rep.Attempts != 0 || len(s.Calls()) != 0 {
		t.Fatalf("report = %+v", rep)
	}
}
