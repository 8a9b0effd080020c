// Package stsapi is the only place that talks to STS: AssumeRole through
// alibaba-cloud-sdk-go's services/sts, with the same call discipline as
// the ECS adapter (package acssdk): a client per call signed with the
// caller's credentials, no SDK auto-retry, bounded by the invocation's
// deadline, errors as *acssdk.Error with Service "STS" and no secret in
// their text.
package stsapi

import (
	"context"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth"
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

// Options configure a Client: the endpoint override (STS_ENDPOINT), the
// shared connection pool and the cap of one call.
type Options = acssdk.Options

// Client calls STS. It is safe for concurrent use and meant to live as
// long as the process.
type Client struct {
	svc *acssdk.Service
}

var _ API = (*Client)(nil)

// New returns a Client.
func New(o Options) *Client {
	return &Client{svc: acssdk.NewService(acssdk.ServiceSTS, newSDKClient, o)}
}

func newSDKClient(region string, cfg *sdk.Config, cred auth.Credential) (*sdk.Client, error) {
	cl, err := sts.NewClientWithOptions(region, cfg, cred)
	if err != nil {
		return nil, err
	}
	return &cl.Client, nil
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
	if err := c.svc.Do(ctx, caller, in.Region, req, resp); err != nil {
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
