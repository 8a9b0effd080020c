package fcruntime

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// ErrClosed is returned by calls made on, or interrupted by, a closed Server.
var ErrClosed = errors.New("fcruntime: server closed")

const (
	apiPrefix = "/2020-11-11/runtime/invocation/"
	nextPath  = apiPrefix + "next"
	// maxPostBody bounds what a child may post; FC's own response limit is far lower.
	maxPostBody = 64 << 20
)

// Server is one emulated FC instance's runtime API. All methods are safe for
// concurrent use.
type Server struct {
	cfg  Config
	addr string
	http *http.Server

	// queue is unbuffered: an Invoke blocks on it until a parked `next` takes
	// the invocation, so "queued" and "dispatched" are two distinct instants.
	queue chan *pending
	slots chan struct{} // nil when InstanceConcurrency is 0
	done  chan struct{}

	firstNext     chan struct{}
	firstNextOnce sync.Once
	firstNextAt   time.Time

	closeOnce sync.Once
	closeErr  error
	serveDone chan struct{}
	connGone  chan struct{} // poked whenever a client connection closes

	mu      sync.Mutex
	pending map[string]*pending // queued or in flight, by request id
	stats   Stats
	conns   int
	procs   []*Process
}

// NewServer starts a runtime API on 127.0.0.1 with a kernel-chosen port.
func NewServer(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fcruntime: listen: %w", err)
	}
	s := &Server{
		cfg:       cfg,
		addr:      ln.Addr().String(),
		queue:     make(chan *pending),
		done:      make(chan struct{}),
		firstNext: make(chan struct{}),
		serveDone: make(chan struct{}),
		connGone:  make(chan struct{}, 1),
		pending:   make(map[string]*pending),
		stats:     Stats{NextStatus: map[int]int{}},
	}
	if cfg.InstanceConcurrency > 0 {
		s.slots = make(chan struct{}, cfg.InstanceConcurrency)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+nextPath, s.handleNext)
	mux.HandleFunc("POST "+apiPrefix+"{id}/response", s.handleCompletion(StatusResponse))
	mux.HandleFunc("POST "+apiPrefix+"{id}/error", s.handleCompletion(StatusError))
	s.http = &http.Server{
		Handler: s.recordNextStatus(mux),
		// No read/write timeouts: `next` is held open for as long as nothing is
		// queued, and the SDK's client never times out either.
		ReadHeaderTimeout: 30 * time.Second,
		ConnState:         s.trackConn,
	}
	go func() {
		defer close(s.serveDone)
		_ = s.http.Serve(ln) // always ErrServerClosed after Close
	}()
	return s, nil
}

// Addr is the host:port a child gets as FC_RUNTIME_API.
func (s *Server) Addr() string { return s.addr }

// Config returns the configuration in effect, defaults filled in.
func (s *Server) Config() Config { return s.cfg }

// Env is the environment an FC instance gives the function process: the
// runtime API address and the FC system variables.
func (s *Server) Env() []string {
	return []string{
		"FC_RUNTIME_API=" + s.addr,
		"FC_REGION=" + s.cfg.Region,
		"FC_ACCOUNT_ID=" + s.cfg.AccountID,
		"FC_FUNCTION_NAME=" + s.cfg.FunctionName,
		"FC_FUNCTION_HANDLER=" + s.cfg.Handler,
		fmt.Sprintf("FC_FUNCTION_MEMORY_SIZE=%d", s.cfg.Memory),
		"FC_INSTANCE_ID=" + s.cfg.InstanceID,
	}
}

// WaitFirstNext returns when the first `next` request arrived: with the
// process start time, the cold start of an fc.Start binary.
func (s *Server) WaitFirstNext(ctx context.Context) (time.Time, error) {
	select {
	case <-s.firstNext:
		return s.firstNextAt, nil
	case <-ctx.Done():
		return time.Time{}, ctx.Err()
	case <-s.done:
		// A `next` may have raced with Close; report it if it did.
		select {
		case <-s.firstNext:
			return s.firstNextAt, nil
		default:
			return time.Time{}, ErrClosed
		}
	}
}

// Close fails every queued or in-flight Invoke with ErrClosed, stops the
// processes started by StartProcess, and shuts the API down.
//
// A waiting `next` is never answered and never cut off while its child is
// alive: the SDK retries a failed `next` (error status, refused or reset
// connection alike) at once and forever, so either would turn a live child
// into a busy loop. Instead the listener stays open and `next` requests stay
// parked until every client connection has gone (the children exited), or
// Config.ShutdownGrace has passed for a child the Server does not own; only
// then are the remaining connections closed. Stop such a child before Close.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		close(s.done)
		s.mu.Lock()
		procs := s.procs
		s.procs = nil
		s.mu.Unlock()
		for _, p := range procs {
			_ = p.Stop()
		}
		s.waitConnsGone(s.cfg.ShutdownGrace)
		s.closeErr = s.http.Close()
		<-s.serveDone
	})
	return s.closeErr
}

func (s *Server) waitConnsGone(grace time.Duration) {
	timer := time.NewTimer(grace)
	defer timer.Stop()
	for {
		s.mu.Lock()
		n := s.conns
		s.mu.Unlock()
		if n == 0 {
			return
		}
		select {
		case <-s.connGone:
		case <-timer.C:
			return
		}
	}
}

func (s *Server) trackConn(_ net.Conn, state http.ConnState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch state {
	case http.StateNew:
		s.conns++
	case http.StateClosed, http.StateHijacked:
		s.conns--
		select {
		case s.connGone <- struct{}{}:
		default:
		}
	}
}

func (s *Server) isClosed() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}
