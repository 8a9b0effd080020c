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
	call := Call{Time: s.now(), RequestID: rpc.NewRequestID()}
	params, aerr := rpc.ReadParams(r)
	call.Params = params
	call.Action = params["Action"]
	call.AccessKeyID = params["AccessKeyId"]
	call.SecurityToken = params["SecurityToken"]
	if aerr == nil {
		aerr = rpc.CheckRequest(r, params, APIVersion, served)
	}
	var caller identity.Caller
	if aerr == nil {
		caller, aerr = s.authenticate(r.Method, params)
		call.Account = caller.Account
	}
	// Call.Account, resolved from the key above, is the account that ECS
	// counts quotas and owns resources by.
	if aerr == nil {
		if aerr = s.checkQuota(call.Account, params["RegionId"], call.Action); aerr != nil {
			call.Fault = FaultQuota
		}
	}
	var f rpc.Fault
	if aerr == nil {
		f = rpc.Take(&s.Faults, call.Action)
		call.Fault = f.Kind
		aerr = f.Err()
		switch f.Kind {
		case FaultReset:
			s.record(call)
			rpc.ResetConn(w)
			return
		case FaultHang:
			s.record(call)
			rpc.Hang(w, r, s.closed)
			return
		}
	}
	var body any
	if aerr == nil {
		body, aerr = s.run(caller, call.Action, params)
	}
	status := http.StatusOK
	if aerr != nil {
		status = aerr.Status
		call.Code = aerr.Code
		body = newErrorBody(aerr, call.RequestID, rpc.HostOf(r, "ecs.aliyuncs.com"))
	} else {
		setRequestID(body, call.RequestID)
	}
	call.HTTPStatus = status
	// Recorded before answering so a client that got its answer always
	// finds its call in the log.
	s.record(call)
	// A latency fault: the action already took effect; this models an
	// answer that is slow to arrive, the case where a client gives up on
	// a detach that happened.
	if f.Kind == FaultLatency && !rpc.Wait(w, r, s.closed, f.Delay) {
		return
	}
	rpc.WriteJSON(w, status, call.RequestID, body)
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
