package ecs

import (
	"time"

	"github.com/eni-detach/eni-detach/internal/emulator/rpc"
)

// Fault kinds, as recorded in Call.Fault.
const (
	FaultError    = rpc.FaultError    // InjectError
	FaultThrottle = rpc.FaultThrottle // Throttle
	FaultQuota    = "quota"           // over a SetQuota limit
	FaultLatency  = rpc.FaultLatency  // InjectLatency: the action ran, the answer came late
	FaultHang     = rpc.FaultHang     // InjectHang: no answer until the client gives up
	FaultReset    = rpc.FaultReset    // InjectReset: connection dropped, no answer
)

// AnyAction makes an injected fault apply to every action.
const AnyAction = rpc.AnyAction

type quota struct {
	perWindow   int
	window      time.Duration
	windowStart time.Time
	used        int
}

// SetQuota allows perWindow authenticated calls of action per window; more
// get 400 Throttling.User. Windows are aligned to multiples of the window
// length on the server clock, like ECS's per-minute windows, so a burst at
// the end of one window and the start of the next can pass 2×perWindow.
// perWindow <= 0 removes the quota.
func (s *Server) SetQuota(action string, perWindow int, window time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if perWindow <= 0 || window <= 0 {
		delete(s.quotas, action)
		return
	}
	s.quotas[action] = &quota{perWindow: perWindow, window: window}
}

func (s *Server) checkQuota(action string) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.quotas[action]
	if !ok {
		return nil
	}
	start := s.now().Truncate(q.window)
	if !start.Equal(q.windowStart) {
		q.windowStart, q.used = start, 0
	}
	if q.used >= q.perWindow {
		return errThrottled()
	}
	q.used++
	return nil
}
