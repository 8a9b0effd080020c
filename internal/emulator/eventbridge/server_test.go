package eventbridge

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	eb "github.com/alibabacloud-go/eventbridge-sdk/eventbridge"
	util "github.com/alibabacloud-go/tea-utils/service"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/eni-detach/eni-detach/internal/creds"
)

var (
	stsA = creds.Credentials{AccessKeyID: "STS.keyA", AccessKeySecret: "secretA", SecurityToken: "tokenA"}
	stsB = creds.Credentials{AccessKeyID: "STS.keyB", AccessKeySecret: "secretB", SecurityToken: "tokenB"}
	ltk  = creds.Credentials{AccessKeyID: "LTAIlong", AccessKeySecret: "longsecret"}
)

func startServer(t *testing.T) *Server {
	t.Helper()
	s := New()
	if err := s.Start(""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	s.AddCredentials(stsA)
	s.AddCredentials(stsB)
	s.AddCredentials(ltk)
	s.AddBus("bus1")
	return s
}

func sdkClient(t *testing.T, endpoint string, c creds.Credentials) *eb.Client {
	t.Helper()
	cfg := new(eb.Config).SetAccessKeyId(c.AccessKeyID).SetAccessKeySecret(c.AccessKeySecret).
		SetEndpoint(endpoint).SetRegionId("cn-hangzhou")
	if c.SecurityToken != "" {
		cfg.SetSecurityToken(c.SecurityToken)
	}
	cl, err := eb.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

func cloudEvent(id, bus string) *eb.CloudEvent {
	return new(eb.CloudEvent).SetId(id).SetSource("acs:fc:cn-hangzhou:123:functions/f").
		SetType("eni-detach:NetworkInterface:Detached").SetSubject("acs:ecs:cn-hangzhou:123:eni/eni-1").
		SetTime("2025-06-03T10:00:00Z").SetDatacontenttype("application/json").
		SetData([]byte(`{"networkInterfaceId":"eni-1"}`)).
		SetExtensions(map[string]interface{}{"aliyuneventbusname": bus})
}

// put calls the real SDK; a panic inside it (malformed body) is returned
// as panicked rather than crashing the test binary.
func put(cl *eb.Client, readTimeoutMs int, events ...*eb.CloudEvent) (resp *eb.PutEventsResponse, err error, panicked any) {
	defer func() { panicked = recover() }()
	rt := &util.RuntimeOptions{}
	if readTimeoutMs > 0 {
		rt.ReadTimeout = tea.Int(readTimeoutMs)
	}
	resp, err = cl.PutEventsWithOptions(events, rt)
	return resp, err, nil
}

func sdkCode(err error) string {
	if se, ok := err.(*tea.SDKError); ok {
		return tea.StringValue(se.Code)
	}
	return ""
}

func TestSDKAcceptsAndStores(t *testing.T) {
	s := startServer(t)
	tests := []struct {
		name string
		c    creds.Credentials
	}{
		{name: "sts", c: stsA},
		{name: "long-term key", c: ltk},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s.Reset()
			resp, err, p := put(sdkClient(t, s.Endpoint(), tc.c), 0, cloudEvent("ev-1", "bus1"), cloudEvent("ev-2", "bus1"))
			if err != nil || p != nil {
				t.Fatalf("PutEvents: err=%v panic=%v", err, p)
			}
			if tea.IntValue(resp.FailedEntryCount) != 0 || len(resp.EntryList) != 2 || tea.StringValue(resp.EntryList[1].EventId) != "ev-2" {
				t.Fatalf("response = %s", resp)
			}
			got := s.EventsForBus("bus1")
			if len(got) != 2 {
				t.Fatalf("stored %d events, want 2", len(got))
			}
			var ev map[string]any
			if err := json.Unmarshal(got[0].Event, &ev); err != nil {
				t.Fatal(err)
			}
			if ev["id"] != "ev-1" || ev["specversion"] != "1.0" || ev["aliyuneventbusname"] != "bus1" {
				t.Fatalf("stored event = %s", got[0].Event)
			}
			if data, _ := ev["data"].(map[string]any); data["networkInterfaceId"] != "eni-1" {
				t.Fatalf("data not decoded to an object: %s", got[0].Event)
			}
			if got[0].AccessKeyID != tc.c.AccessKeyID || got[0].SecurityToken != tc.c.SecurityToken {
				t.Fatalf("signer = %q/%q, want %q/%q", got[0].AccessKeyID, got[0].SecurityToken, tc.c.AccessKeyID, tc.c.SecurityToken)
			}
			if got[0].RequestID != tea.StringValue(resp.RequestId) {
				t.Fatalf("RequestID %q vs response %q", got[0].RequestID, tea.StringValue(resp.RequestId))
			}
			calls := s.Calls()
			if len(calls) != 1 || calls[0].Status != 200 || calls[0].Events != 2 || calls[0].AccessKeyID != tc.c.AccessKeyID {
				t.Fatalf("calls = %+v", calls)
			}
		})
	}
}

