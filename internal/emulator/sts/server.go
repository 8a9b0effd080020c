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
	"errors"
	"maps"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/eni-detach/eni-detach/internal/creds"
	"github.com/eni-detach/eni-detach/internal/emulator/identity"
	"github.com/eni-detach/eni-detach/internal/emulator/rpc"
)

// APIVersion is the only STS API version served.
const APIVersion = "2015-04-01"

// Server is the emulator. It is an http.Handler; Start also listens.
type Server struct {
	// Faults offers InjectError, Throttle, InjectLatency, InjectHang,
	// InjectReset and ClearFaults.
	rpc.Faults

	ids      *identity.Registry
	verifier *identity.Verifier
	now      func() time.Time
	wallNow  func() time.Time

	mu    sync.Mutex
	calls []Call

	closeOnce sync.Once
	closed    chan struct{} // releases hung requests
	ln        net.Listener
	srv       *http.Server
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
	s := &Server{ids: reg, verifier: reg.NewVerifier(), now: time.Now, wallNow: time.Now, closed: make(chan struct{})}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Start returns a server listening on 127.0.0.1 on a free port.
func Start(reg *identity.Registry, opts ...Option) (*Server, error) {
	s := New(reg, opts...)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.ln = ln
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Addr is "127.0.0.1:PORT" (what client.Domain wants); "" unless started.
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// URL is "http://127.0.0.1:PORT"; "" unless started.
func (s *Server) URL() string {
	if s.ln == nil {
		return ""
	}
	return "http://" + s.Addr()
}

// Close releases hung requests and, if started, stops listening and closes
// every connection.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.closed)
		if s.srv != nil {
			err = s.srv.Close()
			if errors.Is(err, http.ErrServerClosed) {
				err = nil
			}
		}
	})
	return err
}

// Call is one request as the emulator saw it, failed authentication
// included.
type Call struct {
	Time          time.Time         // server clock, on arrival
	Action        string            // "" when the request had none
	Params        map[string]string // every query and form parameter, Signature included
	AccessKeyID   string
	SecurityToken string
	// Caller is the ARN of the authenticated caller; "" when
	// authentication failed.
	Caller     string
	Code       string // error code; "" on success or when no answer was sent
	HTTPStatus int    // 0 when no answer was sent (hang, reset)
	RequestID  string // also sent for errors
	Fault      string // rpc.Fault* kind when an injected fault decided the outcome
	// Issued is the AccessKeyId of the credentials issued, on success.
	Issued string
	// IssuedCredentials are the credentials issued, secret and token
	// included, for tests that must prove they are never written out.
	IssuedCredentials creds.Credentials
}

func (s *Server) record(c Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
}

// Calls returns copies of every logged call, oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Call, 0, len(s.calls))
	for _, c := range s.calls {
		c.Params = maps.Clone(c.Params)
		out = append(out, c)
	}
	return out
}

// ResetCalls empties the call log.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
}

func served(action string) bool { return action == "AssumeRole" }

// ServeHTTP answers one RPC request: protocol checks, authentication,
// injected faults, then AssumeRole.
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
		if caller, aerr = s.verifier.Authenticate(r.Method, params, s.now(), s.wallNow()); aerr == nil {
			call.Caller = caller.ARN()
		}
	}
	var f rpc.Fault
	if aerr == nil {
		f = rpc.Take(&s.Faults, call.Action)
		call.Fault = f.Kind
		aerr = f.Err()
		switch f.Kind {
		case rpc.FaultReset:
			s.record(call)
			rpc.ResetConn(w)
			return
		case rpc.FaultHang:
			s.record(call)
			rpc.Hang(w, r, s.closed)
			return
		}
	}
	var body any
	if aerr == nil {
		var resp *assumeRoleResponse
		resp, aerr = s.assumeRole(caller, params, s.now())
		if aerr == nil {
			resp.RequestId = call.RequestID
			call.Issued = resp.Credentials.AccessKeyId
			call.IssuedCredentials = creds.Credentials{AccessKeyID: resp.Credentials.AccessKeyId,
				AccessKeySecret: resp.Credentials.AccessKeySecret, SecurityToken: resp.Credentials.SecurityToken}
			body = resp
		}
	}
	status := http.StatusOK
	if aerr != nil {
		status = aerr.Status
		call.Code = aerr.Code
		body = rpc.NewErrorBody(aerr, call.RequestID, rpc.HostOf(r, "sts.aliyuncs.com"), "Sts")
	}
	call.HTTPStatus = status
	s.record(call)
	if f.Kind == rpc.FaultLatency && !rpc.Wait(w, r, s.closed, f.Delay) {
		return
	}
	rpc.WriteJSON(w, status, call.RequestID, body)
}
