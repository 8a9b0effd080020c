// Package creds is the credentials of one invocation. FC hands every
// invocation its own STS triple; the handler reads it per invocation and
// passes it down to each client it makes (never a package variable or a
// shared client), which is what stops two concurrent invocations from
// signing with each other's keys.
package creds

import (
	"net/url"
	"strings"
)

// Credentials is an access key pair with an optional STS security token.
type Credentials struct {
	AccessKeyID     string
	AccessKeySecret string
	SecurityToken   string
}

// Valid reports whether the pair is usable at all.
func (c Credentials) Valid() bool { return c.AccessKeyID != "" && c.AccessKeySecret != "" }

// String never prints the secret or the token, so a credential that ends up
// in a log line or an error message by accident leaks nothing.
func (c Credentials) String() string {
	return "Credentials{AccessKeyID:" + c.AccessKeyID + ", redacted}"
}

// GoString makes %#v as safe as %v.
func (c Credentials) GoString() string { return c.String() }

// Secrets returns the values that must never be written anywhere, for
// redaction of third-party error text.
func (c Credentials) Secrets() []string {
	var out []string
	for _, s := range []string{c.AccessKeySecret, c.SecurityToken} {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Redact replaces every secret of c in s, as is and percent-encoded once
// or twice (signed query strings and ECS's echo of its string to sign carry
// the token encoded), with [REDACTED]. Every adapter runs third-party error
// text through it before the text can reach a log, a result or an event.
func (c Credentials) Redact(s string) string {
	for _, sec := range c.Secrets() {
		once := url.QueryEscape(sec)
		for _, form := range []string{url.QueryEscape(once), once, sec} {
			s = strings.ReplaceAll(s, form, "[REDACTED]")
		}
	}
	return s
}
