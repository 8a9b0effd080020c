package rpc

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"sort"
	"strings"
)

// percentEncode is the RFC 3986 encoding Alibaba's signature v1 is defined
// with. url.QueryEscape is close but writes spaces as "+" and leaves nothing
// else to fix in Go (it already escapes "*" and keeps "~"); the replacements
// are kept anyway so the function reads like the published definition.
func percentEncode(s string) string {
	e := url.QueryEscape(s)
	e = strings.ReplaceAll(e, "+", "%20")
	e = strings.ReplaceAll(e, "*", "%2A")
	e = strings.ReplaceAll(e, "%7E", "~")
	return e
}

// canonicalQuery sorts by the raw key (as the SDK's url.Values.Encode does)
// and joins pe(k)=pe(v) with "&". Signature itself is never part of it.
func canonicalQuery(params map[string]string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k == "Signature" {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(percentEncode(k))
		b.WriteByte('=')
		b.WriteString(percentEncode(params[k]))
	}
	return b.String()
}

// StringToSign builds the signature-v1 string for an RPC request.
func StringToSign(method string, params map[string]string) string {
	return strings.ToUpper(method) + "&" + percentEncode("/") + "&" + percentEncode(canonicalQuery(params))
}

// Sign returns base64(HMAC-SHA1(secret+"&", stringToSign)).
func Sign(stringToSign, secret string) string {
	mac := hmac.New(sha1.New, []byte(secret+"&"))
	mac.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// SignatureMatches compares in constant time so the emulator does not model
// a timing oracle that the real service would not have.
func SignatureMatches(got, want string) bool {
	return hmac.Equal([]byte(got), []byte(want))
}
