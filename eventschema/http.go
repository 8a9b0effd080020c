package eventschema

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"strings"
)

// MaxHTTPBodyBytes caps an HTTP body after base64 decoding. A request
// object is a few hundred bytes; 64 KiB leaves room for whitespace and
// unknown fields without letting a caller make the function chew megabytes.
const MaxHTTPBodyBytes = 64 << 10

// HTTPTriggerEvent is what an FC 3.0 HTTP trigger hands an event function.
type HTTPTriggerEvent struct {
	Version         string             `json:"version"`
	RawPath         string             `json:"rawPath"`
	Body            string             `json:"body"`
	IsBase64Encoded bool               `json:"isBase64Encoded"`
	Headers         map[string]string  `json:"headers,omitempty"`
	QueryParameters map[string]string  `json:"queryParameters,omitempty"`
	RequestContext  HTTPRequestContext `json:"requestContext"`

	// payloadBytes is the size of the payload as FC delivered it: an
	// envelope over MaxPayloadBytes is still answered, but as a 400.
	payloadBytes int
	// malformed is set when the envelope was recognised but a member has
	// the wrong type. The event is still returned so that the caller gets
	// an HTTP-shaped 400 rather than a plain JSON object FC would wrap in
	// a 200.
	malformed *ValidationError
}

// HTTPRequestContext is the requestContext of an HTTP trigger event.
type HTTPRequestContext struct {
	AccountID    string          `json:"accountId,omitempty"`
	DomainName   string          `json:"domainName,omitempty"`
	DomainPrefix string          `json:"domainPrefix,omitempty"`
	HTTP         HTTPRequestLine `json:"http"`
	RequestID    string          `json:"requestId,omitempty"`
	Time         string          `json:"time,omitempty"`
	TimeEpoch    string          `json:"timeEpoch,omitempty"`
}

// HTTPRequestLine is requestContext.http.
type HTTPRequestLine struct {
	Method    string `json:"method"`
	Path      string `json:"path,omitempty"`
	Protocol  string `json:"protocol,omitempty"`
	SourceIP  string `json:"sourceIp,omitempty"`
	UserAgent string `json:"userAgent,omitempty"`
}

// Method is the request method, upper-cased ("" when FC sent none).
func (ev *HTTPTriggerEvent) Method() string {
	return strings.ToUpper(strings.TrimSpace(ev.RequestContext.HTTP.Method))
}

// Header returns a request header by name, case-insensitively: FC passes
// header names as the client sent them.
func (ev *HTTPTriggerEvent) Header(name string) string {
	for k, v := range ev.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// envelope holds the members that tell the object payloads apart, read
// in one pass (README "What it accepts"): a CloudEvent has a string
// specversion; an HTTP trigger event has version "v1", a string rawPath
// and a requestContext object. A member of another type does not count.
type envelope struct {
	SpecVersion    json.RawMessage `json:"specversion"`
	Version        json.RawMessage `json:"version"`
	RawPath        json.RawMessage `json:"rawPath"`
	RequestContext json.RawMessage `json:"requestContext"`
}

// readEnvelope reads raw's envelope; text that is not a JSON object sets
// nothing.
func readEnvelope(raw []byte) envelope {
	var env envelope
	_ = json.Unmarshal(raw, &env)
	return env
}

func (e envelope) cloudEvent() bool { return isJSONString(e.SpecVersion) }

// http is true for an HTTP trigger event. A CloudEvent never is one: it
// is recognised first, whatever other members it carries.
func (e envelope) http() bool {
	var version string
	return !e.cloudEvent() && isJSONString(e.Version) && json.Unmarshal(e.Version, &version) == nil &&
		version == "v1" && isJSONString(e.RawPath) && bytes.HasPrefix(bytes.TrimSpace(e.RequestContext), []byte("{"))
}

func isJSONString(raw json.RawMessage) bool { return len(raw) > 0 && raw[0] == '"' }

// httpEvent decodes an HTTP trigger event whose envelope said it is one.
// Once the envelope is recognised the answer is always an event: problems
// inside it are kept for ParseHTTPBody, so that the caller still gets an
// HTTP 400.
func httpEvent(raw []byte) *HTTPTriggerEvent {
	ev := &HTTPTriggerEvent{payloadBytes: len(raw)}
	// Unmarshal goes on past a member of the wrong type, so the request id
	// and method are usually still there for the answer.
	if err := json.Unmarshal(raw, ev); err != nil {
		ev.malformed = envelopeProblem(err)
	}
	return ev
}

func envelopeProblem(err error) *ValidationError {
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		field := typ.Field
		if field == "" {
			field = "requestContext"
		}
		return invalid(field, "the HTTP trigger event is malformed: unexpected "+typ.Value)
	}
	return invalid("requestContext", "the HTTP trigger event is malformed: "+jsonProblem(err))
}

// ParseHTTPBody reads the request object of an HTTP trigger event: the
// body (base64-decoded when isBase64Encoded, JSON content type, at most
// MaxHTTPBodyBytes, one request object) merged with the `wait` and
// `dryRun` query parameters. It does not look at the method. Every problem
// is reported at once, each naming its field (body, content-type,
// query.wait, NetworkInterfaceId, …) in a *ValidationError; the request
// returned without an error always passes Validate.
func ParseHTTPBody(ev *HTTPTriggerEvent) (Request, error) {
	req, v := parseHTTPBody(ev)
	if v != nil {
		return Request{}, v
	}
	return req, nil
}

