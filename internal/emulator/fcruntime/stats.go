package fcruntime

import (
	"maps"
	"net/http"
)

// Stats counts what the child did. Tests use NextStatus to prove `next` was
// never answered with anything but 200.
type Stats struct {
	NextCalls     int         // GET next requests received
	NextStatus    map[int]int // status code → how many `next` requests got it
	NextAbandoned int         // `next` requests that ended because the child went away
	NextParked    int         // `next` requests waiting right now
	Dispatched    int         // invocations handed to the child
	Responses     int         // completions on /response
	Errors        int         // completions on /error
	UnknownPosts  int         // /response or /error for no in-flight id (answered 404)
	InFlight      int         // dispatched, not yet completed or given up
	MaxInFlight   int         // high-water mark of InFlight
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.NextStatus = maps.Clone(s.stats.NextStatus)
	return st
}

// recordNextStatus counts every status written on the `next` path, including
// ones the mux writes itself (a wrong method), so no non-200 goes unseen.
func (s *Server) recordNextStatus(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != nextPath {
			h.ServeHTTP(w, r)
			return
		}
		rec := &statusRecorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		if rec.status != 0 {
			s.mu.Lock()
			s.stats.NextStatus[rec.status]++
			s.mu.Unlock()
		}
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}
