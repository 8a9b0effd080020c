package detach

import (
	"context"
	"time"

	"github.com/eni-detach/eni-detach/internal/backoff"
)

// Clock is the engine's time source: every "now" and every wait of a run
// (the poll schedule, re-issues, backoff, the wait budget) goes through
// it. Production uses the real clock; state-machine tests pass one that
// jumps ahead on Sleep, so that minutes of policy run in microseconds.
type Clock interface {
	Now() time.Time
	// Sleep waits for d or until ctx ends, and then returns ctx's error.
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time                                   { return time.Now() }
func (realClock) Sleep(ctx context.Context, d time.Duration) error { return backoff.Sleep(ctx, d) }
