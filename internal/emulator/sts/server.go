// Package sts is an in-process emulator of the STS OpenAPI (version
// 2015-04-01, RPC style, signature v1) as alibaba-cloud-sdk-go's
// services/sts client calls it: AssumeRole, checked as STS checks it.
//
// Callers are authenticated against an identity.Registry shared with the
// ECS emulator: the caller's signature and token are verified exactly as
// ECS verifies them, the role's trust policy and the caller's own
// sts:AssumeRole permission are checked, and the credentials issued are
// registered so that ECS accepts them, for the role's account and within
// the session policy. Errors carry the codes and HTTP statuses STS answers
// with; faults can be injected (throttling, 5xx, hangs) and every call is
// logged.
//
// Point the SDK at it with client.Domain = srv.Addr() and the HTTP scheme.
package sts

import (
	"net/http"
	"time"

	"github.com/eni-detach/eni-detach/internal/creds"
	"github.com/eni-detach/eni-detach/internal/emulator/identity"
	"github.com/eni-detach/eni-detach/internal/emulator/loopback"
	"github.com/eni-detach/eni-detach/internal/emulator/rpc"
)

// APIVersion is the only STS API version served.
const APIVersion = "2015-04-01"

// Server is the emulator. It is an http.Handler; Start also listens.
type Server struct {
	// Faults offers InjectError, Throttle, InjectLatency, InjectHang,
	// InjectReset and ClearFaults.
	rpc.Faults
	// Listener offers Addr ("127.0.0.1:PORT", what client.Domain wants),
	// URL and Close, which also releases hung requests.
	loopback.Listener

	ids      *identity.Registry
	verifier *identity.Verifier
	now      func() time.Time
	wallNow  func() time.Time

	calls rpc.Log[Call]
}

// Option configures a Server.
type Option func(*Server)

// WithClock replaces the clock that issued credentials' expiry is set by;
// give the ECS emulator the same one. Request Timestamps are still judged
// by real time (see WithRequestClock).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithRequestClock replaces the clock that request Timestamps (15-minute
// skew) and SignatureNonce memory are judged by; real time by default.
func WithRequestClock(now func() time.Time) Option { return func(s *Server) { s.wallNow = now } }

// New returns a server, only an http.Handler (see Start), that
// authenticates callers against reg and registers what it issues there.
func New(reg *identity.Registry, opts ...Option) *Server {
	s := &Server{ids: reg, verifier: reg.NewVerifier(), now: time.Now, wallNow: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Start returns a server listening on 127.0.0.1 on a free port.
func Start(reg *identity.Registry, opts ...Option) (*Server, error) {
	s := New(reg, opts...)
	if err := loopback.Serve(&s.Listener, "", s); err != nil {
		return nil, err
	}
	return s, nil
}

// Call is one request as the emulator saw it, failed authentication
// included.
type Call struct {
	rpc.Call
	// Caller is the ARN of the authenticated caller; "" when
	// authentication failed.
	Caller string
	// Issued is the AccessKeyId of the credentials issued, on success.
	Issued string
	// IssuedCredentials are the credentials issued, secret and token
	// included, for tests that must prove they are never written out.
	IssuedCredentials creds.Credentials
}

// Copy returns c with maps of its own (rpc.Log).
func (c Call) Copy() Call {
	c.Call = c.Call.Copy()
	return c
}

// Calls returns copies of every logged call, oldest first.
func (s *Server) Calls() []Call { return s.calls.Calls(nil) }

func served(action string) bool { return action == "AssumeRole" }

// ServeHTTP answers one RPC request: protocol checks, authentication,
// injected faults, then AssumeRole.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc, aerr := rpc.Begin(r, s.now(), APIVersion, served)
	call := Call{Call: rc}
	var caller identity.Caller
	if aerr == nil {
		if caller, aerr = s.verifier.Authenticate(r.Method, call.Params, s.now(), s.wallNow()); aerr == nil {
			call.Caller = caller.ARN()
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
		var resp *assumeRoleResponse
		if resp, aerr = s.assumeRole(caller, call.Params, s.now()); aerr == nil {
			resp.RequestId = call.RequestID
			call.Issued = resp.Credentials.AccessKeyId
			call.IssuedCredentials = creds.Credentials{AccessKeyID: resp.Credentials.AccessKeyId,
				AccessKeySecret: resp.Credentials.AccessKeySecret, SecurityToken: resp.Credentials.SecurityToken}
			body = resp
		}
	}
	body = call.Answer(body, aerr, rpc.HostOf(r, "sts.aliyuncs.com"), "Sts")
	s.calls.Record(call)
	rpc.Send(w, r, &s.Listener, f, call.HTTPStatus, call.RequestID, body)
}
