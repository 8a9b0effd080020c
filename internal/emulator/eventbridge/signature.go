package eventbridge

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"sort"
	"strings"
)

// StringToSign rebuilds, from a received request, the string the SDK signs
// (eventbridge-util getStringToSign):
//
//	METHOD \n content-md5 \n content-type \n date \n
//	x-acs-* headers, lower-cased, byte-sorted, "name:value\n" each
//	path [ "?" + sorted "k=v" joined by "&", values unescaped ]
//
// The SDK prefixes-matches "x-acs", so x-acs-security-token and
// x-acs-accesskey-id (added for STS) are signed too.
func StringToSign(r *http.Request) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(r.Header.Get("Content-MD5"))
	b.WriteByte('\n')
	b.WriteString(r.Header.Get("Content-Type"))
	b.WriteByte('\n')
	b.WriteString(r.Header.Get("Date"))
	b.WriteByte('\n')

	acs := map[string]string{}
	for name, vals := range r.Header {
		lower := strings.ToLower(name)
		if strings.HasPrefix(lower, "x-acs") {
			acs[lower] = strings.Join(vals, ",")
		}
	}
	names := make([]string, 0, len(acs))
	for n := range acs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		b.WriteString(n)
		b.WriteByte(':')
		b.WriteString(acs[n])
		b.WriteByte('\n')
	}

	b.WriteString(r.URL.Path)
	if q := r.URL.Query(); len(q) > 0 {
		keys := make([]string, 0, len(q))
		for k := range q {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			for _, v := range q[k] {
				parts = append(parts, k+"="+v)
			}
		}
		b.WriteByte('?')
		b.WriteString(strings.Join(parts, "&"))
	}
	return b.String()
}

// Sign is base64(HMAC-SHA1(secret, stringToSign)); unlike the ECS RPC
// signature, no "&" is appended to the secret.
func Sign(secret, stringToSign string) string {
	h := hmac.New(sha1.New, []byte(secret))
	h.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// parseAuthorization accepts "acs:{AccessKeyId}:{sig}" (what the SDK sends)
// and "acs {AccessKeyId}:{sig}" (the documented HTTP-signature form).
func parseAuthorization(h string) (accessKeyID, sig string, ok bool) {
	var rest string
	switch {
	case strings.HasPrefix(h, "acs:"):
		rest = h[len("acs:"):]
	case strings.HasPrefix(h, "acs "):
		rest = strings.TrimLeft(h[len("acs "):], " ")
	default:
		return "", "", false
	}
	// A base64 signature has no ':' and neither has an AccessKeyId, so the
	// last colon separates them.
	i := strings.LastIndexByte(rest, ':')
	if i <= 0 || i == len(rest)-1 {
		return "", "", false
	}
	return rest[:i], rest[i+1:], true
}
