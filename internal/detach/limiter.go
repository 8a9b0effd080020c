package detach

import (
	"context"
	"sync"
	"time"

	"github.com/eni-detach/eni-detach/internal/backoff"
)

// Limiter spaces out ECS write calls across every invocation of the
// process. ECS throttles DetachNetworkInterface per account and region in
// one-minute windows; an instance with many ENIs must not spend the quota
// in a burst that then throttles every other caller.
type Limiter struct {
	mu       sync.Mutex
	interval time.Duration
	burst    int
	tat      time.Time // theoretical arrival time of the next call (GCRA)
}

// NewLimiter allows perSecond calls a second with bursts of burst.
// perSecond <= 0 means no limit.
func NewLimiter(perSecond float64, burst int) *Limiter {
	if perSecond <= 0 {
		return nil
	}
	return &Limiter{interval: time.Duration(float64(time.Second) / perSecond), burst: max(burst, 1)}
}

// Wait blocks until a call may be made or ctx ends. A nil Limiter never
// waits.
func (l *Limiter) Wait(ctx context.Context) error {
	if l == nil {
		return ctx.Err()
	}
	l.mu.Lock()
	now := time.Now()
	tat := l.tat
	if tat.Before(now) {
		tat = now
	}
	wait := tat.Sub(now) - time.Duration(l.burst-1)*l.interval
	l.tat = tat.Add(l.interval)
	l.mu.Unlock()
	return backoff.Sleep(ctx, wait)
}
