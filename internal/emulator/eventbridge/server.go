package eventbridge

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/eni-detach/eni-detach/internal/backoff"
	"github.com/eni-detach/eni-detach/internal/emulator/loopback"
)

// PutEventsPath is where the SDK posts (pathname "/openapi/putEvents").
const PutEventsPath = "/openapi/putEvents"

// maxBody bounds what one call may send; far above 16 events of the
// product's size, low enough that a runaway client cannot exhaust memory.
const maxBody = 4 << 20

// Received is one accepted event.
type Received struct {
	Bus           string          // its aliyuneventbusname
	Event         json.RawMessage // the CloudEvent object exactly as sent
	AccessKeyID   string          // who signed the call
	SecurityToken string          // the STS token the call carried, if any
	RequestID     string          // RequestId of the call that carried it
	Time          time.Time       // when it was accepted
}

// Call is one request, whatever became of it.
type Call struct {
	Time          time.Time
	AccessKeyID   string // from the authorization header, even if unknown
	SecurityToken string
	Status        int    // HTTP status answered; 0 for a reset connection or a client gone
	Code          string // error code of a failed call; "" on 200
	Events        int    // entries in the body (0 if it was not a JSON array)
	FailedEntries int    // entries that failed in the EntryList
	RequestID     string
}

// Server is the emulator. The zero value is not usable: call New. It is an
// http.Handler, and Start also serves it on a loopback port.
type Server struct {
	// Listener offers URL, Close and Addr (Endpoint).
	loopback.Listener

	mu     sync.Mutex
	creds  map[string]*credEntry
	buses  map[string]bool
	events []Received
	calls  []Call
	faults faults
}

// New returns an emulator with no credentials and no buses.
func New() *Server {
	return &Server{creds: map[string]*credEntry{}, buses: map[string]bool{}}
}

// Start serves on addr ("" means 127.0.0.1:0, a free loopback port).
func (s *Server) Start(addr string) error { return loopback.Serve(&s.Listener, addr, s) }

// Endpoint is the bare host:port, the form the SDK's Config.Endpoint wants;
// URL is http://host:port, the form EVENTBRIDGE_ENDPOINT takes.
func (s *Server) Endpoint() string { return s.Addr() }

// AddBus creates an event bus that events may name.
func (s *Server) AddBus(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buses[name] = true
}

// Events returns every accepted event, oldest first.
func (s *Server) Events() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.events...)
}

// EventsForBus returns the accepted events of one bus, oldest first.
func (s *Server) EventsForBus(name string) []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Received
	for _, e := range s.events {
		if e.Bus == name {
			out = append(out, e)
		}
	}
	return out
}

// Calls returns the log of every request, oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Reset forgets events, calls and armed faults; credentials and buses stay.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events, s.calls, s.faults = nil, nil, faults{}
}

func (s *Server) logCall(c Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
}

// ServeHTTP handles POST /openapi/putEvents.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	call := Call{Time: time.Now(), RequestID: newRequestID(), SecurityToken: r.Header.Get("x-acs-security-token")}
	call.AccessKeyID, _, _ = parseAuthorization(r.Header.Get("Authorization"))
	defer func() { s.logCall(call) }()

	fail := func(e *apiError) {
		call.Status, call.Code = e.Status, e.Code
		writeError(w, call.RequestID, e)
	}
	if r.URL.Path != PutEventsPath {
		fail(newErr(http.StatusNotFound, "ApiNotFound", "The API %q is not served by this emulator.", r.URL.Path))
		return
	}
	if r.Method != http.MethodPost {
		fail(newErr(http.StatusMethodNotAllowed, "MethodNotAllowed", "Only POST is allowed."))
		return
	}

	s.mu.Lock()
	p := s.faults.takePlan()
	s.mu.Unlock()
	if p.reset {
		call.Code = "ConnectionReset"
		loopback.ResetConn(w)
		return
	}
	body, err := readBody(w, r)
	if tooBig := new(http.MaxBytesError); errors.As(err, &tooBig) {
		fail(newErr(http.StatusRequestEntityTooLarge, CodeInvalidArgument, "The request body is larger than %d bytes.", maxBody))
		return
	} else if err != nil {
		call.Code = "ClientGone"
		return
	}
	raw, arrErr := splitArray(body)
	call.Events = len(raw)
	// Delay only after the body is consumed: net/http watches for the
	// client hanging up (and cancels r.Context) only from then on.
	if p.latency > 0 && backoff.Sleep(r.Context(), p.latency) != nil {
		call.Code = "ClientGone"
		return
	}

	switch {
	case p.raw != nil:
		call.Status = p.raw.status
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		w.WriteHeader(p.raw.status)
		_, _ = w.Write([]byte(p.raw.body))
		return
	case p.err != nil:
		fail(p.err)
		return
	}

	id, aerr := s.authenticate(r, body)
	if aerr != nil {
		fail(aerr)
		return
	}
	if e := checkContentType(r.Header.Get("Content-Type")); e != nil {
		fail(e)
		return
	}
	if arrErr != nil {
		fail(arrErr)
		return
	}
	if n := len(raw); n < 1 || n > MaxEventsPerCall {
		fail(newErr(http.StatusBadRequest, CodeInvalidArgument,
			"A PutEvents call carries 1 to %d events; this one has %d.", MaxEventsPerCall, n))
		return
	}

	resp := s.accept(raw, id, call.RequestID)
	call.Status, call.FailedEntries = http.StatusOK, resp.FailedEntryCount
	writeJSON(w, http.StatusOK, call.RequestID, resp)
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	defer r.Body.Close()
	return io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
}
