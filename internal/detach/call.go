package detach

import (
	"context"
	"errors"

	"github.com/eni-detach/eni-detach/internal/ecsapi"
	"github.com/eni-detach/eni-detach/internal/flowcontrol"
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
	sent      bool // false: the limiter held the call back (no call was made)
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
// goes through here, so this is the one place where the process's
// limiter for the call's quota (ECS counts per account, region and API)
// paces it and learns from ECS's answers. fn returns the answer's
// RequestId.
func (r *run) call(act action, account, region string, fn func(ctx context.Context) (requestID string, err error)) callResult {
	lim := r.e.Quotas.For(flowcontrol.Key{Account: account, Region: region, API: string(act)})
	// The latest a call may wait for the quota: a detach made later could
	// not be followed to Available within the budget (FollowReserve, at
	// most a quarter of it), so it is better not made: the ENI ends
	// Failed (retryable) and FC's async retry takes over with a fresh
	// budget.
	until := r.waitUntil
	if act == actDetach {
		until = until.Add(-min(r.p.FollowReserve, r.waitUntil.Sub(r.start)/4))
	}
	attempts, rule := r.p.Retry.retry(r.callCtx, r.waitUntil, r.clk, func(ctx context.Context) attempt {
		tk, err := lim.Wait(ctx, until)
		if err != nil {
			var qe *flowcontrol.QuotaError
			if errors.As(err, &qe) {
				return attempt{err: &ecsapi.Error{Code: CodeQuotaExhausted, Message: qe.Error()}}
			}
			return attempt{err: &ecsapi.Error{Kind: ecsapi.KindTransport, Code: ecsapi.CodeTimeout,
				Message: "no time left to make the call"}}
		}
		id, err := fn(ctx)
		tk.Done(err != nil && Classify(err).Throttled)
		if err != nil {
			return attempt{err: err, requestID: requestIDOf(err), sent: true}
		}
		return attempt{requestID: id, sent: true}
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
