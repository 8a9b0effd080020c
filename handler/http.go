package handler

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"strconv"
	"strings"

	"github.com/aliyun/fc-runtime-go-sdk/events"

	"github.com/eni-detach/eni-detach/eventschema"
)

// MaxHTTPBodyBytes caps a decoded HTTP body. A request object is a few
// hundred bytes; 64 KiB leaves room for whitespace and unknown fields.
const MaxHTTPBodyBytes = 64 << 10

// Response header carrying the FC request id, for support tickets.
const headerRequestID = "x-fc-request-id"

// serveHTTP answers an HTTP trigger event. It never returns an error: FC
// would turn one into a 5xx with an opaque body, and HTTP callers need the
// JSON answer.
func (h *Handler) serveHTTP(ctx context.Context, inv invocation, ev *eventschema.HTTPTriggerEvent) events.HTTPTriggerResponse {
	lg := loggerFrom(ctx)
	method := strings.ToUpper(ev.RequestContext.HTTP.Method)
	if method != "POST" {
		lg.Warn().Str("method", method).Msg("http: method not allowed, no ECS call made")
		resp := httpJSON(inv, 405, eventschema.Response{Error: &eventschema.TopError{
			Code: "MethodNotAllowed", Message: "only POST detaches; got " + method}})
		resp.Headers["allow"] = "POST"
		return resp
	}
	if h.d.ConfigErr != nil {
		lg.Error().Err(h.d.ConfigErr).Msg("invalid configuration: no ECS call made")
		return httpJSON(inv, 500, eventschema.Response{Error: &eventschema.TopError{
			Code: eventschema.CodeInvalidConfiguration, Message: h.d.ConfigErr.Error()}})
	}
	req, verr := parseHTTPRequest(ev)
	if verr != nil {
		lg.Warn().Err(verr).Msg("http: invalid request, no ECS call made")
		return httpJSON(inv, 400, invalidResponse(verr))
	}
	item := eventschema.Item{
		Trigger: eventschema.Trigger{Kind: eventschema.TriggerHTTP, EventID: firstNonEmpty(ev.RequestContext.RequestID, inv.requestID)},
		Request: req,
	}
	resp := h.process(ctx, inv, []eventschema.Item{item})
	return httpJSON(inv, httpStatus(resp), resp)
}

// parseHTTPRequest reads the request object from the body and the query.
func parseHTTPRequest(ev *eventschema.HTTPTriggerEvent) (eventschema.Request, *eventschema.ValidationError) {
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		dec, err := base64.StdEncoding.DecodeString(ev.Body)
		if err != nil {
			return eventschema.Request{}, fieldErr("body", "isBase64Encoded is true but the body is not valid base64")
		}
		body = dec
	}
	if len(body) > MaxHTTPBodyBytes {
		return eventschema.Request{}, fieldErr("body", fmt.Sprintf("the body is %d bytes; the limit is %d", len(body), MaxHTTPBodyBytes))
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return eventschema.Request{}, fieldErr("body", "a request object is required, e.g. {\"NetworkInterfaceId\":\"eni-…\"}")
	}
	if ct := header(ev.Headers, "content-type"); !isJSONContentType(ct) {
		return eventschema.Request{}, fieldErr("content-type", fmt.Sprintf("must be application/json, got %q", ct))
	}
	req, derr := eventschema.DecodeRequest(body)
	v := &eventschema.ValidationError{}
	if derr != nil {
		v.Fields = append(v.Fields, derr.Fields...)
	}
	for _, q := range []struct {
		name string
		dst  **bool
	}{{"wait", &req.Wait}, {"dryRun", &req.DryRun}} {
		raw, ok := query(ev.QueryParameters, q.name)
		if !ok {
			continue
		}
		b, perr := strconv.ParseBool(raw)
		switch {
		case perr != nil:
			v.Fields = append(v.Fields, eventschema.FieldError{Field: q.name, Problem: fmt.Sprintf("query parameter must be true or false, got %q", raw)})
		case *q.dst != nil && **q.dst != b:
			v.Fields = append(v.Fields, eventschema.FieldError{Field: q.name, Problem: "the query parameter and the body disagree"})
		default:
			*q.dst = &b
		}
	}
	if derr == nil {
		if err := req.Validate(); err != nil {
			v.Fields = append(v.Fields, err.(*eventschema.ValidationError).Fields...)
		}
	}
	if len(v.Fields) > 0 {
		return eventschema.Request{}, v
	}
	return req, nil
}

// httpStatus is the highest status of the results (SPEC §4), 200 when
// nothing was acted on.
func httpStatus(resp eventschema.Response) int {
	status := 200
	for _, r := range resp.Results {
		retryable := r.Error != nil && r.Error.Retryable
		if s := r.Outcome.HTTPStatus(retryable); s > status {
			status = s
		}
	}
	return status
}

func httpJSON(inv invocation, status int, body eventschema.Response) events.HTTPTriggerResponse {
	b, err := json.Marshal(body)
	if err != nil {
		status, b = 500, []byte(`{"error":{"code":"InternalError","message":"cannot encode the response"}}`)
	}
	return events.HTTPTriggerResponse{
		StatusCode: status,
		Headers:    map[string]string{"content-type": "application/json", headerRequestID: inv.requestID},
		Body:       string(b),
	}
}

func isJSONContentType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// header finds a header case-insensitively (FC passes them as sent).
func header(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func query(q map[string]string, name string) (string, bool) {
	for k, v := range q {
		if strings.EqualFold(k, name) {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

func fieldErr(field, problem string) *eventschema.ValidationError {
	return &eventschema.ValidationError{Fields: []eventschema.FieldError{{Field: field, Problem: problem}}}
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
