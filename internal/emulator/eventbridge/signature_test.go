package eventbridge

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	eventbridgeutil "github.com/alibabacloud-go/eventbridge-util/client"
	"github.com/alibabacloud-go/tea/tea"
)

// TestStringToSignMatchesSDK builds the same request once as the SDK's
// tea.Request and once as a received http.Request, and checks that the
// independent verifier rebuilds exactly the string the SDK signs.
func TestStringToSignMatchesSDK(t *testing.T) {
	base := map[string]string{
		"date":                    "Mon, 02 Jan 2006 15:04:05 GMT",
		"host":                    "123.eventbridge.cn-hangzhou.aliyuncs.com",
		"accept":                  "application/json",
		"x-acs-signature-nonce":   "a1b2",
		"x-acs-signature-method":  "HMAC-SHA1",
		"x-acs-signature-version": "1.0",
		"x-eventbridge-version":   "2015-06-06",
		"content-type":            "application/cloudevents-batch+json; charset=utf-8",
	}
	tests := []struct {
		name  string
		extra map[string]string
		query map[string]string
	}{
		{name: "plain key"},
		{name: "sts key", extra: map[string]string{"x-acs-accesskey-id": "STS.abc", "x-acs-security-token": "tok/en+=="}},
		{name: "content-md5 and query", extra: map[string]string{"content-md5": "1B2M2Y8AsgTpgAmY7PhCfg=="},
			query: map[string]string{"b": "2", "a": "1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			treq := tea.NewRequest()
			treq.Method = tea.String("POST")
			treq.Pathname = tea.String(PutEventsPath)
			hreq := httptest.NewRequest(http.MethodPost, "http://x"+PutEventsPath, nil)
			hreq.Header = http.Header{}
			for _, m := range []map[string]string{base, tc.extra} {
				for k, v := range m {
					treq.Headers[k] = tea.String(v)
					hreq.Header[k] = []string{v} // the SDK writes lower-case keys as is
				}
			}
			if tc.query != nil {
				q := hreq.URL.Query()
				for k, v := range tc.query {
					treq.Query[k] = tea.String(v)
					q.Set(k, v)
				}
				hreq.URL.RawQuery = q.Encode()
			}
			// What the server sees: canonicalised header names.
			hreq = reparse(t, hreq)

			want := tea.StringValue(eventbridgeutil.GetStringToSign(treq))
			if got := StringToSign(hreq); got != want {
				t.Fatalf("StringToSign mismatch\n got: %q\nwant: %q", got, want)
			}
			if got, want := Sign("secret", want), tea.StringValue(eventbridgeutil.GetSignature(tea.String(want), tea.String("secret"))); got != want {
				t.Fatalf("Sign = %q, SDK = %q", got, want)
			}
		})
	}
}

// reparse canonicalises header names as net/http's server does when it
// reads them off the wire, so the verifier sees what production sees.
func reparse(t *testing.T, r *http.Request) *http.Request {
	t.Helper()
	h := http.Header{}
	for k, v := range r.Header {
		if strings.EqualFold(k, "host") {
			continue // a Host header becomes r.Host, never a header
		}
		h[http.CanonicalHeaderKey(k)] = v
	}
	r.Header = h
	return r
}

func TestParseAuthorization(t *testing.T) {
	tests := []struct {
		in      string
		ak, sig string
		ok      bool
	}{
		{in: "acs:LTAIkey:abc+/=", ak: "LTAIkey", sig: "abc+/=", ok: true},
		{in: "acs STS.key:abc=", ak: "STS.key", sig: "abc=", ok: true},
		{in: "acs  STS.key:abc=", ak: "STS.key", sig: "abc=", ok: true},
		{in: "ACS3-HMAC-SHA256 Credential=x", ok: false},
		{in: "acs:key", ok: false},
		{in: "acs:key:", ok: false},
		{in: "acs::sig", ok: false},
		{in: "", ok: false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			ak, sig, ok := parseAuthorization(tc.in)
			if ok != tc.ok || ak != tc.ak || sig != tc.sig {
				t.Fatalf("parseAuthorization(%q) = %q, %q, %v; want %q, %q, %v", tc.in, ak, sig, ok, tc.ak, tc.sig, tc.ok)
			}
		})
	}
}

// handSigned builds a putEvents request without any SDK code, signing a
// literal string-to-sign, with the authorization written in the given form.
func handSigned(t *testing.T, url, ak, secret, token, contentType, body, authForm string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+PutEventsPath, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	date := "Tue, 03 Jun 2025 10:00:00 GMT"
	req.Header.Set("Date", date)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("x-acs-signature-method", "HMAC-SHA1")
	req.Header.Set("x-acs-signature-nonce", "n-1")
	req.Header.Set("x-acs-signature-version", "1.0")
	acs := "x-acs-signature-method:HMAC-SHA1\nx-acs-signature-nonce:n-1\nx-acs-signature-version:1.0\n"
	if token != "" {
		req.Header.Set("x-acs-accesskey-id", ak)
		req.Header.Set("x-acs-security-token", token)
		acs = "x-acs-accesskey-id:" + ak + "\nx-acs-security-token:" + token + "\n" + acs
	}
	sts := "POST\n\n" + contentType + "\n" + date + "\n" + acs + PutEventsPath
	h := hmac.New(sha1.New, []byte(secret))
	h.Write([]byte(sts))
	sig := base64.StdEncoding.EncodeToString(h.Sum(nil))
	switch authForm {
	case "colon":
		req.Header.Set("Authorization", "acs:"+ak+":"+sig)
	case "space":
		req.Header.Set("Authorization", "acs "+ak+":"+sig)
	default:
		t.Fatalf("unknown form %q", authForm)
	}
	return req
}
