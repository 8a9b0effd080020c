package ecs

import "github.com/eni-detach/eni-detach/internal/emulator/rpc"

// Call is one request as the emulator saw it, failed authentication
// included. Its Fault is one of the Fault* constants, FaultQuota included.
type Call struct {
	rpc.Call
	// Account is the caller's account, resolved from its key when it
	// authenticated; "" when authentication failed.
	Account string
}

// Copy returns c with maps of its own (rpc.Log).
func (c Call) Copy() Call {
	c.Call = c.Call.Copy()
	return c
}

// Calls returns copies of every logged call, oldest first.
func (s *Server) Calls() []Call { return s.calls.Calls(nil) }

// CallsFor returns copies of the logged calls of one action ("" for all).
func (s *Server) CallsFor(action string) []Call {
	return s.calls.Calls(func(c Call) bool { return action == "" || c.Action == action })
}

// ResetCalls empties the call log.
func (s *Server) ResetCalls() { s.calls.Reset() }