func TestSDKAuthFailures(t *testing.T) {
	s := startServer(t)
	s.AddCredentials(creds.Credentials{AccessKeyID: "STS.old", AccessKeySecret: "s", SecurityToken: "t"})
	s.ExpireCredentials("STS.old")
	tests := []struct {
		name string
		c    creds.Credentials
		code string
	}{
		{name: "unknown sts key", c: creds.Credentials{AccessKeyID: "STS.nope", AccessKeySecret: "x", SecurityToken: "y"}, code: CodeInvalidStsAccessKeyID},
		{name: "unknown key", c: creds.Credentials{AccessKeyID: "LTAInope", AccessKeySecret: "x"}, code: CodeInvalidAccessKeyID},
		{name: "wrong secret", c: creds.Credentials{AccessKeyID: stsA.AccessKeyID, AccessKeySecret: "bad", SecurityToken: stsA.SecurityToken}, code: CodeSignatureDoesNotMatch},
		{name: "missing token", c: creds.Credentials{AccessKeyID: stsA.AccessKeyID, AccessKeySecret: stsA.AccessKeySecret}, code: CodeSecurityTokenInvalid},
		{name: "other key's token", c: creds.Credentials{AccessKeyID: stsA.AccessKeyID, AccessKeySecret: stsA.AccessKeySecret, SecurityToken: stsB.SecurityToken}, code: CodeSecurityTokenInvalid},
		{name: "token on long-term key", c: creds.Credentials{AccessKeyID: ltk.AccessKeyID, AccessKeySecret: ltk.AccessKeySecret, SecurityToken: "tokenA"}, code: CodeSecurityTokenInvalid},
		{name: "expired", c: creds.Credentials{AccessKeyID: "STS.old", AccessKeySecret: "s", SecurityToken: "t"}, code: CodeStsAccessIDExpired},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s.Reset()
			_, err, p := put(sdkClient(t, s.Endpoint(), tc.c), 0, cloudEvent("ev-1", "bus1"))
			if p != nil {
				t.Fatalf("panic: %v", p)
			}
			if got := sdkCode(err); got != tc.code {
				t.Fatalf("code = %q (err %v), want %q", got, err, tc.code)
			}
			if !strings.Contains(err.Error(), "[EventBridgeError-") {
				t.Fatalf("SDK did not read requestId/message: %v", err)
			}
			if n := len(s.Events()); n != 0 {
				t.Fatalf("stored %d events on an auth failure", n)
			}
			calls := s.Calls()
			if len(calls) != 1 || calls[0].Status != http.StatusForbidden || calls[0].Code != tc.code || calls[0].AccessKeyID != tc.c.AccessKeyID {
				t.Fatalf("calls = %+v", calls)
			}
		})
	}
}

