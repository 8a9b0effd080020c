package fcruntime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/eni-detach/eni-detach/internal/creds"
)

// Result statuses: which endpoint the child completed the invocation on.
const (
	StatusResponse = "response"
	StatusError    = "error"
)

// Invocation is one event for the function. Zero fields take the Server's
// Config values; RequestID is generated when empty.
type Invocation struct {
	RequestID    string
	Payload      []byte
	Timeout      time.Duration
	Credentials  creds.Credentials
	FunctionName string
	Handler      string
	Region       string
	AccountID    string
	Memory       int
	RetryCount   int
	// WithoutFunctionInfo sends no x-fc-function-name, x-fc-region or
	// x-fc-account-id (the SDK reads them as optional), so a function has
	// to fall back on its FC_FUNCTION_NAME / FC_REGION / FC_ACCOUNT_ID.
	WithoutFunctionInfo bool
}

// Result is how the child completed an invocation.
type Result struct {
	RequestID string
	// Status is StatusResponse or StatusError; empty when Invoke failed.
	Status string
	// Body is the raw body the child posted: the JSON result, or the error
	// object {"errorMessage","errorType","stackTrace"}.
	Body         []byte
	ErrorMessage string
	ErrorType    string
	// StackTrace is set for panics (the SDK sends none for returned errors).
	StackTrace json.RawMessage

	// Deadline is what x-fc-function-deadline said (ms precision).
	Deadline     time.Time
	QueuedAt     time.Time // Invoke was called
	DispatchedAt time.Time // a `next` took it
	CompletedAt  time.Time // the response/error arrived
	// Duration is CompletedAt − DispatchedAt: the time the function held it.
	Duration time.Duration

	// Err is what Invoke returned; only InvokeConcurrently sets it.
	Err error
}

// pending is an invocation from Invoke until it completes or is given up.
// Fields after inv are guarded by Server.mu.
type pending struct {
	inv      Invocation // defaults resolved
	queuedAt time.Time
	result   chan Result   // buffered 1: the completion handler never blocks
	gone     chan struct{} // closed by finish

	holdsSlot    bool
	dispatched   bool
	dispatchedAt time.Time
	deadline     time.Time
	finished     bool
}

// Invoke queues inv and waits until the child posts its response or error,
// ctx ends, or the Server closes. Request ids must be unique among the
// invocations queued or in flight at once.
func (s *Server) Invoke(ctx context.Context, inv Invocation) (Result, error) {
	if s.isClosed() {
		return Result{RequestID: inv.RequestID}, ErrClosed
	}
	p := &pending{
		inv:      s.resolve(inv),
		queuedAt: time.Now(),
		result:   make(chan Result, 1),
		gone:     make(chan struct{}),
	}
	id := p.inv.RequestID
	s.mu.Lock()
	if _, dup := s.pending[id]; dup {
		s.mu.Unlock()
		return Result{RequestID: id}, fmt.Errorf("fcruntime: request id %q is already queued or in flight", id)
	}
	s.pending[id] = p
	s.mu.Unlock()

	if s.slots != nil {
		select {
		case s.slots <- struct{}{}:
			p.holdsSlot = true // before the hand-off below, so finish sees it
		case <-ctx.Done():
			return s.giveUp(p, ctx.Err())
		case <-s.done:
			return s.giveUp(p, ErrClosed)
		}
	}
	select {
	case s.queue <- p:
	case <-ctx.Done():
		return s.giveUp(p, ctx.Err())
	case <-s.done:
		return s.giveUp(p, ErrClosed)
	}
	select {
	case res := <-p.result:
		return res, nil
	case <-ctx.Done():
		return s.giveUp(p, ctx.Err())
	case <-s.done:
		return s.giveUp(p, ErrClosed)
	}
}

// InvokeConcurrently runs every invocation at once and returns their results
// in order; a failed Invoke leaves its error in Result.Err.
func (s *Server) InvokeConcurrently(ctx context.Context, invs []Invocation) []Result {
	out := make([]Result, len(invs))
	var wg sync.WaitGroup
	for i, inv := range invs {
		wg.Go(func() {
			res, err := s.Invoke(ctx, inv)
			res.Err = err
			out[i] = res
		})
	}
	wg.Wait()
	return out
}

func (s *Server) giveUp(p *pending, err error) (Result, error) {
	s.mu.Lock()
	s.finish(p)
	res := Result{RequestID: p.inv.RequestID, QueuedAt: p.queuedAt, DispatchedAt: p.dispatchedAt, Deadline: p.deadline}
	s.mu.Unlock()
	return res, err
}

// finish retires p exactly once. Callers hold s.mu.
func (s *Server) finish(p *pending) {
	if p.finished {
		return
	}
	p.finished = true
	if s.pending[p.inv.RequestID] == p {
		delete(s.pending, p.inv.RequestID)
	}
	if p.dispatched {
		s.stats.InFlight--
	}
	if p.holdsSlot {
		<-s.slots
	}
	close(p.gone)
}

func (s *Server) resolve(inv Invocation) Invocation {
	if inv.RequestID == "" {
		inv.RequestID = newRequestID()
	}
	if inv.Timeout <= 0 {
		inv.Timeout = s.cfg.Timeout
	}
	if inv.Credentials == (creds.Credentials{}) {
		inv.Credentials = s.cfg.Credentials
	}
	if inv.FunctionName == "" {
		inv.FunctionName = s.cfg.FunctionName
	}
	if inv.Handler == "" {
		inv.Handler = s.cfg.Handler
	}
	if inv.Region == "" {
		inv.Region = s.cfg.Region
	}
	if inv.AccountID == "" {
		inv.AccountID = s.cfg.AccountID
	}
	if inv.Memory == 0 {
		inv.Memory = s.cfg.Memory
	}
	if inv.WithoutFunctionInfo {
		inv.FunctionName, inv.Region, inv.AccountID = "", "", ""
	}
	return inv
}

// newRequestID has the shape of FC request ids (a UUID).
func newRequestID() string {
	h := randomHex(16)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux
	return hex.EncodeToString(b)
}
