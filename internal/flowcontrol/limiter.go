// Package flowcontrol paces the function's ECS calls against the
// account's flow control, for the whole process.
//
// ECS counts calls per account, per region and per API in fixed windows
// (one minute; a call throttled in minute T works again from minute T+1),
// and every instance of the function, the console and other tools draw on
// the same count. What a Throttling answer tells a caller is not "slow
// down" but "this window's count is spent". So the Limiter adapts a count,
// not a rate:
//
//   - Its budget is the process's share of a window: unknown at first (the
//     process calls at its pace until ECS first throttles it), then the
//     number of calls ECS accepted from this process in the window that
//     throttled (a multiplicative decrease whose factor is measured), and
//     one more for every call accepted beyond it (an additive increase).
//   - Within the budget, concurrent calls go at a steady pace (Rate,
//     Burst) so that when the account's count runs out, only the few calls
//     in flight are throttled. A call with no other call of its API in
//     flight goes at once: it is the only one the exhausted count can
//     catch, and a caller making one call at a time is already paced by
//     ECS's answers. (A warm invocation's single describe never waits.)
//   - Beyond the budget, one call at a time probes whether the account has
//     count left (other callers idle or gone): the gap between probes
//     starts at ProbeGap and halves with every accepted one, so a process
//     left alone regains the whole quota within seconds.
//   - After a throttle, nothing more is sent until the next window. Callers
//     waiting for a window boundary wake at boundary + Guard + a random
//     share of Jitter, so that the instances of the function do not all
//     start at the top of the minute and throttle each other again.
//   - A caller whose call cannot be made before its own deadline is told
//     at once (QuotaError) instead of sleeping past it: the function can
//     answer early and let FC's asynchronous retry take over.
//
// Why not additive-increase/multiplicative-decrease on a rate: against a
// fixed-window count, a rate below quota/window spreads the last window's
// calls over the whole window (the default storm would take twice the
// ideal time), and a rate above it spends the count early anyway; the
// count per window is the quantity ECS enforces, so it is the one learnt.
package flowcontrol

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/eni-detach/eni-detach/internal/backoff"
)

// Clock is the limiter's time source; the detach engine's clock fits.
type Clock interface {
	Now() time.Time
	// Sleep waits for d or until ctx ends, and then returns ctx's error.
	Sleep(ctx context.Context, d time.Duration) error
}