// TestAuthorizationForms sends hand-signed requests (no SDK code) in both
// accepted authorization spellings, plus broken variants.
func TestAuthorizationForms(t *testing.T) {
	s := startServer(t)
	body := `[{"specversion":"1.0","id":"h-1","source":"s","type":"t","aliyuneventbusname":"bus1"}]`
	tests := []struct {
		name        string
		form        string
		c           creds.Credentials
		contentType string
		tamper      func(*http.Request)
		status      int
		code        string
	}{
		{name: "colon form sts", form: "colon", c: stsA, contentType: ContentType + "; charset=utf-8", status: 200},
		{name: "space form sts", form: "space", c: stsB, contentType: ContentType + "; charset=utf-8", status: 200},
		{name: "space form long-term", form: "space", c: ltk, contentType: ContentType, status: 200},
		{name: "wrong content type", form: "colon", c: stsA, contentType: "application/json; charset=utf-8", status: 400, code: CodeInvalidArgument},
		{name: "tampered nonce", form: "space", c: stsA, contentType: ContentType,
			tamper: func(r *http.Request) { r.Header.Set("x-acs-signature-nonce", "other") }, status: 403, code: CodeSignatureDoesNotMatch},
		{name: "no authorization", form: "colon", c: stsA, contentType: ContentType,
			tamper: func(r *http.Request) { r.Header.Del("Authorization") }, status: 403, code: CodeInvalidAuthorization},
		{name: "accesskey header mismatch", form: "colon", c: stsA, contentType: ContentType,
			tamper: func(r *http.Request) { r.Header.Set("x-acs-accesskey-id", "STS.keyB") }, status: 403, code: CodeInvalidAccessKeyID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s.Reset()
			req := handSigned(t, s.URL(), tc.c.AccessKeyID, tc.c.AccessKeySecret, tc.c.SecurityToken, tc.contentType, body, tc.form)
			if tc.tamper != nil {
				tc.tamper(req)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d (%s), want %d", resp.StatusCode, raw, tc.status)
			}
			if tc.status != 200 {
				var e errorBody
				if err := json.Unmarshal(raw, &e); err != nil || e.Code != tc.code || e.RequestID == "" || e.Message == "" {
					t.Fatalf("error body = %s, want code %q", raw, tc.code)
				}
				if len(s.Events()) != 0 {
					t.Fatal("stored an event from a rejected call")
				}
				return
			}
			ev := s.Events()
			if len(ev) != 1 || ev[0].AccessKeyID != tc.c.AccessKeyID || ev[0].SecurityToken != tc.c.SecurityToken {
				t.Fatalf("events = %+v", ev)
			}
		})
	}
}

func TestBodyValidation(t *testing.T) {
	s := startServer(t)
	ok := `{"specversion":"1.0","id":"e-%d","source":"s","type":"t","aliyuneventbusname":"bus1"}`
	many := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf(ok, i)
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	type entry struct{ id, code string }
	tests := []struct {
		name    string
		body    string
		status  int
		code    string
		entries []entry
	}{
		{name: "sixteen", body: many(16), status: 200},
		{name: "seventeen", body: many(17), status: 400, code: CodeInvalidArgument},
		{name: "empty array", body: "[]", status: 400, code: CodeInvalidArgument},
		{name: "object body", body: fmt.Sprintf(ok, 1), status: 400, code: CodeInvalidArgument},
		{name: "per-entry checks", status: 200, body: `[
			{"specversion":"1.0","id":"a-1","source":"s","type":"t","aliyuneventbusname":"bus1"},
			{"specversion":"0.3","id":"a-2","source":"s","type":"t","aliyuneventbusname":"bus1"},
			{"specversion":"1.0","id":"a-3","type":"t","aliyuneventbusname":"bus1"},
			{"specversion":"1.0","id":"a-4","source":"s","type":"t","aliyuneventbusname":"nobus"},
			{"specversion":"1.0","id":"a-5","source":"s","type":"t"},
			{"specversion":"1.0","id":"a_6","source":"s","type":"t","aliyuneventbusname":"bus1"},
			"not an object"]`,
			entries: []entry{{"a-1", ""}, {"a-2", CodeInvalidArgument}, {"a-3", CodeInvalidArgument},
				{"a-4", CodeEventBusNotExist}, {"a-5", CodeInvalidArgument}, {"a_6", CodeInvalidArgument}, {"", CodeInvalidArgument}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s.Reset()
			req := handSigned(t, s.URL(), stsA.AccessKeyID, stsA.AccessKeySecret, stsA.SecurityToken, ContentType, tc.body, "colon")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d (%s), want %d", resp.StatusCode, raw, tc.status)
			}
			if tc.status != 200 {
				var e errorBody
				if json.Unmarshal(raw, &e) != nil || e.Code != tc.code {
					t.Fatalf("body = %s, want code %q", raw, tc.code)
				}
				return
			}
			var out putEventsResponse
			if err := json.Unmarshal(raw, &out); err != nil {
				t.Fatal(err)
			}
			if tc.entries == nil {
				if out.FailedEntryCount != 0 || len(s.Events()) != 16 {
					t.Fatalf("response %s, stored %d", raw, len(s.Events()))
				}
				return
			}
			if len(out.EntryList) != len(tc.entries) {
				t.Fatalf("EntryList = %s", raw)
			}
			failed := 0
			for i, want := range tc.entries {
				got := out.EntryList[i]
				if got.EventId != want.id || got.ErrorCode != want.code {
					t.Errorf("entry %d = %+v, want id %q code %q", i, got, want.id, want.code)
				}
				if want.code != "" {
					failed++
				}
			}
			if out.FailedEntryCount != failed || len(s.Events()) != len(tc.entries)-failed {
				t.Fatalf("FailedEntryCount = %d, stored %d; want %d failed", out.FailedEntryCount, len(s.Events()), failed)
			}
		})
	}
}

