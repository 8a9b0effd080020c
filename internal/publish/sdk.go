package publish

import (
	"context"
	"fmt"
	"time"

	eb "github.com/alibabacloud-go/eventbridge-sdk/eventbridge"
	util "github.com/alibabacloud-go/tea-utils/service"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/eni-detach/eni-detach/eventschema"
	"github.com/eni-detach/eni-detach/internal/creds"
)

// newClient builds an SDK client for one invocation's credentials. The SDK
// client holds the key, so it must never outlive or be shared beyond the
// invocation it was built for.
func newClient(c creds.Credentials, ep endpoint, region string) (*eb.Client, error) {
	cfg := new(eb.Config).
		SetAccessKeyId(c.AccessKeyID).
		SetAccessKeySecret(c.AccessKeySecret).
		SetEndpoint(ep.host).
		SetProtocol(ep.protocol)
	if c.SecurityToken != "" {
		cfg.SetSecurityToken(c.SecurityToken)
	}
	if region != "" {
		cfg.SetRegionId(region) // sent as x-eventbridge-regionId
	}
	return eb.NewClient(cfg)
}

// timeoutBuckets are the only per-call timeouts used. tea keeps a
// process-wide pool of http.Clients keyed by (timeouts, proxy, host) and
// never evicts it: a timeout computed to the millisecond would add a client
// (and its idle connections) per call. Rounding the time left down to a few
// buckets keeps the pool small and lets calls reuse connections.
var timeoutBuckets = []time.Duration{
	10 * time.Second, 5 * time.Second, 3 * time.Second, 2 * time.Second,
	time.Second, 500 * time.Millisecond, 250 * time.Millisecond, 100 * time.Millisecond,
}

// minCall is the smallest budget worth a call.
var minCall = timeoutBuckets[len(timeoutBuckets)-1]

// callTimeout is the bound for the next SDK call: the time left in ctx,
// capped by max, rounded down to a bucket. ok is false when too little
// time is left to make a call at all.
func callTimeout(ctx context.Context, max time.Duration) (d time.Duration, ok bool) {
	left := max
	if dl, has := ctx.Deadline(); has {
		if l := time.Until(dl); l < left {
			left = l
		}
	}
	if left == max {
		return max, max >= minCall // an explicit cap is one more pool entry, not one per call
	}
	for _, b := range timeoutBuckets {
		if b <= left {
			return b, true
		}
	}
	return 0, false
}

// panicError is a panic inside the SDK, which it raises on a 2xx body that
// is empty or not a JSON object (util.AssertAsMap).
type panicError struct{ value any }

func (e *panicError) Error() string {
	return fmt.Sprintf("malformed response (SDK panic: %v)", e.value)
}

type callResult struct {
	resp *eb.PutEventsResponse
	err  error
}

// put makes one PutEvents call bounded by timeout. The SDK takes no
// context, so it runs in a goroutine and put returns at ctx's end; the
// goroutine itself ends within timeout (tea's http.Client.Timeout, set from
// ReadTimeout, covers dial, request and body).
func put(ctx context.Context, client *eb.Client, ep endpoint, events []*eb.CloudEvent, timeout time.Duration) callResult {
	rt := &util.RuntimeOptions{
		Autoretry: tea.Bool(false), // one retry layer: ours
		// ReadTimeout is in milliseconds; ConnectTimeout in seconds (tea
		// multiplies it by time.Second for the dialer).
		ReadTimeout:    tea.Int(int(timeout / time.Millisecond)),
		ConnectTimeout: tea.Int(connectSeconds(timeout)),
	}
	if ep.isLoopback() {
		rt.NoProxy = tea.String(ep.host)
	}
	done := make(chan callResult, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- callResult{err: &panicError{value: v}}
			}
		}()
		resp, err := client.PutEventsWithOptions(events, rt)
		done <- callResult{resp: resp, err: err}
	}()
	select {
	case r := <-done:
		return r
	case <-ctx.Done():
		return callResult{err: ctx.Err()}
	}
}

func connectSeconds(timeout time.Duration) int {
	s := int(timeout / time.Second)
	switch {
	case s < 1:
		return 1 // the overall ReadTimeout still bounds the dial
	case s > 5:
		return 5
	}
	return s
}

// toCloudEvent builds a fresh SDK event from e and its encoded data (the
// SDK writes defaults into the objects it is given, so they are never
// reused across calls).
func toCloudEvent(e eventschema.FollowUpEvent, data []byte) *eb.CloudEvent {
	ce := new(eb.CloudEvent).
		SetId(e.ID).
		SetSource(e.Source).
		SetType(e.Type).
		SetSpecversion("1.0").
		SetDatacontenttype(contentType(e)).
		// Extensions must be non-nil (require:"true"); the SDK flattens
		// them to top-level attributes.
		SetExtensions(map[string]interface{}{"aliyuneventbusname": e.AliyunEventBusName})
	if e.Subject != "" {
		ce.SetSubject(e.Subject)
	}
	if e.Time != "" {
		ce.SetTime(e.Time) // already eventschema.TimeLayout
	}
	if len(data) > 0 {
		// For a JSON content type the SDK re-parses these bytes and embeds
		// the value, so data arrives as an object, not a base64 string.
		ce.SetData(data)
	}
	return ce
}

func contentType(e eventschema.FollowUpEvent) string {
	if e.DataContentType == "" {
		return "application/json"
	}
	return e.DataContentType
}
