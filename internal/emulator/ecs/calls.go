package ecs

import (
	"maps"
	"time"
)

// Call is one request as the emulator saw it, failed authentication
// included.
type Call struct {
	Time          time.Time         // server clock, on arrival
	Action        string            // "" when the request had none
	Params        map[string]string // every query and form parameter, Signature included
	AccessKeyID   string
	SecurityToken string
	// Account is the caller's account, resolved from its key when it
	// authenticated; "" when authentication failed.
	Account    string
	Code       string // error code; "" on success or when no answer was sent
	HTTPStatus int    // 0 when no answer was sent (hang, reset)
	RequestID  string // also sent for errors
	Fault      string // Fault* constant when an injected fault or quota decided the outcome
}

func (s *Server) record(c Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
}

// Calls returns copies of every logged call, oldest first.
func (s *Server) Calls() []Call { return s.CallsFor("") }

// CallsFor returns copies of the logged calls of one action ("" for all).
func (s *Server) CallsFor(action string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if action == "" || c.Action == action {
			c.Params = maps.Clone(c.Params)
			out = append(out, c)
		}
	}
	return out
}

// ResetCalls empties the call log.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
}