func parseHTTPBody(ev *HTTPTriggerEvent) (Request, *ValidationError) {
	if ev.malformed != nil {
		return Request{}, ev.malformed
	}
	if ev.payloadBytes > MaxPayloadBytes {
		return Request{}, invalid(largestPart(ev), fmt.Sprintf("the HTTP request is %d bytes as delivered; the limit is %d (1 MiB)",
			ev.payloadBytes, MaxPayloadBytes))
	}
	body, verr := httpBody(ev)
	if verr != nil {
		return Request{}, verr
	}
	v := &ValidationError{}
	if problem := jsonContentTypeProblem(ev.Header("content-type")); problem != "" {
		// Checked after the body so that an empty or oversized body is
		// named as such, and before decoding it: a form or text body is
		// not read as JSON by accident.
		v.add("content-type", problem)
		return Request{}, v
	}
	if trimmed := bytes.TrimSpace(body); trimmed[0] == '[' {
		v.add("body", "must be one request object, not an array: send one request per HTTP call")
		return Request{}, v
	}
	req, derr := decodeRequest(body)
	if derr.wholePayload() {
		return Request{}, prefixWholeBody(derr)
	}
	if derr != nil {
		v.Fields = append(v.Fields, derr.Fields...)
	}
	mergeQuery(ev.QueryParameters, &req, v)
	if v := req.check(v); v != nil {
		return Request{}, v
	}
	return req, nil
}

// httpBody returns the decoded body, within the size cap and not empty.
func httpBody(ev *HTTPTriggerEvent) ([]byte, *ValidationError) {
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		dec, err := base64.StdEncoding.DecodeString(ev.Body)
		if err != nil {
			return nil, invalid("body", "isBase64Encoded is true but the body is not valid base64")
		}
		body = dec
	}
	if len(body) > MaxHTTPBodyBytes {
		return nil, invalid("body", fmt.Sprintf("the body is %d bytes; the limit is %d (64 KiB)", len(body), MaxHTTPBodyBytes))
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, invalid("body", "a request object is required, e.g. {\"NetworkInterfaceId\":\"eni-…\"}")
	}
	return body, nil
}

// jsonContentTypeProblem explains why ct is not a JSON media type; "" when
// it is one. JSON text is UTF-8 (RFC 8259), so another charset is refused
// rather than misread.
func jsonContentTypeProblem(ct string) string {
	const want = "must be application/json"
	if strings.TrimSpace(ct) == "" {
		return want + "; the request has no content-type header"
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return want + ", got " + quote(ct)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		return "the charset must be utf-8, got " + quote(cs)
	}
	return ""
}

// prefixWholeBody names the body in problems about the body as a whole
// (not JSON, not an object); field problems keep their API spelling.
func prefixWholeBody(v *ValidationError) *ValidationError {
	out := &ValidationError{Fields: make([]FieldError, len(v.Fields))}
	for i, f := range v.Fields {
		if f.Field == "" {
			f.Field = "body"
		}
		out.Fields[i] = f
	}
	return out
}

// queryFlags are the query parameters that mirror body fields.
var queryFlags = []struct {
	query string
	body  string
	field func(*Request) **bool
}{
	{"wait", "Wait", func(r *Request) **bool { return &r.Wait }},
	{"dryRun", "DryRun", func(r *Request) **bool { return &r.DryRun }},
}

// mergeQuery applies ?wait= and ?dryRun= (names case-insensitive, values
// true or false) to req. A value that contradicts the body is an error, not
// a silent override: the caller meant one of them and we cannot tell which.
func mergeQuery(q map[string]string, req *Request, v *ValidationError) {
	for _, f := range queryFlags {
		field := "query." + f.query
		var names []string
		var raw string
		for k, val := range q {
			if strings.EqualFold(k, f.query) {
				names = append(names, k)
				raw = val
			}
		}
		switch {
		case len(names) == 0:
			continue
		case len(names) > 1:
			v.add(field, "given more than once (names are case-insensitive)")
			continue
		}
		var b bool
		switch strings.ToLower(strings.TrimSpace(raw)) {
		case "true":
			b = true
		case "false":
		default:
			v.add(field, "must be true or false, got "+quote(raw))
			continue
		}
		dst := f.field(req)
		if *dst != nil && **dst != b {
			v.add(field, fmt.Sprintf("the query says %t but the body's %s says %t", b, f.body, **dst))
			continue
		}
		*dst = &b
	}
}

// largestPart names the part of an oversized envelope that made it so.
func largestPart(ev *HTTPTriggerEvent) string {
	sizes := map[string]int{"body": len(ev.Body)}
	for k, v := range ev.Headers {
		sizes["headers"] += len(k) + len(v)
	}
	for k, v := range ev.QueryParameters {
		sizes["queryParameters"] += len(k) + len(v)
	}
	best := "body"
	for _, part := range []string{"headers", "queryParameters"} {
		if sizes[part] > sizes[best] {
			best = part
		}
	}
	return best
}
