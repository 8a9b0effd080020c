// Package acssdk is how the product makes one call through
// alibaba-cloud-sdk-go's core (ECS, STS): a client of its own per call,
// the SDK's auto-retry off (the engine owns the one retry layer), every
// call bounded by the invocation's deadline, and errors converted to
// *Error, whose text never carries a secret or a signed URL.
package acssdk

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"

	"github.com/eni-detach/eni-detach/internal/creds"
)

// DefaultMaxCallTimeout is the SDK's own read timeout, kept as the cap of
// one call.
const DefaultMaxCallTimeout = 10 * time.Second

// Call describes how to make calls to one service with one set of
// credentials.
type Call struct {
	// Service names the service in errors (ServiceECS, ServiceSTS).
	Service string
	Creds   creds.Credentials
	// Scheme is "HTTP" or "HTTPS".
	Scheme string
	// Transport is the shared connection pool; it is wrapped, never
	// handed to the SDK, which would rewrite its settings on every call.
	Transport http.RoundTripper
	// MaxTimeout caps one call even when the invocation has longer: a
	// hung connection must not eat the whole wait budget.
	MaxTimeout time.Duration
}

// Endpoint turns an endpoint override into the SDK's scheme and domain:
// nil means the SDK's regional endpoint (domain "") over HTTPS.
func Endpoint(u *url.URL) (scheme, domain string) {
	if u == nil {
		return "HTTPS", ""
	}
	if strings.EqualFold(u.Scheme, "http") {
		return "HTTP", u.Host
	}
	return "HTTPS", u.Host
}

// NewTransport returns a connection pool meant to be shared by every call
// of the process, so connections are reused across invocations.
func NewTransport() *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 3 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   32,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// Client is what Do hands the caller to build and run the SDK client.
type Client struct {
	Config     *sdk.Config
	Credential auth.Credential
	// Timeout is the call's budget: the request's read timeout.
	Timeout time.Duration
}

// Do runs fn, which creates the service's SDK client from the Client it
// is given and makes exactly one request, within ctx's deadline (capped
// by MaxTimeout). Its error is converted to *Error; an *Error fn returns
// passes through.
func (c Call) Do(ctx context.Context, fn func(Client) error) error {
	if !c.Creds.Valid() {
		return &Error{Service: c.Service, Kind: KindClient, Code: CodeNoCredential,
			Message: "no access key: the invocation carries no credentials and ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET are unset"}
	}
	timeout := c.MaxTimeout
	if timeout <= 0 {
		timeout = DefaultMaxCallTimeout
	}
	if dl, ok := ctx.Deadline(); ok {
		left := time.Until(dl)
		if left <= 0 {
			return &Error{Service: c.Service, Kind: KindTransport, Code: CodeTimeout, Message: "no time left for the call"}
		}
		timeout = min(timeout, left)
	}
	callCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	cfg := sdk.NewConfig()
	cfg.AutoRetry = false // the engine owns the one retry layer
	cfg.MaxRetryTime = 0
	cfg.Scheme = c.Scheme
	cfg.Transport = ctxTransport{ctx: callCtx, base: c.Transport}
	var cred auth.Credential
	if c.Creds.SecurityToken != "" {
		cred = credentials.NewStsTokenCredential(c.Creds.AccessKeyID, c.Creds.AccessKeySecret, c.Creds.SecurityToken)
	} else {
		cred = credentials.NewAccessKeyCredential(c.Creds.AccessKeyID, c.Creds.AccessKeySecret)
	}
	return convert(callCtx, c.Service, fn(Client{Config: cfg, Credential: cred, Timeout: timeout}), c.Creds)
}

// Prepare sets a request's timeouts to the call's budget; the SDK's
// default read timeout (10 s) must never carry a call past the deadline.
func (cl Client) Prepare(req interface {
	SetReadTimeout(time.Duration)
	SetConnectTimeout(time.Duration)
}) {
	req.SetReadTimeout(cl.Timeout)
	req.SetConnectTimeout(min(cl.Timeout, 3*time.Second))
}

// ctxTransport attaches the call's context to the SDK's request, which the
// SDK builds without one; this is what makes a call end at the invocation's
// deadline. Being a wrapper (not an *http.Transport) also stops the SDK from
// rewriting the shared transport's dialer and TLS settings on every call,
// which would race between concurrent invocations.
type ctxTransport struct {
	ctx  context.Context
	base http.RoundTripper
}

func (t ctxTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return t.base.RoundTrip(r.WithContext(t.ctx))
}
