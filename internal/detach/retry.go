package detach

import (
	"context"
	"time"

	"github.com/eni-detach/eni-detach/internal/backoff"
)

// RetryPolicy is the one retry layer for ECS calls (the SDK's own is off).
// ECS's flow-control windows are not its business: a throttled call is
// retried like any other, and the engine's flowcontrol.Limiter holds the
// retry until the window has quota again (or refuses it at once when that
// is past the deadline, which ends the retries).
type RetryPolicy struct {
	// MaxAttempts bounds the attempts of one call, the first included.
	MaxAttempts int
	// BaseDelay and MaxDelay bound the jittered exponential backoff.
	BaseDelay time.Duration
	MaxDelay  time.Duration
}

// DefaultRetryPolicy is used in production.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 6, BaseDelay: 300 * time.Millisecond, MaxDelay: 8 * time.Second}
}

// retry calls fn until it succeeds, fails for good, runs out of attempts,
// or the next wait would end after until. It returns every attempt, in
// order, so that rejected calls' request ids are kept.
func (p RetryPolicy) retry(ctx context.Context, until time.Time, clk Clock, fn func(context.Context) attempt) ([]attempt, Rule) {
	var out []attempt
	for n := 1; ; n++ {
		a := fn(ctx)
		out = append(out, a)
		if a.err == nil {
			return out, Rule{}
		}
		rule := Classify(a.err)
		if rule.Class != ClassRetryable || n >= p.MaxAttempts || !a.sent {
			// An attempt the limiter held back will be held back
			// again: the quota is spent past the deadline.
			return out, rule
		}
		now := clk.Now()
		wait := backoff.Delay(n, p.BaseDelay, p.MaxDelay)
		if now.Add(wait).After(until) {
			return out, rule
		}
		if clk.Sleep(ctx, wait) != nil {
			return out, rule
		}
	}
}
