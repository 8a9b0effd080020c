package ecs

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"time"
)

// ECS flow control, as the emulator models it: calls are counted per
// account, per region and per API in fixed windows that start at
// multiples of the window length on the server clock (one minute in ECS:
// a call throttled in minute T works again from minute T+1). Every client
// of an account shares its count, whatever key or token it signs with: the
// count is keyed by Call.Account, the account authentication resolved.
// A call over the limit gets 400 Throttling.User with ECS's message and a
// RequestId, and is not counted against the limit.

// Quota limits one API: Limit accepted calls per Window, for each account
// and region on its own.
type Quota struct {
	// Action is the API, e.g. "DetachNetworkInterface"; required.
	Action string
	// Account and Region narrow the quota to one account or region; ""
	// applies it to every account (region), each with its own count. The
	// most specific quota wins: account and region, account, region, any.
	Account string
	Region  string
	// Limit is the number of calls accepted per window; <= 0 removes the
	// quota of this scope.
	Limit int
	// Window is the window length (ECS: one minute); windows are aligned
	// on multiples of it.
	Window time.Duration
}

type quotaScope struct{ account, region, action string }

func (q Quota) scope() quotaScope       { return quotaScope{q.Account, q.Region, q.Action} }
func (w QuotaWindow) scope() quotaScope { return quotaScope{w.Account, w.Region, w.Action} }

// compare orders scopes by action, then account, then region.
func (k quotaScope) compare(o quotaScope) int {
	return cmp.Or(cmp.Compare(k.action, o.action), cmp.Compare(k.account, o.account), cmp.Compare(k.region, o.region))
}

// QuotaWindow is what one account did with one API in one region during
// one window.
type QuotaWindow struct {
	Account string
	Region  string
	Action  string
	Start   time.Time // the window's start on the server clock
	Window  time.Duration
	Limit   int
	// Accepted calls passed flow control (they may still have failed
	// for another reason); Throttled ones got Throttling.User.
	Accepted  int
	Throttled int
}

// SetQuota allows perWindow calls of action per window, counted for each
// account and region on its own; perWindow <= 0 removes the quota.
func (s *Server) SetQuota(action string, perWindow int, window time.Duration) {
	if err := s.PutQuota(Quota{Action: action, Limit: perWindow, Window: window}); err != nil {
		panic(err) // only a window <= 0 with a limit gets here: a test's mistake
	}
}

// PutQuota adds, replaces (same Action, Account and Region) or, with
// Limit <= 0, removes a quota. Counts already made in the current window
// stay.
func (s *Server) PutQuota(q Quota) error {
	if _, ok := actions[q.Action]; !ok {
		return fmt.Errorf("ecs emulator: quota for unknown action %q", q.Action)
	}
	if q.Limit > 0 && q.Window <= 0 {
		return fmt.Errorf("ecs emulator: quota for %s: window %v must be positive", q.Action, q.Window)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := q.scope()
	if q.Limit <= 0 {
		delete(s.quotas, k)
		return nil
	}
	s.quotas[k] = q
	return nil
}

// Quotas returns every quota in force, sorted by action, account, region.
func (s *Server) Quotas() []Quota {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Collect(maps.Values(s.quotas))
	slices.SortFunc(out, func(a, b Quota) int { return a.scope().compare(b.scope()) })
	return out
}

// QuotaStats returns the count of every window in which a call met a
// quota, oldest first (then by action, account, region).
func (s *Server) QuotaStats() []QuotaWindow {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]QuotaWindow, 0, len(s.quotaWindows))
	for _, w := range s.quotaWindows {
		out = append(out, *w)
	}
	slices.SortFunc(out, func(a, b QuotaWindow) int {
		return cmp.Or(a.Start.Compare(b.Start), a.scope().compare(b.scope()))
	})
	return out
}

// quotaFor returns the most specific quota for the call. Callers hold s.mu.
func (s *Server) quotaFor(account, region, action string) (Quota, bool) {
	for _, k := range []quotaScope{{account, region, action}, {account, "", action}, {"", region, action}, {"", "", action}} {
		if q, ok := s.quotas[k]; ok {
			return q, true
		}
	}
	return Quota{}, false
}

// windowKey identifies one count: a scope in one window.
type windowKey struct {
	quotaScope
	start  int64 // UnixNano: a time.Time's location would split equal instants
	window time.Duration
}

// checkQuota counts an authenticated call of account (the caller's,
// resolved from its key) and refuses it when the account's quota for the
// API and region is spent in this window.
func (s *Server) checkQuota(account, region, action string) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.quotaFor(account, region, action)
	if !ok {
		return nil
	}
	start := s.now().Truncate(q.Window)
	k := windowKey{quotaScope{account, region, action}, start.UnixNano(), q.Window}
	w := s.quotaWindows[k]
	if w == nil {
		w = &QuotaWindow{Account: account, Region: region, Action: action, Start: start, Window: q.Window, Limit: q.Limit}
		s.quotaWindows[k] = w
	}
	w.Limit = q.Limit // a quota changed during the window applies at once
	if w.Accepted >= q.Limit {
		w.Throttled++
		return errThrottled()
	}
	w.Accepted++
	return nil
}
