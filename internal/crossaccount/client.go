package crossaccount

import (
	"context"
	"errors"

	"github.com/eni-detach/eni-detach/internal/acssdk"
	"github.com/eni-detach/eni-detach/internal/creds"
	"github.com/eni-detach/eni-detach/internal/ecsapi"
)

// Client is the engine's ECS for one member account: every call first
// gets the account's credentials from the cache, then calls ECS with them
// and nothing else. When they cannot be had, the call fails with STS's
// error (*ecsapi.Error, Service "STS") and ECS is not called; the engine
// classifies and retries it like any other error.
type Client struct {
	cache *Cache
	ecs   ECSClients
	req   Request
}

var _ ecsapi.API = (*Client)(nil)

// ECSClients makes ECS clients bound to credentials (*ecsapi.Factory).
type ECSClients interface {
	Client(creds.Credentials) ecsapi.API
}

var _ ECSClients = (*ecsapi.Factory)(nil)

// Client returns the ECS API of the account req's role belongs to.
func (c *Cache) Client(ecs ECSClients, req Request) *Client {
	return &Client{cache: c, ecs: ecs, req: req}
}

// do runs fn with the member's ECS client. Credentials ECS finds expired
// (the invocation outlived them) are assumed again, once.
func (c *Client) do(ctx context.Context, fn func(api ecsapi.API) error) error {
	for try := 0; ; try++ {
		a, err := c.cache.Credentials(ctx, c.req)
		if err != nil {
			return err
		}
		err = fn(c.ecs.Client(a.Credentials))
		var e *acssdk.Error
		if try == 0 && errors.As(err, &e) && e.Code == "InvalidSecurityToken.Expired" {
			c.cache.Forget(c.req.Key, a.Credentials.AccessKeyID)
			continue
		}
		return err
	}
}

// DescribeNetworkInterfaces describes in the member account.
func (c *Client) DescribeNetworkInterfaces(ctx context.Context, in ecsapi.DescribeInput) (ecsapi.DescribePage, error) {
	var page ecsapi.DescribePage
	err := c.do(ctx, func(api ecsapi.API) error {
		var err error
		page, err = api.DescribeNetworkInterfaces(ctx, in)
		return err
	})
	return page, err
}

// DetachNetworkInterface detaches in the member account.
func (c *Client) DetachNetworkInterface(ctx context.Context, in ecsapi.DetachInput) (string, error) {
	var id string
	err := c.do(ctx, func(api ecsapi.API) error {
		var err error
		id, err = api.DetachNetworkInterface(ctx, in)
		return err
	})
	return id, err
}
