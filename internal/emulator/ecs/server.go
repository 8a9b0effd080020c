// Package ecs is an in-process emulator of the ECS OpenAPI (RPC style,
// signature v1) as alibaba-cloud-sdk-go's services/ecs client calls it:
// DescribeNetworkInterfaces, DescribeNetworkInterfaceAttribute and
// DetachNetworkInterface, with STS credential checks, an ENI state machine
// (detach delay, stuck detaches), fault injection, quotas and a call log.
//
// It is multi-account, as ECS is: instances and ENIs belong to an account,
// and a caller sees only its own account's (another account's ENI is
// InvalidEniId.NotFound). Callers are authenticated against an
// identity.Registry, which an STS emulator may share (WithIdentity), and
// every call is authorized by the caller's RAM policies (Forbidden.RAM).
//
// Point the SDK at it with client.Domain = srv.Addr() and the HTTP scheme.
package ecs

import (
	"crypto/rand"
	"sync"
	"time"

	"github.com/eni-detach/eni-detach/internal/emulator/identity"
	"github.com/eni-detach/eni-detach/internal/emulator/loopback"
	"github.com/eni-detach/eni-detach/internal/emulator/rpc"
)

// DefaultDetachDelay is how long a detach stays Detaching unless
// WithDetachDelay or ENI.DetachDelay says otherwise.
const DefaultDetachDelay = 2 * time.Second

// APIVersion is the only ECS API version served.
const APIVersion = "2014-05-26"

// Server is the emulator. It is an http.Handler; Start also listens.
type Server struct {
	// Faults offers InjectError, Throttle, InjectLatency, InjectHang,
	// InjectReset and ClearFaults.
	rpc.Faults
	// Listener offers Addr ("127.0.0.1:PORT", what client.Domain wants),
	// URL and Close, which also releases hung requests.
	loopback.Listener

	ids         *identity.Registry
	verifier    *identity.Verifier
	now         func() time.Time
	wallNow     func() time.Time // judges request Timestamps and nonces
	detachDelay time.Duration
	tokenSalt   [8]byte // makes NextTokens opaque and server-specific

	mu        sync.Mutex
	seq       int
	regions   map[string]bool
	instances map[string]*instanceState
	enis      map[string]*eniState
	quotas    map[quotaScope]Quota
	// quotaWindows counts calls per scope and window (QuotaStats).
	quotaWindows map[windowKey]*QuotaWindow

	calls rpc.Log[Call]
}

// Option configures a Server.
type Option func(*Server)

// WithClock replaces the server clock: state transitions, schedules,
// credential expiry and quota windows. Request Timestamps are still judged
// by real time (see WithRequestClock), because the SDK stamps requests
// with time.Now() and a test must be free to move the model hours ahead.
// Latency and hangs use real time too.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithRequestClock replaces the clock that request Timestamps (15-minute
// skew) and SignatureNonce memory are judged by; real time by default.
func WithRequestClock(now func() time.Time) Option { return func(s *Server) { s.wallNow = now } }

// WithIdentity makes the server authenticate callers against reg, shared
// with other emulators (STS); by default it has a registry of its own.
func WithIdentity(reg *identity.Registry) Option { return func(s *Server) { s.ids = reg } }

// WithDetachDelay sets the default Detaching → Available delay.
func WithDetachDelay(d time.Duration) Option { return func(s *Server) { s.detachDelay = d } }

// New returns a server that is only an http.Handler (see Start).
func New(opts ...Option) *Server {
	s := &Server{
		now:          time.Now,
		wallNow:      time.Now,
		detachDelay:  DefaultDetachDelay,
		regions:      map[string]bool{DefaultRegion: true},
		instances:    map[string]*instanceState{},
		enis:         map[string]*eniState{},
		quotas:       map[quotaScope]Quota{},
		quotaWindows: map[windowKey]*QuotaWindow{},
	}
	_, _ = rand.Read(s.tokenSalt[:])
	for _, o := range opts {
		o(s)
	}
	if s.ids == nil {
		s.ids = identity.New()
	}
	s.verifier = s.ids.NewVerifier()
	return s
}

// Identity is the registry the server authenticates callers against.
func (s *Server) Identity() *identity.Registry { return s.ids }

// Start returns a server listening on 127.0.0.1 on a free port.
func Start(opts ...Option) (*Server, error) {
	s := New(opts...)
	if err := loopback.Serve(&s.Listener, "", s); err != nil {
		return nil, err
	}
	return s, nil
}
