package ecs

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxBody bounds a form body; ECS rejects far smaller requests already.
const maxBody = 1 << 20

type actionFunc func(s *Server, p map[string]string, now time.Time) (any, *apiError)

// actions are the served ECS actions. Each runs under s.mu.
var actions = map[string]actionFunc{
	"DescribeNetworkInterfaces":         (*Server).describeNetworkInterfaces,
	"DescribeNetworkInterfaceAttribute": (*Server).describeNetworkInterfaceAttribute,
	"DetachNetworkInterface":            (*Server).detachNetworkInterface,
}

// ServeHTTP answers one RPC request: protocol checks, authentication,
// quota, injected faults, then the action.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	call := Call{Time: s.now(), RequestID: newRequestID()}
	params, aerr := readParams(r)
	call.Params = params
	call.Action = params["Action"]
	call.AccessKeyID = params["AccessKeyId"]
	call.SecurityToken = params["SecurityToken"]
	if aerr == nil {
		aerr = checkProtocol(r, params)
	}
	if aerr == nil {
		aerr = s.authenticate(r.Method, params)
	}
	if aerr == nil {
		if aerr = s.checkQuota(call.AccessKeyID, params["RegionId"], call.Action); aerr != nil {
			call.Fault = FaultQuota
		}
	}
	var f fault
	if aerr == nil {
		f = s.takeFault(call.Action)
		call.Fault = f.kind
		switch f.kind {
		case FaultError, FaultThrottle:
			aerr = &apiError{Status: f.status, Code: f.code, Message: f.message}
		case FaultReset:
			s.record(call)
			resetConn(w)
			return
		case FaultHang:
			s.record(call)
			select {
			case <-r.Context().Done():
			case <-s.closed:
			}
			// Returning normally would make net/http send an empty 200.
			resetConn(w)
			return
		}
	}
	var body any
	if aerr == nil {
		body, aerr = s.run(call.Action, params)
	}
	status := http.StatusOK
	if aerr != nil {
		status = aerr.Status
		call.Code = aerr.Code
		body = newErrorBody(aerr, call.RequestID, hostOf(r))
	} else {
		setRequestID(body, call.RequestID)
	}
	call.HTTPStatus = status
	// Recorded before answering so a client that got its answer always
	// finds its call in the log.
	s.record(call)
	if f.kind == FaultLatency {
		// The action already took effect: this models an answer that is
		// slow to arrive, the case where a client gives up on a detach
		// that happened.
		t := time.NewTimer(f.delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			resetConn(w)
			return
		case <-s.closed:
			resetConn(w)
			return
		}
	}
	writeJSON(w, status, call.RequestID, body)
}

func (s *Server) run(action string, params map[string]string) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return actions[action](s, params, s.now())
}

// readParams merges the query string and a form body (the body wins, as in
// the SDK's signing). Only the first value of a repeated key counts.
func readParams(r *http.Request) (map[string]string, *apiError) {
	params := map[string]string{}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return params, newErr(http.StatusBadRequest, "InvalidParameter", "The query string is malformed: %v", err)
	}
	for k, v := range q {
		params[k] = v[0]
	}
	if r.Body == nil {
		return params, nil
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return params, newErr(http.StatusBadRequest, "InvalidParameter", "The request body could not be read: %v", err)
	}
	if len(raw) > maxBody {
		return params, newErr(http.StatusBadRequest, "InvalidParameter", "The request body is larger than %d bytes.", maxBody)
	}
	if len(strings.TrimSpace(string(raw))) == 0 {
		return params, nil
	}
	form, err := url.ParseQuery(string(raw))
	if err != nil {
		return params, newErr(http.StatusBadRequest, "InvalidParameter", "The form body is malformed: %v", err)
	}
	for k, v := range form {
		params[k] = v[0]
	}
	return params, nil
}

// checkProtocol validates everything that does not need the credential
// registry, in roughly the order the gateway does: find the API first,
// then the signature parameters.
func checkProtocol(r *http.Request, p map[string]string) *apiError {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		return newErr(http.StatusMethodNotAllowed, "UnsupportedHTTPMethod",
			"The HTTP method %s is not supported; use POST or GET.", r.Method)
	}
	if r.URL.Path != "/" && r.URL.Path != "" {
		return newErr(http.StatusNotFound, "InvalidAction.NotFound",
			"Specified api is not found, please check your url and method.")
	}
	for _, name := range []string{"Action", "Version"} {
		if p[name] == "" {
			return errMissing(name)
		}
	}
	if p["Version"] != APIVersion {
		return newErr(http.StatusBadRequest, "InvalidVersion", "Specified parameter Version is not valid.")
	}
	if _, ok := actions[p["Action"]]; !ok {
		return newErr(http.StatusNotFound, "InvalidAction.NotFound",
			"Specified api is not found, please check your url and method.")
	}
	for _, name := range []string{"AccessKeyId", "Signature", "SignatureMethod", "SignatureVersion", "SignatureNonce", "Timestamp", "Format"} {
		if p[name] == "" {
			return errMissing(name)
		}
	}
	if !strings.EqualFold(p["Format"], "JSON") {
		return errInvalidParam("Format", "the emulator answers JSON only")
	}
	if p["SignatureMethod"] != "HMAC-SHA1" {
		return errInvalidParam("SignatureMethod", "only HMAC-SHA1 is supported")
	}
	if p["SignatureVersion"] != "1.0" {
		return errInvalidParam("SignatureVersion", "only 1.0 is supported")
	}
	if p["SignatureType"] != "" {
		return errInvalidParam("SignatureType", "bearer tokens are not supported")
	}
	return nil
}

func hostOf(r *http.Request) string {
	if r.Host != "" {
		return r.Host
	}
	return "ecs.aliyuncs.com"
}

func writeJSON(w http.ResponseWriter, status int, requestID string, body any) {
	data, err := json.Marshal(body)
	if err != nil {
		status = http.StatusInternalServerError
		data, _ = json.Marshal(newErrorBody(newErr(status, "InternalError", "%v", err), requestID, ""))
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.Header().Set("x-acs-request-id", requestID)
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

// resetConn drops the connection without an answer; the client sees a
// transport error (EOF / connection reset).
func resetConn(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		// HTTP/2 or a test recorder: the closest thing is aborting the
		// handler, which makes the server drop the stream.
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		// Linger 0 sends RST instead of FIN: a real "connection reset".
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}
