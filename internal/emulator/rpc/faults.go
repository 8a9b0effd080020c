package rpc

import (
	"net/http"
	"sync"
	"time"

	"github.com/eni-detach/eni-detach/internal/emulator/loopback"
)

// Fault kinds, as call logs record them.
const (
	FaultError    = "error"    // InjectError
	FaultThrottle = "throttle" // Throttle
	FaultLatency  = "latency"  // InjectLatency: the action ran, the answer came late
	FaultHang     = "hang"     // InjectHang: no answer until the client gives up
	FaultReset    = "reset"    // InjectReset: connection dropped, no answer
)

// AnyAction makes an injected fault apply to every action.
const AnyAction = "*"

// Fault is one injected misbehaviour, as taken for a call. The zero Fault
// means none.
type Fault struct {
	Kind    string
	Status  int
	Code    string
	Message string
	Delay   time.Duration
}

// Err is the error answer of an error or throttle fault, nil otherwise.
func (f Fault) Err() *Error {
	if f.Kind != FaultError && f.Kind != FaultThrottle {
		return nil
	}
	return &Error{Status: f.Status, Code: f.Code, Message: f.Message}
}

// Drops reports whether the fault answers nothing (a reset or a hang): the
// action must not run, and Drop is what happens to the request.
func (f Fault) Drops() bool { return f.Kind == FaultReset || f.Kind == FaultHang }

// Drop carries out a fault that Drops: a reset drops the connection at
// once; a hang holds the request until the client gives up or l closes,
// then drops it (returning normally would make net/http send an empty 200).
func Drop(w http.ResponseWriter, r *http.Request, l *loopback.Listener, f Fault) {
	if f.Kind == FaultHang {
		hold(r, l, -1)
	}
	loopback.ResetConn(w)
}

// Send writes a call's answer (WriteJSON). Under a latency fault the
// action has already run and the answer is late: when the client gives up
// or l closes meanwhile, the connection is dropped instead, the case of a
// client that gives up on a call that took effect.
func Send(w http.ResponseWriter, r *http.Request, l *loopback.Listener, f Fault, status int, requestID string, body any) {
	if f.Kind == FaultLatency && !hold(r, l, f.Delay) {
		loopback.ResetConn(w)
		return
	}
	WriteJSON(w, status, requestID, body)
}

// hold waits d (d < 0: for ever) and reports whether d passed before the
// client gave up or l closed.
func hold(r *http.Request, l *loopback.Listener, d time.Duration) bool {
	var passed <-chan time.Time // nil: never
	if d >= 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		passed = t.C
	}
	select {
	case <-passed:
		return true
	case <-r.Context().Done():
	case <-loopback.Closed(l):
	}
	return false
}

type pendingFault struct {
	Fault
	action    string
	remaining int // <0: forever
}

// Faults is a queue of injected faults, consumed in the order they were
// injected. Its zero value is ready; a server embeds it to offer the
// Inject methods.
type Faults struct {
	mu      sync.Mutex
	pending []*pendingFault
}

// knownMessages gives injected errors the real services' wording where the
// product or a person might look at it.
var knownMessages = map[string]string{
	"Throttling.User":    MsgThrottling,
	"Throttling":         "Request was denied due to request throttling.",
	"Throttling.Api":     "Request was denied due to api flow control.",
	"InternalError":      "The request processing has failed due to some unknown error, exception or failure.",
	"ServiceUnavailable": "The request has failed due to a temporary failure of the server.",
}

// InjectError makes the next `times` authenticated calls of action (or of
// every action, with AnyAction) fail with code and httpStatus; times < 0
// means always.
func (q *Faults) InjectError(action, code string, httpStatus, times int) {
	msg, ok := knownMessages[code]
	if !ok {
		msg = code + " (injected by the emulator)"
	}
	q.add(action, times, Fault{Kind: FaultError, Status: httpStatus, Code: code, Message: msg})
}

// Throttle makes the next `times` calls fail with 400 Throttling.User.
func (q *Faults) Throttle(action string, times int) {
	q.add(action, times, Fault{Kind: FaultThrottle, Status: http.StatusBadRequest, Code: "Throttling.User", Message: MsgThrottling})
}

// InjectLatency delays the answer of the next `times` calls by d. The
// action itself runs before the delay: a client that gives up has still
// had its call applied.
func (q *Faults) InjectLatency(action string, d time.Duration, times int) {
	q.add(action, times, Fault{Kind: FaultLatency, Delay: d})
}

// InjectHang holds the next `times` calls, without running them, until the
// client gives up (or the server closes).
func (q *Faults) InjectHang(action string, times int) {
	q.add(action, times, Fault{Kind: FaultHang})
}

// InjectReset drops the connection of the next `times` calls without
// running them or answering.
func (q *Faults) InjectReset(action string, times int) {
	q.add(action, times, Fault{Kind: FaultReset})
}

// ClearFaults removes every pending injected fault.
func (q *Faults) ClearFaults() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pending = nil
}

func (q *Faults) add(action string, times int, f Fault) {
	if times == 0 {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pending = append(q.pending, &pendingFault{Fault: f, action: action, remaining: times})
}

// Take consumes the oldest pending fault of q that applies to action. It
// is a function rather than a method so that servers embedding Faults do
// not offer it.
func Take(q *Faults, action string) Fault {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, f := range q.pending {
		if f.action != action && f.action != AnyAction {
			continue
		}
		if f.remaining > 0 {
			f.remaining--
			if f.remaining == 0 {
				q.pending = append(q.pending[:i:i], q.pending[i+1:]...)
			}
		}
		return f.Fault
	}
	return Fault{}
}
