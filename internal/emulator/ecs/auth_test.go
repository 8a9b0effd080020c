package ecs

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"

	"github.com/eni-detach/eni-detach/internal/creds"
	"github.com/eni-detach/eni-detach/internal/emulator/rpc"
	"github.com/eni-detach/eni-detach/internal/testenv/fakeclock"
)

func TestAuthentication(t *testing.T) {
	long := creds.Credentials{AccessKeyID: "LTAIlongterm000000001", AccessKeySecret: "long-secret"}
	cases := []struct {
		name       string
		setup      func(s *Server)
		client     creds.Credentials
		wantCode   string
		wantStatus int
	}{
		{name: "access key ok", client: akCreds},
		{name: "sts ok", client: stsCreds},
		{name: "unknown key", client: creds.Credentials{AccessKeyID: "LTAInobody", AccessKeySecret: "x"},
			wantCode: "InvalidAccessKeyId.NotFound", wantStatus: 404},
		{name: "wrong secret", client: creds.Credentials{AccessKeyID: akCreds.AccessKeyID, AccessKeySecret: "wrong"},
			wantCode: "SignatureDoesNotMatch", wantStatus: 400},
		{name: "sts wrong secret", client: creds.Credentials{AccessKeyID: stsCreds.AccessKeyID, AccessKeySecret: "wrong", SecurityToken: stsCreds.SecurityToken},
			wantCode: "SignatureDoesNotMatch", wantStatus: 400},
		{name: "sts key without token", client: creds.Credentials{AccessKeyID: stsCreds.AccessKeyID, AccessKeySecret: stsCreds.AccessKeySecret},
			wantCode: "InvalidSecurityToken.Malformed", wantStatus: 403},
		{name: "sts unknown token", client: creds.Credentials{AccessKeyID: stsCreds.AccessKeyID, AccessKeySecret: stsCreds.AccessKeySecret, SecurityToken: "made-up"},
			wantCode: "InvalidSecurityToken.Malformed", wantStatus: 403},
		{name: "sts token of another key", client: creds.Credentials{AccessKeyID: stsCreds.AccessKeyID, AccessKeySecret: stsCreds.AccessKeySecret, SecurityToken: sts2.SecurityToken},
			wantCode: "InvalidSecurityToken.MismatchWithAccessKey", wantStatus: 403},
		{name: "long-term key with a token of another key", client: creds.Credentials{AccessKeyID: akCreds.AccessKeyID, AccessKeySecret: akCreds.AccessKeySecret, SecurityToken: sts2.SecurityToken},
			wantCode: "InvalidSecurityToken.MismatchWithAccessKey", wantStatus: 403},
		{name: "sts expired at registration",
			setup: func(s *Server) {
				s.AddCredentialsUntil(creds.Credentials{AccessKeyID: "STS.old", AccessKeySecret: "s", SecurityToken: "old-token"}, time.Now().Add(-time.Second))
			},
			client:   creds.Credentials{AccessKeyID: "STS.old", AccessKeySecret: "s", SecurityToken: "old-token"},
			wantCode: "InvalidSecurityToken.Expired", wantStatus: 403},
		{name: "sts expired at runtime",
			setup:    func(s *Server) { s.ExpireCredentials(stsCreds.AccessKeyID) },
			client:   stsCreds,
			wantCode: "InvalidSecurityToken.Expired", wantStatus: 403},
		{name: "key registered with token but no STS prefix needs it",
			setup: func(s *Server) {
				s.AddCredentials(creds.Credentials{AccessKeyID: "LTAIwithtoken", AccessKeySecret: "s", SecurityToken: "tok"})
			},
			client:   creds.Credentials{AccessKeyID: "LTAIwithtoken", AccessKeySecret: "s"},
			wantCode: "InvalidSecurityToken.Malformed", wantStatus: 403},
		{name: "long-term key expired",
			setup:    func(s *Server) { s.AddCredentials(long); s.ExpireCredentials(long.AccessKeyID) },
			client:   long,
			wantCode: "InvalidAccessKeyId.Inactive", wantStatus: 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t)
			if tc.setup != nil {
				tc.setup(s)
			}
			_, err := newClient(t, s.Addr(), tc.client).DescribeNetworkInterfaces(describeReq(nil))
			if tc.wantCode == "" {
				if err != nil {
					t.Fatal(err)
				}
			} else {
				wantServerError(t, err, tc.wantCode, tc.wantStatus)
			}
			calls := s.Calls()
			if len(calls) != 1 || calls[0].Code != tc.wantCode || calls[0].AccessKeyID != tc.client.AccessKeyID ||
				calls[0].SecurityToken != tc.client.SecurityToken {
				t.Fatalf("call log %+v", calls)
			}
		})
	}
}

