package ecs

import (
	"net/http"
	"time"

	"github.com/eni-detach/eni-detach/internal/emulator/identity"
	"github.com/eni-detach/eni-detach/internal/emulator/rpc"
)

// actionFunc runs one action for the caller's account. Each runs under s.mu.
type actionFunc func(s *Server, account string, p map[string]string, now time.Time) (any, *apiError)

// actions are the served ECS actions.
var actions = map[string]actionFunc{
	"DescribeNetworkInterfaces":         (*Server).describeNetworkInterfaces,
	"DescribeNetworkInterfaceAttribute": (*Server).describeNetworkInterfaceAttribute,
	"DetachNetworkInterface":            (*Server).detachNetworkInterface,
}

func served(action string) bool { _, ok := actions[action]; return ok }

// ServeHTTP answers one RPC request: protocol checks, authentication (which
// resolves the caller's account: Call.Account), quota, injected faults,
// RAM authorization, then the action in the caller's account.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc, aerr := rpc.Begin(r, s.now(), APIVersion, served)
	call := Call{Call: rc}
	var caller identity.Caller
	if aerr == nil {
		caller, aerr = s.authenticate(r.Method, call.Params)
		call.Account = caller.Account
	}
	// Call.Account, resolved from the key above, is the account that ECS
	// counts quotas and owns resources by.
	if aerr == nil {
		if aerr = s.checkQuota(call.Account, call.Params["RegionId"], call.Action); aerr != nil {
			call.Fault = FaultQuota
		}
	}
	var f rpc.Fault
	if aerr == nil {
		f = rpc.Take(&s.Faults, call.Action)
		call.Fault, aerr = f.Kind, f.Err()
		if f.Drops() {
			s.calls.Record(call)
			rpc.Drop(w, r, &s.Listener, f)
			return
		}
	}
	var body any
	if aerr == nil {
		body, aerr = s.run(caller, call.Action, call.Params)
		setRequestID(body, call.RequestID)
	}
	body = call.Answer(body, aerr, rpc.HostOf(r, "ecs.aliyuncs.com"), "Ecs")
	// Recorded before answering so a client that got its answer always
	// finds its call in the log.
	s.calls.Record(call)
	// A latency fault models an answer that is slow to arrive after the
	// action took effect: the case where a client gives up on a detach
	// that happened.
	rpc.Send(w, r, &s.Listener, f, call.HTTPStatus, call.RequestID, body)
}

// run authorizes the call and runs the action in the caller's account.
func (s *Server) run(caller identity.Caller, action string, params map[string]string) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.authorize(caller, action, params); err != nil {
		return nil, err
	}
	return actions[action](s, caller.Account, params, s.now())
}
