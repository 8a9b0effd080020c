package eventbridge

import "time"

// faults holds the armed fault injections. Each counter is consumed by the
// requests (or entries) it applies to, so a test states exactly how many
// failures the client must ride out.
type faults struct {
	failEntries int
	failCode    string

	errStatus int
	errCode   string
	errTimes  int

	latency      time.Duration
	latencyTimes int

	rawStatus int
	rawBody   string
	rawTimes  int

	resetTimes int
}

// plan is what happens to one request, decided when it arrives.
type plan struct {
	reset   bool
	latency time.Duration
	raw     *rawAnswer
	err     *apiError
}

type rawAnswer struct {
	status int
	body   string
}

// FailEntries makes the next n otherwise-accepted entries fail in the
// EntryList with code (the call itself answers 200, FailedEntryCount > 0).
// Failed entries are not stored.
func (s *Server) FailEntries(n int, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.failEntries, s.faults.failCode = n, code
}

// InjectError makes the next times calls fail as a whole with the given HTTP
// status and {"code","message","requestId"} body.
func (s *Server) InjectError(status int, code string, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.errStatus, s.faults.errCode, s.faults.errTimes = status, code, times
}

// InjectLatency delays the next times calls by d before they are handled.
// A client that gives up meanwhile leaves nothing stored.
func (s *Server) InjectLatency(d time.Duration, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.latency, s.faults.latencyTimes = d, times
}

// InjectRawBody makes the next times calls answer status with body verbatim
// (e.g. "" or "[]": eventbridge-sdk panics on a body that is not an object).
func (s *Server) InjectRawBody(status int, body string, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.rawStatus, s.faults.rawBody, s.faults.rawTimes = status, body, times
}

// InjectReset makes the next times calls lose their TCP connection (RST)
// without any answer.
func (s *Server) InjectReset(times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.resetTimes = times
}

// takePlan consumes the armed faults for one request. A reset excludes the
// others; latency combines with an error or raw answer; a raw answer wins
// over an error. Caller holds s.mu.
func (f *faults) takePlan() plan {
	var p plan
	if f.resetTimes > 0 {
		f.resetTimes--
		p.reset = true
		return p
	}
	if f.latencyTimes > 0 {
		f.latencyTimes--
		p.latency = f.latency
	}
	switch {
	case f.rawTimes > 0:
		f.rawTimes--
		p.raw = &rawAnswer{status: f.rawStatus, body: f.rawBody}
	case f.errTimes > 0:
		f.errTimes--
		p.err = newErr(f.errStatus, f.errCode, "%s", defaultMessage(f.errCode))
	}
	return p
}

// takeEntryFailure reports whether the next entry must fail, and with which
// code. Caller holds s.mu.
func (f *faults) takeEntryFailure() (string, bool) {
	if f.failEntries <= 0 {
		return "", false
	}
	f.failEntries--
	return f.failCode, true
}
