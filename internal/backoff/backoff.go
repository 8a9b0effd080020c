// Package backoff is the one jittered exponential backoff of the function's
// retry loops: the detach engine's ECS calls and the EventBridge publisher.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Delay returns the wait before retry n (1 = the first retry): base doubled
// per retry up to limit, with equal jitter (half of it fixed, half random), so
// invocations that failed together do not retry together.
func Delay(n int, base, limit time.Duration) time.Duration {
	d := base << min(max(n-1, 0), 16)
	if d > limit || d <= 0 {
		d = limit
	}
	if d <= 0 {
		return 0
	}
	return d/2 + rand.N(d/2+1)
}

// Sleep waits for d or until ctx ends; it returns ctx's error in the
// latter case (and at once when d <= 0 and ctx has ended).
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
