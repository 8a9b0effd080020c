package handler

import (
	"context"
	"encoding/json"

	"github.com/aliyun/fc-runtime-go-sdk/events"

	"github.com/eni-detach/eni-detach/eventschema"
)

// Response header carrying the FC request id, for support tickets.
const headerRequestID = "x-fc-request-id"

// codeMethodNotAllowed is the top-level error code of a 405.
const codeMethodNotAllowed = "MethodNotAllowed"

// serveHTTP answers an HTTP trigger event. It never returns an error: FC
// would turn one into a 5xx with an opaque body, and HTTP callers need the
// JSON answer. The checks run cheapest first and none of the refusals
// (405, 500, 400) makes an ECS call.
func (h *Handler) serveHTTP(ctx context.Context, inv invocation, ev *eventschema.HTTPTriggerEvent) events.HTTPTriggerResponse {
	lg := loggerFrom(ctx)
	line := ev.RequestContext.HTTP
	lg.Info().Str("method", line.Method).Str("path", firstNonEmpty(line.Path, ev.RawPath)).Str("source_ip", line.SourceIP).
		Str("http_request_id", ev.RequestContext.RequestID).Msg("http request")
	if method := ev.Method(); method != "POST" {
		lg.Warn().Str("method", method).Msg("http: method not allowed, no ECS call made")
		resp := httpJSON(inv, 405, eventschema.Response{Error: &eventschema.TopError{
			Code: codeMethodNotAllowed, Message: "only POST detaches; got " + quoteMethod(method)}})
		resp.Headers["allow"] = "POST"
		return resp
	}
	if h.d.ConfigErr != nil {
		lg.Error().Err(h.d.ConfigErr).Msg("invalid configuration: no ECS call made")
		return httpJSON(inv, 500, eventschema.Response{Error: &eventschema.TopError{
			Code: eventschema.CodeInvalidConfiguration, Message: h.d.ConfigErr.Error()}})
	}
	req, err := eventschema.ParseHTTPBody(ev)
	if err != nil {
		lg.Warn().Err(err).Msg("http: invalid request, no ECS call made")
		return httpJSON(inv, 400, invalidResponse(err))
	}
	item := eventschema.Item{Trigger: httpTrigger(inv, ev), Request: req}
	resp := h.process(ctx, inv, []eventschema.Item{item})
	return httpJSON(inv, httpStatus(resp), resp)
}

// httpTrigger identifies an HTTP request in results and follow-up events:
// the trigger's own request id (what the caller can see), else FC's.
func httpTrigger(inv invocation, ev *eventschema.HTTPTriggerEvent) eventschema.Trigger {
	return eventschema.Trigger{Kind: eventschema.TriggerHTTP, EventID: firstNonEmpty(ev.RequestContext.RequestID, inv.requestID)}
}

// httpStatus is the highest status of the results (README, "Outcomes"), 200 when
// nothing was acted on. A publish failure does not change it.
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
	headers := map[string]string{"content-type": "application/json"}
	if inv.requestID != "" {
		headers[headerRequestID] = inv.requestID
	}
	return events.HTTPTriggerResponse{StatusCode: status, Headers: headers, Body: string(b)}
}

func quoteMethod(m string) string {
	if m == "" {
		return "no method"
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