func TestSignatureMismatchQuotesServerStringToSign(t *testing.T) {
	s := startServer(t)
	_, err := newClient(t, s.Addr(), creds.Credentials{AccessKeyID: akCreds.AccessKeyID, AccessKeySecret: "wrong"}).
		DescribeNetworkInterfaces(describeReq(nil))
	se := wantServerError(t, err, "SignatureDoesNotMatch", 400)
	// The SDK compares our StringToSign with its own: equal means "your
	// secret is wrong", which is the truth here.
	if !strings.Contains(se.Recommend(), "InvalidAccessKeySecret") {
		t.Fatalf("SDK did not recognise its own StringToSign: %q", se.Recommend())
	}
}

// recordingTransport keeps the last request URL the SDK sent.
type recordingTransport struct {
	mu   sync.Mutex
	last string
	next http.RoundTripper
}

func (r *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.last = req.URL.String()
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

func TestNonceReuse(t *testing.T) {
	s := startServer(t)
	c := newClient(t, s.Addr(), stsCreds)
	rec := &recordingTransport{next: &http.Transport{}}
	c.SetTransport(rec)
	if _, err := c.DescribeNetworkInterfaces(describeReq(nil)); err != nil {
		t.Fatal(err)
	}
	// Replaying the SDK's exact signed request is what the nonce stops.
	rec.mu.Lock()
	replay := rec.last
	rec.mu.Unlock()
	resp, err := http.Post(replay, "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body := decodeErrorBody(t, resp)
	if resp.StatusCode != 400 || body.Code != "SignatureNonceUsed" {
		t.Fatalf("replay: %d %+v", resp.StatusCode, body)
	}
	// A fresh request (new nonce) still works.
	if _, err := c.DescribeNetworkInterfaces(describeReq(nil)); err != nil {
		t.Fatal(err)
	}
}

func TestTimestampSkew(t *testing.T) {
	for _, tc := range []struct {
		name     string
		skew     time.Duration
		wantCode string
	}{
		{"server 14 min ahead", 14 * time.Minute, ""},
		{"server 16 min ahead", 16 * time.Minute, "InvalidTimeStamp.Expired"},
		{"server 16 min behind", -16 * time.Minute, "InvalidTimeStamp.Expired"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, WithRequestClock(func() time.Time { return time.Now().Add(tc.skew) }))
			_, err := newClient(t, s.Addr(), akCreds).DescribeNetworkInterfaces(describeReq(nil))
			if tc.wantCode == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantServerError(t, err, tc.wantCode, 400)
		})
	}
}

func decodeErrorBody(t *testing.T, resp *http.Response) rpc.ErrorBody {
	t.Helper()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var b rpc.ErrorBody
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatalf("body %q: %v", raw, err)
	}
	return b
}

