package fcruntime

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"
)

// handleNext parks until an invocation is queued or the child goes away. It
// answers 200 or nothing at all; see Server.Close for why.
func (s *Server) handleNext(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	s.firstNextOnce.Do(func() {
		s.firstNextAt = now
		close(s.firstNext)
	})
	s.mu.Lock()
	s.stats.NextCalls++
	s.stats.NextParked++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.stats.NextParked--
		s.mu.Unlock()
	}()

	var p *pending
	select {
	case p = <-s.queue:
	case <-r.Context().Done():
		s.abandonNext()
		return
	}
	if r.Context().Err() != nil {
		// The child left while we were taking the invocation: hand it to the
		// next `next` (say, of a restarted child) instead of losing it.
		go s.requeue(p)
		s.abandonNext()
		return
	}

	s.mu.Lock()
	p.dispatched = true
	p.dispatchedAt = time.Now()
	p.deadline = p.dispatchedAt.Add(p.inv.Timeout).Truncate(time.Millisecond)
	s.stats.Dispatched++
	s.stats.InFlight++
	s.stats.MaxInFlight = max(s.stats.MaxInFlight, s.stats.InFlight)
	deadline := p.deadline
	s.mu.Unlock()

	writeInvocationHeaders(w.Header(), p.inv, deadline)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(p.inv.Payload)
}

func (s *Server) abandonNext() {
	s.mu.Lock()
	s.stats.NextAbandoned++
	s.mu.Unlock()
}

func (s *Server) requeue(p *pending) {
	select {
	case s.queue <- p:
	case <-p.gone:
	case <-s.done:
	}
}

// writeInvocationHeaders sets what fc/runtime_api_client.go and
// fc/invoke_loop.go read. The request id, deadline and timeout must parse or
// the SDK drops the invocation without answering.
func writeInvocationHeaders(h http.Header, inv Invocation, deadline time.Time) {
	set := func(k, v string) {
		if v != "" {
			h.Set(k, v)
		}
	}
	h.Set("Content-Type", "application/octet-stream")
	h.Set("x-fc-request-id", inv.RequestID)
	h.Set("x-fc-function-deadline", strconv.FormatInt(deadline.UnixMilli(), 10))
	h.Set("x-fc-function-timeout", strconv.Itoa(timeoutSeconds(inv.Timeout)))
	set("x-fc-access-key-id", inv.Credentials.AccessKeyID)
	set("x-fc-access-key-secret", inv.Credentials.AccessKeySecret)
	set("x-fc-security-token", inv.Credentials.SecurityToken)
	set("x-fc-function-name", inv.FunctionName)
	set("x-fc-function-handler", inv.Handler)
	h.Set("x-fc-function-memory", strconv.Itoa(inv.Memory))
	set("x-fc-region", inv.Region)
	set("x-fc-account-id", inv.AccountID)
	h.Set("x-fc-retry-count", strconv.Itoa(inv.RetryCount))
	h.Set("x-fc-function-type", "0") // a handler invocation, not a lifecycle hook
}

// timeoutSeconds rounds up: FC timeouts are whole seconds, and a sub-second
// test timeout must not become 0.
func timeoutSeconds(d time.Duration) int {
	return int((d + time.Second - 1) / time.Second)
}

type errorBody struct {
	ErrorMessage string          `json:"errorMessage"`
	ErrorType    string          `json:"errorType"`
	StackTrace   json.RawMessage `json:"stackTrace"`
}

func (s *Server) handleCompletion(status string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPostBody))
		if err != nil {
			http.Error(w, "reading body: "+err.Error(), http.StatusBadRequest)
			return
		}
		completedAt := time.Now()

		s.mu.Lock()
		p := s.pending[id]
		if p == nil || !p.dispatched {
			s.stats.UnknownPosts++
			s.mu.Unlock()
			http.Error(w, "no invocation "+id+" in flight", http.StatusNotFound)
			return
		}
		if status == StatusResponse {
			s.stats.Responses++
		} else {
			s.stats.Errors++
		}
		res := Result{
			RequestID:    id,
			Status:       status,
			Body:         body,
			Deadline:     p.deadline,
			QueuedAt:     p.queuedAt,
			DispatchedAt: p.dispatchedAt,
			CompletedAt:  completedAt,
			Duration:     completedAt.Sub(p.dispatchedAt),
		}
		s.finish(p)
		s.mu.Unlock()

		if status == StatusError {
			var eb errorBody
			// A body that is not the SDK's error object stays available in Body.
			if json.Unmarshal(body, &eb) == nil {
				res.ErrorMessage, res.ErrorType, res.StackTrace = eb.ErrorMessage, eb.ErrorType, eb.StackTrace
			}
		}
		p.result <- res
		w.WriteHeader(http.StatusOK)
	}
}
