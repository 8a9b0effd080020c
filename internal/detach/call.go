package detach

import (
	"context"
	"errors"

	"github.com/eni-detach/eni-detach/internal/ecsapi"
)

// action names an ECS API, as the limiter and the call log know it.
type action string

const (
	actDescribe action = "DescribeNetworkInterfaces"
	actDetach   action = "DetachNetworkInterface"
)

// attempt is what one try of a call reports.
type attempt struct {
	err       error
	requestID string
}

// callResult is every attempt of one call, in order, and the rule of the
// last one's error (zero when it succeeded).
type callResult struct {
	attempts []attempt
	rule     Rule
}

// err is the last attempt's error: nil when the call succeeded.
func (c callResult) err() error { return c.attempts[len(c.attempts)-1].err }

// appendRequestIDs appends the RequestIds of every attempt that got an
// answer, refused ones included, in order.
func (c callResult) appendRequestIDs(ids []string) []string {
	for _, a := range c.attempts {
		if a.requestID != "" {
			ids = append(ids, a.requestID)
		}
	}
	return ids
}

// call makes one ECS call through the engine's one retry layer, bounded by
// the run's call deadline and wait budget. Every ECS call of the engine
// goes through here, so this is the one place for pacing (the Limiter, for
// detach calls) and for watching how ECS answers. fn returns the answer's
// RequestId.
func (r *run) call(act action, fn func(ctx context.Context) (requestID string, err error)) callResult {
	attempts, rule := r.p.Retry.retry(r.callCtx, r.waitUntil, r.clk, func(ctx context.Context) attempt {
		if act == actDetach {
			if err := r.e.Limiter.Wait(ctx); err != nil {
				return attempt{err: &ecsapi.Error{Kind: ecsapi.KindTransport, Code: ecsapi.CodeTimeout, Message: "no time left to make the detach call"}}
			}
		}
		id, err := fn(ctx)
		if err != nil {
			return attempt{err: err, requestID: requestIDOf(err)}
		}
		return attempt{requestID: id}
	})
	return callResult{attempts: attempts, rule: rule}
}

func requestIDOf(err error) string {
	var e *ecsapi.Error
	if errors.As(err, &e) {
		return e.RequestID
	}
	return ""
}
