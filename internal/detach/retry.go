package detach

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/eni-detach/eni-detach/internal/backoff"
)

// RetryPolicy is the one retry layer for ECS calls (the SDK's own is off).
type RetryPolicy struct {
	// MaxAttempts bounds the attempts of one call, the first included.
	MaxAttempts int
	// BaseDelay and MaxDelay bound the jittered exponential backoff.
	BaseDelay time.Duration
	MaxDelay  time.Duration
	// ThrottleWindow is ECS's flow-control window (one minute): quotas
	// reset at its boundaries, so after repeated throttling the next
	// attempt waits for the next window instead of burning the quota.
	ThrottleWindow time.Duration
}

// DefaultRetryPolicy is used in production.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 6, BaseDelay: 300 * time.Millisecond, MaxDelay: 8 * time.Second, ThrottleWindow: time.Minute}
}

// wait returns the pause before retry number n (1 = the first retry).
func (p RetryPolicy) wait(n int, rule Rule, throttles int, now time.Time) time.Duration {
	if rule.Throttled && throttles >= 2 && p.ThrottleWindow > 0 {
		// Throttled twice in a row: this window's quota is spent.
		// Resume just after the boundary, jittered by up to a tenth of
		// the window so that waiting invocations do not stampede it.
		next := now.Truncate(p.ThrottleWindow).Add(p.ThrottleWindow)
		return next.Sub(now) + rand.N(p.ThrottleWindow/10+1)
	}
	return backoff.Delay(n, p.BaseDelay, p.MaxDelay)
}

// retry calls fn until it succeeds, fails for good, runs out of attempts,
// or the next wait would end after until. It returns every attempt, in
// order, so that rejected calls' request ids are kept.
func (p RetryPolicy) retry(ctx context.Context, until time.Time, clk Clock, fn func(context.Context) attempt) ([]attempt, Rule) {
	var (
		out       []attempt
		throttles int
	)
	for n := 1; ; n++ {
		a := fn(ctx)
		out = append(out, a)
		if a.err == nil {
			return out, Rule{}
		}
		rule := Classify(a.err)
		if rule.Class != ClassRetryable || n >= p.MaxAttempts {
			return out, rule
		}
		if rule.Throttled {
			throttles++
		} else {
			throttles = 0
		}
		now := clk.Now()
		wait := p.wait(n, rule, throttles, now)
		if now.Add(wait).After(until) {
			return out, rule
		}
		if clk.Sleep(ctx, wait) != nil {
			return out, rule
		}
	}
}
