package rpc

import (
	"maps"
	"net/http"
	"sync"
	"time"
)

// Call is what a service logs of every request, failed authentication
// included. A service's own call type embeds it and adds what the service
// learnt (the caller's account, what it issued).
type Call struct {
	Time          time.Time         // server clock, on arrival
	Action        string            // "" when the request had none
	Params        map[string]string // every query and form parameter, Signature included
	AccessKeyID   string
	SecurityToken string
	Code          string // error code; "" on success or when no answer was sent
	HTTPStatus    int    // 0 when no answer was sent (hang, reset)
	RequestID     string // also sent for errors
	Fault         string // Fault* kind (or the service's own) when a fault decided the outcome
}

// Begin reads a request into a new Call, stamped now, and checks it as the
// gateway does before the service sees it (CheckRequest). The Call is
// filled in as far as the request could be read, error or not.
func Begin(r *http.Request, now time.Time, version string, served func(action string) bool) (Call, *Error) {
	params, err := ReadParams(r)
	c := Call{
		Time:          now,
		Action:        params["Action"],
		Params:        params,
		AccessKeyID:   params["AccessKeyId"],
		SecurityToken: params["SecurityToken"],
		RequestID:     NewRequestID(),
	}
	if err == nil {
		err = CheckRequest(r, params, version, served)
	}
	return c, err
}

// Answer notes the outcome of the call and returns what to send: body on
// success (aerr nil), else the error answer of product (e.g. "Ecs") at
// host (see HostOf).
func (c *Call) Answer(body any, aerr *Error, host, product string) any {
	if aerr == nil {
		c.HTTPStatus = http.StatusOK
		return body
	}
	c.HTTPStatus, c.Code = aerr.Status, aerr.Code
	return NewErrorBody(aerr, c.RequestID, host, product)
}

// Copy returns c with a map of its own.
func (c Call) Copy() Call {
	c.Params = maps.Clone(c.Params)
	return c
}

// Log is a service's call log, oldest first; its zero value is empty. C is
// the service's call type, whose Copy must not share maps with the logged
// call. It is safe for concurrent use.
type Log[C interface{ Copy() C }] struct {
	mu    sync.Mutex
	calls []C
}

// Record appends c.
func (l *Log[C]) Record(c C) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, c)
}

// Calls returns copies of the logged calls keep accepts (all when keep is
// nil), oldest first.
func (l *Log[C]) Calls(keep func(C) bool) []C {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []C
	for _, c := range l.calls {
		if keep == nil || keep(c) {
			out = append(out, c.Copy())
		}
	}
	return out
}

// Reset empties the log.
func (l *Log[C]) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = nil
}
