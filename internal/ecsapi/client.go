package ecsapi

import (
	"context"
	"net/http"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
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

// Options configure a Factory: the endpoint override (ECS_ENDPOINT), the
// shared connection pool and the cap of one call.
type Options = acssdk.Options

// Factory makes API clients bound to one invocation's credentials. It is
// safe for concurrent use and meant to live as long as the process.
type Factory struct {
	svc *acssdk.Service
}

// NewFactory returns a Factory.
func NewFactory(o Options) *Factory {
	return &Factory{svc: acssdk.NewService(acssdk.ServiceECS, newSDKClient, o)}
}

func newSDKClient(region string, cfg *sdk.Config, cred auth.Credential) (*sdk.Client, error) {
	cl, err := ecs.NewClientWithOptions(region, cfg, cred)
	if err != nil {
		return nil, err
	}
	return &cl.Client, nil
}

// NewTransport returns the connection pool shared by every call.
func NewTransport() *http.Transport { return acssdk.NewTransport() }

// Client returns an API that signs every call with c.
func (f *Factory) Client(c creds.Credentials) API {
	return &client{svc: f.svc, creds: c}
}

type client struct {
	svc   *acssdk.Service
	creds creds.Credentials
}

var _ API = (*client)(nil)

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
	if err := c.svc.Do(ctx, c.creds, in.RegionID, req, resp); err != nil {
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
	if err := c.svc.Do(ctx, c.creds, in.RegionID, req, resp); err != nil {
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
