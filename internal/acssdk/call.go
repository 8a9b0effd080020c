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
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/responses"

	"github.com/eni-detach/eni-detach/internal/creds"
)

// DefaultMaxCallTimeout is the SDK's own read timeout, kept as the cap of
// one call.
const DefaultMaxCallTimeout = 10 * time.Second

// endpoint turns an endpoint override into the SDK's scheme and domain:
// nil means the SDK's regional endpoint (domain "") over HTTPS.
func endpoint(u *url.URL) (scheme, domain string) {
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

// Options configure a Service; every service the product calls takes the
// same ones.
type Options struct {
	// Endpoint overrides the SDK's regional endpoint (ECS_ENDPOINT,
	// STS_ENDPOINT): scheme and host[:port]. Nil means the SDK's regional
	// endpoint over HTTPS.
	Endpoint *url.URL
	// Transport is the connection pool shared by every call, so
	// connections are reused across invocations. Nil means NewTransport.
	Transport http.RoundTripper
	// MaxCallTimeout caps one call even when the invocation has longer: a
	// hung connection must not eat the whole wait budget. Zero means
	// DefaultMaxCallTimeout.
	MaxCallTimeout time.Duration
}

// NewClientFunc is a service package's NewClientWithOptions, returning the
// core client its client embeds.
type NewClientFunc func(region string, cfg *sdk.Config, cred auth.Credential) (*sdk.Client, error)

// Service makes calls to one service (ECS, STS). It holds no credentials,
// is safe for concurrent use, and is meant to live as long as the process.
type Service struct {
	name      string // ServiceECS, ServiceSTS: names the service in errors
	newClient NewClientFunc
	scheme    string // "HTTP" or "HTTPS"
	domain    string // "" for the SDK's regional endpoint
	// transport is wrapped per call, never handed to the SDK, which would
	// rewrite its settings on every call.
	transport http.RoundTripper
	maxCall   time.Duration
}

// NewService returns the Service of the service called name, whose SDK
// clients newClient makes.
func NewService(name string, newClient NewClientFunc, o Options) *Service {
	s := &Service{name: name, newClient: newClient, transport: o.Transport, maxCall: o.MaxCallTimeout}
	s.scheme, s.domain = endpoint(o.Endpoint)
	if s.transport == nil {
		s.transport = NewTransport()
	}
	if s.maxCall <= 0 {
		s.maxCall = DefaultMaxCallTimeout
	}
	return s
}

// Do makes one request signed with c, with an SDK client of its own: the
// SDK keeps per-call state (timeouts, the resolved domain, the token) in
// the client and the request, so neither is shared between calls. The call
// ends within ctx's deadline (capped by MaxCallTimeout); its error is an
// *Error.
func (s *Service) Do(ctx context.Context, c creds.Credentials, region string, req requests.AcsRequest, resp responses.AcsResponse) error {
	if !c.Valid() {
		return &Error{Service: s.name, Kind: KindClient, Code: CodeNoCredential,
			Message: "no access key: the invocation carries no credentials and ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET are unset"}
	}
	timeout := s.maxCall
	if dl, ok := ctx.Deadline(); ok {
		left := time.Until(dl)
		if left <= 0 {
			return &Error{Service: s.name, Kind: KindTransport, Code: CodeTimeout, Message: "no time left for the call"}
		}
		timeout = min(timeout, left)
	}
	callCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	cfg := sdk.NewConfig()
	cfg.AutoRetry = false // the engine owns the one retry layer
	cfg.MaxRetryTime = 0
	cfg.Scheme = s.scheme
	cfg.Transport = ctxTransport{ctx: callCtx, base: s.transport}
	var cred auth.Credential
	if c.SecurityToken != "" {
		cred = credentials.NewStsTokenCredential(c.AccessKeyID, c.AccessKeySecret, c.SecurityToken)
	} else {
		cred = credentials.NewAccessKeyCredential(c.AccessKeyID, c.AccessKeySecret)
	}
	cl, err := s.newClient(region, cfg, cred)
	if err != nil {
		return &Error{Service: s.name, Kind: KindClient, Code: CodeClient, Message: Sanitize(err.Error(), c)}
	}
	if s.domain != "" {
		cl.Domain = s.domain
	}
	// The SDK's default read timeout (10 s) must never carry a call past
	// the deadline.
	req.SetReadTimeout(timeout)
	req.SetConnectTimeout(min(timeout, 3*time.Second))
	return convert(callCtx, s.name, cl.DoAction(req, resp), c)
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