func TestFaultInjection(t *testing.T) {
	s := startServer(t)
	tests := []struct {
		name   string
		arm    func()
		check  func(t *testing.T, resp *eb.PutEventsResponse, err error, p any)
		stored int
	}{
		{name: "entry failures", arm: func() { s.FailEntries(1, CodeInternalError) },
			check: func(t *testing.T, resp *eb.PutEventsResponse, err error, p any) {
				if err != nil || p != nil || tea.IntValue(resp.FailedEntryCount) != 1 ||
					tea.StringValue(resp.EntryList[0].ErrorCode) != CodeInternalError ||
					tea.StringValue(resp.EntryList[1].ErrorCode) != "" {
					t.Fatalf("resp=%s err=%v panic=%v", resp, err, p)
				}
			}, stored: 1},
		{name: "whole call error", arm: func() { s.InjectError(503, CodeServiceUnavailable, 1) },
			check: func(t *testing.T, _ *eb.PutEventsResponse, err error, p any) {
				if p != nil || sdkCode(err) != CodeServiceUnavailable {
					t.Fatalf("err=%v panic=%v", err, p)
				}
			}},
		{name: "empty body panics the SDK", arm: func() { s.InjectRawBody(200, "", 1) },
			check: func(t *testing.T, _ *eb.PutEventsResponse, err error, p any) {
				if p == nil {
					t.Fatalf("no panic; err=%v", err)
				}
			}},
		{name: "array body panics the SDK", arm: func() { s.InjectRawBody(200, "[]", 1) },
			check: func(t *testing.T, _ *eb.PutEventsResponse, err error, p any) {
				if p == nil {
					t.Fatalf("no panic; err=%v", err)
				}
			}},
		{name: "html error page", arm: func() { s.InjectRawBody(502, "<html>bad gateway</html>", 1) },
			check: func(t *testing.T, _ *eb.PutEventsResponse, err error, p any) {
				if p != nil || err == nil || sdkCode(err) != "" {
					t.Fatalf("err=%v panic=%v", err, p)
				}
			}},
		{name: "reset", arm: func() { s.InjectReset(1) },
			check: func(t *testing.T, _ *eb.PutEventsResponse, err error, p any) {
				if p != nil || err == nil || sdkCode(err) != "" {
					t.Fatalf("err=%v panic=%v", err, p)
				}
			}},
		{name: "latency beyond the read timeout", arm: func() { s.InjectLatency(2*time.Second, 1) },
			check: func(t *testing.T, _ *eb.PutEventsResponse, err error, p any) {
				if p != nil || err == nil || !strings.Contains(err.Error(), "Timeout") {
					t.Fatalf("err=%v panic=%v", err, p)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s.Reset()
			tc.arm()
			cl := sdkClient(t, s.Endpoint(), stsA)
			resp, err, p := put(cl, 300, cloudEvent("f-1", "bus1"), cloudEvent("f-2", "bus1"))
			tc.check(t, resp, err, p)
			if n := len(s.Events()); n != tc.stored {
				t.Fatalf("stored %d, want %d", n, tc.stored)
			}
			// The fault is consumed: the next call goes through.
			resp, err, p = put(cl, 2000, cloudEvent("g-1", "bus1"))
			if err != nil || p != nil || tea.IntValue(resp.FailedEntryCount) != 0 {
				t.Fatalf("follow-up call: resp=%s err=%v panic=%v", resp, err, p)
			}
			// A delayed handler logs its call only once it notices the
			// client left, which may come after the follow-up call.
			if got := waitCalls(s, 2); got != 2 {
				t.Fatalf("logged %d calls, want 2", got)
			}
		})
	}
}

// waitCalls polls until n calls are logged or a generous bound passes, and
// returns the count seen.
func waitCalls(s *Server, n int) int {
	for i := 0; i < 500; i++ {
		if got := len(s.Calls()); got >= n {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
	return len(s.Calls())
}
