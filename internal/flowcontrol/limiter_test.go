package flowcontrol

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// fakeClock stands still until Sleep moves it, and records every sleep.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	if d > 0 {
		c.now = c.now.Add(d)
	}
	return nil
}

func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// t0 is a window boundary for every window length the tests use.
var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func testConfig(clk Clock) Config {
	return Config{Window: time.Minute, Rate: 10, Burst: 3, ProbeGap: time.Second, Guard: 200 * time.Millisecond, Clock: clk}
}

var far = t0.Add(time.Hour)

func mustWait(t *testing.T, l *Limiter, until time.Time) Ticket {
	t.Helper()
	tk, err := l.Wait(context.Background(), until)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// Before ECS has throttled anything, concurrent calls go at the pace: a
// burst, then one per interval.
func TestPaceBeforeAnyThrottle(t *testing.T) {
	clk := &fakeClock{now: t0}
	l := New("DetachNetworkInterface", testConfig(clk))
	var held []Ticket // calls still in flight
	for i := range 5 {
		held = append(held, mustWait(t, l, far))
		if i < 3 && clk.Now() != t0 {
			t.Fatalf("call %d of the burst waited until %v", i, clk.Now())
		}
	}
	if got, want := clk.Now(), t0.Add(200*time.Millisecond); !got.Equal(want) {
		t.Fatalf("after a burst of 3 at 10/s, the 5th call went at %v, want %v", got, want)
	}
	for _, tk := range held {
		tk.Done(false)
	}
	if l.Budget() != 0 {
		t.Fatalf("budget %d before any throttle", l.Budget())
	}
}

// A call with nothing else of its API in flight goes at once, however
// many went before it; and calls made one at a time leave no debt that
// the next concurrent burst would have to wait out.
func TestLoneCallsAreNotPaced(t *testing.T) {
	clk := &fakeClock{now: t0}
	l := New("DescribeNetworkInterfaces", testConfig(clk))
	for i := range 50 {
		mustWait(t, l, far).Done(false)
		if clk.Now() != t0 {
			t.Fatalf("lone call %d waited until %v", i, clk.Now())
		}
	}
	var held []Ticket
	for i := range 3 {
		held = append(held, mustWait(t, l, far))
		if clk.Now() != t0 {
			t.Fatalf("call %d of a burst after lone calls waited until %v", i, clk.Now())
		}
	}
	held = append(held, mustWait(t, l, far))
	if got, want := clk.Now(), t0.Add(100*time.Millisecond); !got.Equal(want) {
		t.Fatalf("the 4th concurrent call went at %v, want %v (the pace)", got, want)
	}
	for _, tk := range held {
		tk.Done(false)
	}
}

// A throttle blocks the API until the next window (plus the guard),
// learns the share ECS accepted, and a caller whose deadline comes first
// is told at once.
func TestThrottleBlocksUntilTheNextWindow(t *testing.T) {
	clk := &fakeClock{now: t0.Add(10 * time.Second)}
	l := New("DescribeNetworkInterfaces", testConfig(clk))
	var tickets []Ticket
	for range 6 {
		tickets = append(tickets, mustWait(t, l, far))
	}
	for _, tk := range tickets[:4] {
		tk.Done(false)
	}
	tickets[4].Done(true)
	tickets[5].Done(false) // answered after the throttle, still counted
	if l.Budget() != 5 {
		t.Fatalf("budget %d, want the 5 calls ECS accepted", l.Budget())
	}

	before := clk.Now()
	_, err := l.Wait(context.Background(), t0.Add(time.Minute))
	var qe *QuotaError
	if !errors.As(err, &qe) || !qe.Next.Equal(t0.Add(time.Minute+200*time.Millisecond)) {
		t.Fatalf("Wait with a deadline at the boundary = %v, want a QuotaError naming %v", err, t0.Add(time.Minute+200*time.Millisecond))
	}
	if !clk.Now().Equal(before) {
		t.Fatal("the early answer slept")
	}

	mustWait(t, l, far).Done(false)
	if want := t0.Add(time.Minute + 200*time.Millisecond); clk.Now().Before(want) {
		t.Fatalf("the next call went at %v, before the next window and guard %v", clk.Now(), want)
	}
}

// In a later window, the budget goes at the pace; beyond it one probe at a
// time, each accepted probe raising the budget and halving the gap; a
// throttled probe blocks again.
func TestBudgetThenProbes(t *testing.T) {
	clk := &fakeClock{now: t0}
	cfg := testConfig(clk)
	cfg.Burst = 10
	l := New("DetachNetworkInterface", cfg)
	first := mustWait(t, l, far)
	second := mustWait(t, l, far)
	first.Done(false)
	second.Done(true) // budget 1
	clk.set(t0.Add(time.Minute + time.Second))

	mustWait(t, l, far).Done(false) // within the budget
	start := clk.Now()
	probe := mustWait(t, l, far)
	if !clk.Now().Equal(start) {
		t.Fatalf("the first probe waited %v", clk.Now().Sub(start))
	}
	// While the probe is out, no other call goes.
	if _, err := l.Wait(context.Background(), start.Add(100*time.Millisecond)); err == nil {
		t.Fatal("a second call went while the probe was out")
	}
	probe.Done(false)
	if l.Budget() != 2 {
		t.Fatalf("budget %d after an accepted probe, want 2", l.Budget())
	}
	next := mustWait(t, l, far)
	if gap := clk.Now().Sub(start); gap != 500*time.Millisecond {
		t.Fatalf("the second probe came %v after the first, want the halved gap of 500ms", gap)
	}
	next.Done(true)
	if _, err := l.Wait(context.Background(), clk.Now().Add(time.Second)); err == nil {
		t.Fatal("a throttled probe did not block the window")
	}
	if l.Budget() != 2 {
		t.Fatalf("budget %d after a throttled probe, want 2 (the calls accepted in the window)", l.Budget())
	}
}

// Callers that wait for a window boundary are spread over the jitter, all
// after the guard.
func TestBoundaryWaitsSpreadWithJitter(t *testing.T) {
	const callers = 40
	var lo, hi time.Duration
	for i := range callers {
		clk := &fakeClock{now: t0.Add(30 * time.Second)}
		cfg := testConfig(clk)
		cfg.Jitter = 3 * time.Second
		l := New("DetachNetworkInterface", cfg)
		mustWait(t, l, far).Done(true)
		mustWait(t, l, far)
		wait := clk.Now().Sub(t0.Add(time.Minute + cfg.Guard))
		if wait < 0 || wait > cfg.Jitter {
			t.Fatalf("woke %v after the boundary and guard, want within [0, %v]", wait, cfg.Jitter)
		}
		if i == 0 || wait < lo {
			lo = wait
		}
		if i == 0 || wait > hi {
			hi = wait
		}
	}
	if hi-lo < time.Second {
		t.Fatalf("%d callers woke within %v of each other: not spread", callers, hi-lo)
	}
}

// An answer that arrives after its window ended changes nothing in the
// new one.
func TestAnswerAboutAPastWindow(t *testing.T) {
	clk := &fakeClock{now: t0.Add(59 * time.Second)}
	l := New("DetachNetworkInterface", testConfig(clk))
	tk := mustWait(t, l, far)
	clk.set(t0.Add(61 * time.Second))
	tk.Done(true)
	if l.Budget() != 0 {
		t.Fatalf("a throttle of the past window set the budget to %d", l.Budget())
	}
	if _, err := l.Wait(context.Background(), clk.Now()); err != nil {
		t.Fatalf("the new window was blocked by the past one: %v", err)
	}
}

func TestNilLimiterAndSet(t *testing.T) {
	var s *Set
	l := s.For(Key{API: "DetachNetworkInterface"})
	tk, err := l.Wait(context.Background(), t0)
	if err != nil {
		t.Fatal(err)
	}
	tk.Done(true)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Wait(ctx, far); !errors.Is(err, context.Canceled) {
		t.Fatalf("a nil limiter hid the cancelled context: %v", err)
	}

	set := NewSet(testConfig(&fakeClock{now: t0}))
	a := set.For(Key{Account: "1", Region: "cn-hangzhou", API: "DetachNetworkInterface"})
	if set.For(Key{Account: "1", Region: "cn-hangzhou", API: "DetachNetworkInterface"}) != a {
		t.Fatal("the same key got two limiters")
	}
	for _, k := range []Key{{Account: "2", Region: "cn-hangzhou", API: "DetachNetworkInterface"},
		{Account: "1", Region: "cn-beijing", API: "DetachNetworkInterface"},
		{Account: "1", Region: "cn-hangzhou", API: "DescribeNetworkInterfaces"}} {
		if set.For(k) == a {
			t.Fatalf("%+v shares a limiter with another quota", k)
		}
	}
}

func TestWaitEndsWithTheContext(t *testing.T) {
	clk := &fakeClock{now: t0}
	l := New("DetachNetworkInterface", testConfig(clk))
	mustWait(t, l, far).Done(true)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Wait(ctx, far); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait = %v, want the context's error", err)
	}
}
