package crossaccount

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/eni-detach/eni-detach/internal/acssdk"
	"github.com/eni-detach/eni-detach/internal/creds"
	"github.com/eni-detach/eni-detach/internal/stsapi"
)

// Key names a cache entry: credentials are shared by every invocation that
// assumes the same role with the same external id.
type Key struct {
	RoleARN    string
	ExternalID string
}

// Request is what one invocation asks the cache for.
type Request struct {
	Key
	// Caller signs the AssumeRole: the invocation's own credentials.
	Caller creds.Credentials
	// Region picks STS's regional endpoint: the function's region.
	Region string
	// RequestID is the FC request id; it names the session.
	RequestID string
}

// Cache holds assumed credentials for the whole process. Concurrent
// invocations share them; one AssumeRole per key is in flight at a time,
// and the others wait for its answer. It is safe for concurrent use.
type Cache struct {
	sts stsapi.API
	now func() time.Time

	mu      sync.Mutex
	entries map[Key]*entry
}

type entry struct {
	assumed stsapi.Assumed // zero until the first success
	flight  *flight        // non-nil while an AssumeRole is in flight
}

type flight struct {
	done    chan struct{}
	assumed stsapi.Assumed
	err     error
}

// NewCache returns an empty cache that calls api.
func NewCache(api stsapi.API) *Cache {
	return &Cache{sts: api, now: time.Now, entries: map[Key]*entry{}}
}

// maxNeed is the most validity a caller may ask of cached credentials:
// more than fresh ones have would renew them on every call.
const maxNeed = SessionDuration - RenewBefore

// need is how long credentials must still be valid for ctx: the time left
// to its deadline, at least RenewBefore and at most maxNeed.
func (c *Cache) need(ctx context.Context) time.Duration {
	need := RenewBefore
	if dl, ok := ctx.Deadline(); ok {
		need = max(need, dl.Sub(c.now()))
	}
	return min(need, maxNeed)
}

// Credentials returns credentials for req's role valid for ctx (see need),
// from the cache or from one AssumeRole shared with concurrent callers.
// Errors are *acssdk.Error with Service "STS".
func (c *Cache) Credentials(ctx context.Context, req Request) (stsapi.Assumed, error) {
	need := c.need(ctx)
	c.mu.Lock()
	e, ok := c.entries[req.Key]
	if !ok {
		e = &entry{}
		c.entries[req.Key] = e
	}
	if !e.assumed.Expiration.IsZero() && e.assumed.Expiration.Sub(c.now()) >= need {
		a := e.assumed
		c.mu.Unlock()
		return a, nil
	}
	f := e.flight
	if f == nil {
		f = &flight{done: make(chan struct{})}
		e.flight = f
		c.mu.Unlock()
		c.fly(ctx, req, e, f)
		return f.assumed, f.err
	}
	c.mu.Unlock()
	select {
	case <-f.done:
		// The flight's answer, even if another caller's need would have
		// asked for longer: it is as fresh as credentials get.
		return f.assumed, f.err
	case <-ctx.Done():
		return stsapi.Assumed{}, &acssdk.Error{Service: acssdk.ServiceSTS, Kind: acssdk.KindTransport, Code: acssdk.CodeTimeout,
			Message: "no credentials for " + req.RoleARN + " before the call's deadline"}
	}
}

// fly makes the AssumeRole of a flight, bounded by the leader's context,
// and hands its answer to every waiter.
func (c *Cache) fly(ctx context.Context, req Request, e *entry, f *flight) {
	a, err := c.sts.AssumeRole(ctx, req.Caller, stsapi.AssumeRoleInput{
		Region:      req.Region,
		RoleARN:     req.RoleARN,
		SessionName: SessionName(req.RequestID),
		Duration:    SessionDuration,
		Policy:      SessionPolicy(),
		ExternalID:  req.ExternalID,
	})
	if err != nil {
		err = describeRole(err, req.RoleARN)
	}
	c.mu.Lock()
	if err == nil {
		e.assumed = a
	}
	e.flight = nil
	c.mu.Unlock()
	f.assumed, f.err = a, err
	close(f.done)
}

// describeRole makes an STS error name the role it was about: the code
// and RequestId are STS's, the message says what was asked.
func describeRole(err error, roleARN string) error {
	var e *acssdk.Error
	if !errors.As(err, &e) {
		return err
	}
	out := *e
	out.Message = "AssumeRole " + roleARN + ": " + e.Message
	return &out
}

// Forget drops the cached credentials of key if they are still those of
// accessKeyID (ECS found them expired): the next caller assumes the role
// again.
func (c *Cache) Forget(key Key, accessKeyID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[key]; ok && e.assumed.Credentials.AccessKeyID == accessKeyID {
		e.assumed = stsapi.Assumed{}
	}
}