// Hand-made requests cover what the SDK never sends: GET, form bodies and
// broken protocol parameters.
func TestProtocolChecks(t *testing.T) {
	type req struct {
		method string
		query  map[string]string
		form   map[string]string
	}
	signed := func(method string, edit func(map[string]string)) map[string]string {
		return handParams(akCreds, method, "DescribeNetworkInterfaces", time.Now(), edit)
	}
	cases := []struct {
		name       string
		build      func() req
		wantStatus int
		wantCode   string
	}{
		{name: "GET signed with GET", wantStatus: 200,
			build: func() req { return req{method: "GET", query: signed("GET", nil)} }},
		{name: "POST signed as GET", wantStatus: 400, wantCode: "SignatureDoesNotMatch",
			build: func() req { return req{method: "POST", query: signed("GET", nil)} }},
		{name: "POST with params split between query and form", wantStatus: 200,
			build: func() req {
				p := signed("POST", func(p map[string]string) { p["Type"] = "Secondary" })
				form := map[string]string{"Type": p["Type"], "Signature": p["Signature"]}
				delete(p, "Type")
				delete(p, "Signature")
				return req{method: "POST", query: p, form: form}
			}},
		{name: "tampered parameter", wantStatus: 400, wantCode: "SignatureDoesNotMatch",
			build: func() req {
				p := signed("POST", nil)
				p["Type"] = "Primary"
				return req{method: "POST", query: p}
			}},
		{name: "wrong version", wantStatus: 400, wantCode: "InvalidVersion",
			build: func() req {
				return req{method: "POST", query: signed("POST", func(p map[string]string) { p["Version"] = "2016-03-14" })}
			}},
		{name: "missing nonce", wantStatus: 400, wantCode: "MissingParameter",
			build: func() req {
				return req{method: "POST", query: signed("POST", func(p map[string]string) { delete(p, "SignatureNonce") })}
			}},
		{name: "XML format", wantStatus: 400, wantCode: "InvalidParameter",
			build: func() req {
				return req{method: "POST", query: signed("POST", func(p map[string]string) { p["Format"] = "XML" })}
			}},
		{name: "HMAC-SHA256", wantStatus: 400, wantCode: "InvalidParameter",
			build: func() req {
				return req{method: "POST", query: signed("POST", func(p map[string]string) { p["SignatureMethod"] = "HMAC-SHA256" })}
			}},
		{name: "bad timestamp", wantStatus: 400, wantCode: "InvalidTimeStamp.Format",
			build: func() req {
				return req{method: "POST", query: signed("POST", func(p map[string]string) { p["Timestamp"] = "yesterday" })}
			}},
		{name: "unknown action", wantStatus: 404, wantCode: "InvalidAction.NotFound",
			build: func() req {
				return req{method: "POST", query: signed("POST", func(p map[string]string) { p["Action"] = "RunInstances" })}
			}},
		{name: "PUT", wantStatus: 405, wantCode: "UnsupportedHTTPMethod",
			build: func() req { return req{method: "PUT", query: signed("PUT", nil)} }},
	}
	s := startServer(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.build()
			var body io.Reader
			if r.form != nil {
				body = strings.NewReader(encodeParams(r.form))
			}
			httpReq, err := http.NewRequest(r.method, s.URL()+"/?"+encodeParams(r.query), body)
			if err != nil {
				t.Fatal(err)
			}
			httpReq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := http.DefaultClient.Do(httpReq)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			if !requestIDPattern.MatchString(resp.Header.Get("x-acs-request-id")) {
				t.Fatalf("request id header %q", resp.Header.Get("x-acs-request-id"))
			}
			if tc.wantCode == "" {
				return
			}
			b := decodeErrorBody(t, resp)
			if b.Code != tc.wantCode || b.RequestId != resp.Header.Get("x-acs-request-id") || b.HostId == "" || b.Message == "" {
				t.Fatalf("body %+v", b)
			}
		})
	}
}

// The server works as a plain http.Handler mounted elsewhere.
func TestPlainHandler(t *testing.T) {
	s := New()
	s.AddCredentials(stsCreds)
	mustAddENI(t, s, ENI{ID: "eni-a1", InstanceID: "i-a1"})
	ts := httptest.NewServer(s)
	defer ts.Close()
	defer s.Close()
	resp, err := newClient(t, strings.TrimPrefix(ts.URL, "http://"), stsCreds).DescribeNetworkInterfaces(describeReq(nil))
	if err != nil {
		t.Fatal(err)
	}
	if resp.TotalCount != 1 || resp.NetworkInterfaceSets.NetworkInterfaceSet[0].NetworkInterfaceId != "eni-a1" {
		t.Fatalf("%+v", resp.NetworkInterfaceSets)
	}
	if s.Addr() != "" || s.URL() != "" {
		t.Fatal("an unstarted server has no address")
	}
}

func TestServerErrorIsSDKType(t *testing.T) {
	s := startServer(t)
	err := detach(newClient(t, s.Addr(), stsCreds), "eni-none", "i-none")
	var se *sdkerrors.ServerError
	if !errors.As(err, &se) {
		t.Fatalf("%T", err)
	}
	if se.HostId() == "" || se.Recommend() == "" {
		t.Fatalf("HostId %q Recommend %q", se.HostId(), se.Recommend())
	}
}

// Credential expiry follows the model clock, so a test can let a token run
// out between two calls of one invocation without sleeping.
func TestCredentialExpiryOnServerClock(t *testing.T) {
	clock := fakeclock.New()
	s := startServer(t, WithClock(clock.Now))
	short := creds.Credentials{AccessKeyID: "STS.short", AccessKeySecret: "s", SecurityToken: "short-token"}
	s.AddCredentialsUntil(short, clock.Now().Add(time.Minute))
	c := newClient(t, s.Addr(), short)
	if _, err := c.DescribeNetworkInterfaces(describeReq(nil)); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	_, err := c.DescribeNetworkInterfaces(describeReq(nil))
	wantServerError(t, err, "InvalidSecurityToken.Expired", 403)
	if !s.ExpireCredentials(short.AccessKeyID) || s.ExpireCredentials("STS.unknown") {
		t.Fatal("ExpireCredentials result")
	}
}
