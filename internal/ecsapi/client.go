package ecsapi

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/responses"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"

	"github.com/eni-detach/eni-detach/internal/acssdk"
	"github.com/eni-detach/eni-detach/internal/creds"
)

func init() {
	// The SDK fills the package-global ecs.EndpointMap lazily, without a
	// lock, when the first client is made. Filling it here, before main
	// and before any test goroutine, makes every later use a plain read.
	ecs.GetEndpointMap()
}

// Options configure a Factory.
type Options struct {
	// Endpoint overrides the SDK's regional endpoint (ECS_ENDPOINT):
	// scheme and host[:port]. Nil means the SDK's endpoint over HTTPS.
	Endpoint *url.URL
	// Transport is shared by every client the factory makes, so
	// connections are reused across invocations. Nil means a tuned
	// *http.Transport.
	Transport http.RoundTripper
	// MaxCallTimeout caps one call even when the invocation has longer:
	// a hung ECS connection must not eat the whole wait budget.
	MaxCallTimeout time.Duration
}

// DefaultMaxCallTimeout is the SDK's own read timeout, kept as the cap.
const DefaultMaxCallTimeout = acssdk.DefaultMaxCallTimeout

// Factory makes API clients bound to one invocation's credentials. It is
// safe for concurrent use and meant to live as long as the process.
type Factory struct {
	scheme    string
	domain    string
	transport http.RoundTripper
	maxCall   time.Duration
}

// NewFactory returns a Factory.
func NewFactory(o Options) *Factory {
	f := &Factory{transport: o.Transport, maxCall: o.MaxCallTimeout}
	f.scheme, f.domain = acssdk.Endpoint(o.Endpoint)
	if f.transport == nil {
		f.transport = NewTransport()
	}
	if f.maxCall <= 0 {
		f.maxCall = DefaultMaxCallTimeout
	}
	return f
}

// NewTransport returns the connection pool shared by every call.
func NewTransport() *http.Transport { return acssdk.NewTransport() }

// Client returns an API that signs every call with c.
func (f *Factory) Client(c creds.Credentials) API {
	return &client{f: f, creds: c}
}

type client struct {
	f     *Factory
	creds creds.Credentials
}

var _ API = (*client)(nil)

// do makes one call with a client of its own. The SDK keeps per-call state
// (timeouts, the resolved domain, the token) in the client and the request,
// so neither is shared between calls.
func (c *client) do(ctx context.Context, region string, req requests.AcsRequest, resp responses.AcsResponse) error {
	call := acssdk.Call{Service: acssdk.ServiceECS, Creds: c.creds, Scheme: c.f.scheme, Transport: c.f.transport, MaxTimeout: c.f.maxCall}
	return call.Do(ctx, func(sc acssdk.Client) error {
		cl, err := ecs.NewClientWithOptions(region, sc.Config, sc.Credential)
		if err != nil {
			return &Error{Service: acssdk.ServiceECS, Kind: KindClient, Code: CodeClient, Message: acssdk.Sanitize(err.Error(), c.creds)}
		}
		if c.f.domain != "" {
			cl.Domain = c.f.domain
		}
		sc.Prepare(req)
		return cl.DoAction(req, resp)
	})
}

func (c *client) DescribeNetworkInterfaces(ctx context.Context, in DescribeInput) (DescribePage, error) {
	req := ecs.CreateDescribeNetworkInterfacesRequest()
	req.RegionId = in.RegionID
	req.AcceptFormat = "JSON"
	if len(in.IDs) > 0 {
		ids := append([]string(nil), in.IDs...)
		req.NetworkInterfaceId = &ids
	}
	req.InstanceId = in.InstanceID
	req.Type = in.Type
	req.NextToken = in.NextToken
	if in.MaxResults > 0 {
		req.MaxResults = requests.NewInteger(in.MaxResults)
	}
	resp := ecs.CreateDescribeNetworkInterfacesResponse()
	if err := c.do(ctx, in.RegionID, req, resp); err != nil {
		return DescribePage{}, err
	}
	page := DescribePage{NextToken: resp.NextToken, RequestID: resp.RequestId}
	for _, s := range resp.NetworkInterfaceSets.NetworkInterfaceSet {
		page.ENIs = append(page.ENIs, fromSet(s))
	}
	return page, nil
}

func (c *client) DetachNetworkInterface(ctx context.Context, in DetachInput) (string, error) {
	req := ecs.CreateDetachNetworkInterfaceRequest()
	req.RegionId = in.RegionID
	req.AcceptFormat = "JSON"
	req.NetworkInterfaceId = in.ENIID
	req.InstanceId = in.InstanceID
	req.TrunkNetworkInstanceId = in.TrunkID
	resp := ecs.CreateDetachNetworkInterfaceResponse()
	if err := c.do(ctx, in.RegionID, req, resp); err != nil {
		return "", err
	}
	return resp.RequestId, nil
}

func fromSet(s ecs.NetworkInterfaceSet) ENI {
	e := ENI{
		ID:             s.NetworkInterfaceId,
		Status:         s.Status,
		Type:           s.Type,
		InstanceID:     s.InstanceId,
		ServiceManaged: s.ServiceManaged,
		TrunkID:        s.Attachment.TrunkNetworkInterfaceId,
	}
	if e.InstanceID == "" {
		e.InstanceID = s.Attachment.InstanceId
	}
	if len(s.Tags.Tag) > 0 {
		e.Tags = make(map[string]string, len(s.Tags.Tag))
		for _, t := range s.Tags.Tag {
			e.Tags[t.TagKey] = t.TagValue
		}
	}
	return e
}
