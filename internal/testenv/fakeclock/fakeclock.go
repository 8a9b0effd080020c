// Package fakeclock is the fake clock of the tests: time that stands still
// until a test moves it. It imports nothing of the project, so that the
// emulators' own tests can use it as well as testenv's users.
package fakeclock

import (
	"context"
	"sync"
	"time"
)

// Clock is a fake detach.Clock: Now stands still until Set, Advance or
// Sleep moves it, and Sleep returns at once. A detach run's waits (polls,
// re-issues, backoff, the wait budget) then cost no wall time; an
// emulator given the same clock (WithClock(c.Now)) ages its detaches,
// credentials and quota windows in step. Concurrent sleepers each move it,
// so tests that time several detach calls at once should not rely on it.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// New starts at the real time, so that deadlines of real contexts mean the
// same on both clocks.
func New() *Clock { return &Clock{now: time.Now()} }

// Now is the fake time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t, backwards too.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Sleep moves the clock forward by d, or to ctx's deadline if that comes
// first (then it reports context.DeadlineExceeded, as a real sleep cut
// short by the deadline would).
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil || d <= 0 {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if dl, ok := ctx.Deadline(); ok && !c.now.Add(d).Before(dl) {
		if dl.After(c.now) {
			c.now = dl
		}
		return context.DeadlineExceeded
	}
	c.now = c.now.Add(d)
	return nil
}
