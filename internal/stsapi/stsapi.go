// Package stsapi is the only place that talks to STS: AssumeRole through
// alibaba-cloud-sdk-go's services/sts, with the same call discipline as
// the ECS adapter (package acssdk): a client per call signed with the
// caller's credentials, no SDK auto-retry, bounded by the invocation's
// deadline, errors as *acssdk.Error with Service "STS" and no secret in
// their text.
package stsapi

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/sts"

	"github.com/eni-detach/eni-detach/internal/acssdk"
	"github.com/eni-detach/eni-detach/internal/creds"
)

func init() {
	// The SDK fills the package-global sts.EndpointMap lazily, without a
	// lock, when the first client is made; filling it before main makes
	// every later use a plain read.
	sts.GetEndpointMap()
}

// RAMAction is the action the function's own role needs for cross-account
// use, on the member accounts' roles.
const RAMAction = "sts:AssumeRole"

// AssumeRoleInput is one AssumeRole request.
type AssumeRoleInput struct {
	// Region picks the SDK's regional endpoint (sts.{region}.aliyuncs.com)
	// when no endpoint is configured: the function's own region.
	Region      string
	RoleARN     string
	SessionName string
	// Duration is sent in whole seconds (900 to the role's maximum).
	Duration time.Duration
	// Policy is the session policy: the credentials may do only what both
	// it and the role allow.
	Policy     string
	ExternalID string
}

// Assumed is what AssumeRole returned.
type Assumed struct {
	Credentials creds.Credentials
	Expiration  time.Time
	// AssumedRoleARN names the session (role ARN + "/" + session name).
	AssumedRoleARN string
	RequestID      string
}

// API is the assumed-credential cache's view of STS.
type API interface {
	// AssumeRole is signed with caller. Errors are *acssdk.Error.
	AssumeRole(ctx context.Context, caller creds.Credentials, in AssumeRoleInput) (Assumed, error)
}

// Options configure a Client.
type Options struct {
	// Endpoint overrides the SDK's regional endpoint (STS_ENDPOINT):
	// scheme and host[:port]. Nil means the SDK's endpoint over HTTPS.
	Endpoint *url.URL
	// Transport is the shared connection pool; nil means a new one.
	Transport http.RoundTripper
	// MaxCallTimeout caps one call (default acssdk.DefaultMaxCallTimeout).
	MaxCallTimeout time.Duration
}

// Client calls STS. It is safe for concurrent use and meant to live as
// long as the process.
type Client struct {
	scheme    string
	domain    string
	transport http.RoundTripper
	maxCall   time.Duration
}

var _ API = (*Client)(nil)

// New returns a Client.
func New(o Options) *Client {
	c := &Client{transport: o.Transport, maxCall: o.MaxCallTimeout}
	c.scheme, c.domain = acssdk.Endpoint(o.Endpoint)
	if c.transport == nil {
		c.transport = acssdk.NewTransport()
	}
	return c
}

// AssumeRole calls STS AssumeRole, signed with caller.
func (c *Client) AssumeRole(ctx context.Context, caller creds.Credentials, in AssumeRoleInput) (Assumed, error) {
	req := sts.CreateAssumeRoleRequest()
	req.AcceptFormat = "JSON"
	req.RoleArn = in.RoleARN
	req.RoleSessionName = in.SessionName
	req.DurationSeconds = requests.NewInteger(int(in.Duration / time.Second))
	req.Policy = in.Policy
	req.ExternalId = in.ExternalID
	resp := sts.CreateAssumeRoleResponse()

	call := acssdk.Call{Service: acssdk.ServiceSTS, Creds: caller, Scheme: c.scheme, Transport: c.transport, MaxTimeout: c.maxCall}
	err := call.Do(ctx, func(sc acssdk.Client) error {
		cl, err := sts.NewClientWithOptions(in.Region, sc.Config, sc.Credential)
		if err != nil {
			return &acssdk.Error{Service: acssdk.ServiceSTS, Kind: acssdk.KindClient, Code: acssdk.CodeClient, Message: acssdk.Sanitize(err.Error(), caller)}
		}
		if c.domain != "" {
			cl.Domain = c.domain
		}
		sc.Prepare(req)
		return cl.DoAction(req, resp)
	})
	if err != nil {
		return Assumed{}, err
	}
	got := resp.Credentials
	exp, perr := time.Parse(time.RFC3339, got.Expiration)
	if perr != nil || got.AccessKeyId == "" || got.AccessKeySecret == "" || got.SecurityToken == "" {
		return Assumed{}, &acssdk.Error{Service: acssdk.ServiceSTS, Kind: acssdk.KindTransport, Code: acssdk.CodeBadResponse,
			RequestID: resp.RequestId, Message: "STS answered AssumeRole without complete credentials and an Expiration"}
	}
	return Assumed{
		Credentials:    creds.Credentials{AccessKeyID: got.AccessKeyId, AccessKeySecret: got.AccessKeySecret, SecurityToken: got.SecurityToken},
		Expiration:     exp,
		AssumedRoleARN: resp.AssumedRoleUser.Arn,
		RequestID:      resp.RequestId,
	}, nil
}