// Config tunes a Limiter. Start from DefaultConfig.
type Config struct {
	// Window is ECS's flow-control window; windows start at multiples of
	// it on the clock.
	Window time.Duration
	// Rate (calls a second) and Burst pace calls within the budget.
	Rate  float64
	Burst int
	// ProbeGap is the first gap between calls beyond the budget.
	ProbeGap time.Duration
	// Guard is waited after a window boundary before calling again, so
	// that a clock slightly ahead of ECS's does not call into the old
	// window. Jitter spreads the callers that waited for a boundary.
	Guard  time.Duration
	Jitter time.Duration
	// Clock is the time source; nil means the real clock.
	Clock Clock
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error { return backoff.Sleep(ctx, d) }

// DefaultConfig is the production tuning for a window length.
func DefaultConfig(window time.Duration, clk Clock) Config {
	return Config{
		Window:   window,
		Rate:     50,
		Burst:    10,
		ProbeGap: window / 60,
		Guard:    min(250*time.Millisecond, window/20),
		Jitter:   window / 60,
		Clock:    clk,
	}
}

// QuotaError is Wait's answer when the call cannot be made before the
// caller's deadline.
type QuotaError struct {
	API   string
	Until time.Time // the caller's deadline
	Next  time.Time // the earliest the call could be made
}

func (e *QuotaError) Error() string {
	return fmt.Sprintf("the %s quota is spent until %s; this invocation cannot wait past %s",
		e.API, e.Next.UTC().Format(time.RFC3339Nano), e.Until.UTC().Format(time.RFC3339Nano))
}

// Limiter gates one ECS API's calls for the whole process. It is safe for
// concurrent use; a nil Limiter lets every call through.
type Limiter struct {
	api      string
	cfg      Config
	interval time.Duration

	mu        sync.Mutex
	win       time.Time // start of the current window
	granted   int       // calls let through in win
	accepted  int       // of them, answered without Throttling
	blocked   bool      // a call of win was throttled: nothing more until the next window
	notBefore time.Time // after a throttle: the next window's start plus Guard
	budget    int       // the process's share of a window; 0: not known yet
	probing   bool      // a call beyond the budget is in flight
	probeGap  time.Duration
	nextProbe time.Time
	tat       time.Time // pacing: theoretical arrival time of the next call
	inflight  int       // calls let through and not yet Done, whatever their window
}

// New returns a limiter for api ("DetachNetworkInterface", say).
func New(api string, cfg Config) *Limiter {
	if cfg.Rate <= 0 {
		cfg.Rate = 1
	}
	if cfg.Clock == nil {
		cfg.Clock = realClock{}
	}
	return &Limiter{api: api, cfg: cfg, interval: time.Duration(float64(time.Second) / cfg.Rate),
		probeGap: cfg.ProbeGap}
}

// Ticket is one call let through; report ECS's answer with Done.
type Ticket struct {
	l     *Limiter
	win   time.Time
	probe bool
}

// Wait blocks until a call may be made, and returns its ticket. A call
// that may go now goes, whatever until says; one that would have to wait
// past until gets a *QuotaError at once. Wait returns ctx's error if ctx
// ends first.
func (l *Limiter) Wait(ctx context.Context, until time.Time) (Ticket, error) {
	if l == nil {
		return Ticket{}, ctx.Err()
	}
	for {
		l.mu.Lock()
		now := l.cfg.Clock.Now()
		l.roll(now)
		at, boundary := l.next(now)
		if !at.After(now) {
			t := l.grant(now)
			l.mu.Unlock()
			return t, nil
		}
		if at.After(until) {
			l.mu.Unlock()
			return Ticket{}, &QuotaError{API: l.api, Until: until, Next: at}
		}
		l.mu.Unlock()
		if boundary && l.cfg.Jitter > 0 {
			at = at.Add(rand.N(l.cfg.Jitter + 1))
			if at.After(until) {
				at = until
			}
		}
		if err := l.cfg.Clock.Sleep(ctx, at.Sub(now)); err != nil {
			return Ticket{}, err
		}
	}
}

// Done reports ECS's answer to the ticket's call: throttled when ECS
// answered Throttling*, false for any other answer (and for none: a call
// that got no answer may well have been counted). A zero Ticket is
// ignored.
func (t Ticket) Done(throttled bool) {
	l := t.l
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inflight = max(0, l.inflight-1)
	now := l.cfg.Clock.Now()
	l.roll(now)
	if !t.win.Equal(l.win) {
		return // about a window that is over: this one starts afresh
	}
	if t.probe {
		l.probing = false
	}
	if throttled {
		if !l.blocked {
			l.blocked = true
			l.budget = max(1, l.accepted)
			l.notBefore = l.win.Add(l.cfg.Window + l.cfg.Guard)
		}
		l.probeGap = l.cfg.ProbeGap
		return
	}
	l.accepted++
	switch {
	case l.blocked:
		l.budget++ // answered after the throttle, but counted: the share was larger
	case t.probe:
		l.budget++
		l.probeGap = max(l.interval, l.probeGap/2)
		l.nextProbe = now.Add(l.probeGap)
	}
}

// Budget is the process's share of a window as learnt so far (0: not yet).
func (l *Limiter) Budget() int {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.budget
}

// roll starts a new window when now has left the current one.
func (l *Limiter) roll(now time.Time) {
	if now.Before(l.win.Add(l.cfg.Window)) {
		return
	}
	l.win = now.Truncate(l.cfg.Window)
	l.granted, l.accepted, l.blocked, l.probing = 0, 0, false, false
	l.probeGap, l.nextProbe = l.cfg.ProbeGap, time.Time{}
}

// next returns the earliest time a call may go, and whether that is the
// next window's start (where waiting callers are spread with Jitter).
func (l *Limiter) next(now time.Time) (time.Time, bool) {
	nextWin := l.win.Add(l.cfg.Window + l.cfg.Guard)
	at := now
	switch {
	case l.blocked:
		return nextWin, true
	case l.budget > 0 && l.granted >= l.budget:
		if l.nextProbe.After(at) {
			at = l.nextProbe
		}
		if l.probing {
			at = maxTime(at, now.Add(l.probeGap)) // look again once the probe may have answered
		}
	case l.inflight > 0:
		at = maxTime(at, l.tat.Add(-time.Duration(l.cfg.Burst-1)*l.interval))
	}
	at = maxTime(at, l.notBefore)
	if !at.Before(l.win.Add(l.cfg.Window)) {
		return nextWin, true
	}
	return at, false
}

func (l *Limiter) grant(now time.Time) Ticket {
	l.granted++
	t := Ticket{l: l, win: l.win}
	if l.budget > 0 && l.granted > l.budget {
		t.probe, l.probing = true, true
		l.nextProbe = now.Add(l.probeGap)
	}
	if l.inflight == 0 {
		// A lone call owes nothing to the pace: calls made one at a time
		// must not build up a debt that later concurrent calls would wait
		// out.
		l.tat = now
	}
	l.inflight++
	l.tat = maxTime(l.tat, now).Add(l.interval)
	return t
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
