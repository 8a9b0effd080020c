package ecs

import (
	"net/http"
	"time"
)

// Fault kinds, as recorded in Call.Fault.
const (
	FaultError    = "error"    // InjectError
	FaultThrottle = "throttle" // Throttle
	FaultQuota    = "quota"    // over a quota (SetQuota, PutQuota)
	FaultLatency  = "latency"  // InjectLatency: the action ran, the answer came late
	FaultHang     = "hang"     // InjectHang: no answer until the client gives up
	FaultReset    = "reset"    // InjectReset: connection dropped, no answer
)

// AnyAction makes an injected fault apply to every action.
const AnyAction = "*"

type fault struct {
	action    string
	kind      string
	status    int
	code      string
	message   string
	delay     time.Duration
	remaining int // <0: forever
}

// knownMessages gives injected errors the real service's wording where the
// product or a person might look at it.
var knownMessages = map[string]string{
	"Throttling.User":    msgThrottling,
	"Throttling":         "Request was denied due to request throttling.",
	"InternalError":      "The request processing has failed due to some unknown error, exception or failure.",
	"ServiceUnavailable": "The request has failed due to a temporary failure of the server.",
}

// InjectError makes the next `times` authenticated calls of action (or of
// every action, with AnyAction) fail with code and httpStatus; times < 0
// means always. Faults are consumed in the order they were injected.
func (s *Server) InjectError(action, code string, httpStatus, times int) {
	msg, ok := knownMessages[code]
	if !ok {
		msg = code + " (injected by the ECS emulator)"
	}
	s.addFault(&fault{action: action, kind: FaultError, status: httpStatus, code: code, message: msg, remaining: times})
}

// Throttle makes the next `times` calls fail with 400 Throttling.User.
func (s *Server) Throttle(action string, times int) {
	s.addFault(&fault{action: action, kind: FaultThrottle, status: http.StatusBadRequest,
		code: "Throttling.User", message: msgThrottling, remaining: times})
}

// InjectLatency delays the answer of the next `times` calls by d. The
// action itself runs before the delay: a client that gives up has still
// had its detach applied.
func (s *Server) InjectLatency(action string, d time.Duration, times int) {
	s.addFault(&fault{action: action, kind: FaultLatency, delay: d, remaining: times})
}

// InjectHang holds the next `times` calls, without running them, until the
// client gives up (or the server closes).
func (s *Server) InjectHang(action string, times int) {
	s.addFault(&fault{action: action, kind: FaultHang, remaining: times})
}

// InjectReset drops the connection of the next `times` calls without
// running them or answering.
func (s *Server) InjectReset(action string, times int) {
	s.addFault(&fault{action: action, kind: FaultReset, remaining: times})
}

// ClearFaults removes every pending injected fault (quotas stay).
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

func (s *Server) addFault(f *fault) {
	if f.remaining == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
}

// takeFault consumes the oldest pending fault that applies to action.
func (s *Server) takeFault(action string) fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.action != action && f.action != AnyAction {
			continue
		}
		if f.remaining > 0 {
			f.remaining--
			if f.remaining == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		return *f
	}
	return fault{}
}
