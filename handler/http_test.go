package handler_test

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/events"

	"github.com/eni-detach/eni-detach/eventschema"
	"github.com/eni-detach/eni-detach/handler"
	"github.com/eni-detach/eni-detach/internal/config"
	"github.com/eni-detach/eni-detach/internal/creds"
	ecsemu "github.com/eni-detach/eni-detach/internal/emulator/ecs"
	ebemu "github.com/eni-detach/eni-detach/internal/emulator/eventbridge"
	"github.com/eni-detach/eni-detach/internal/publish"
	"github.com/eni-detach/eni-detach/internal/testenv"
)

// httpReq is one HTTP trigger event, built as FC builds it.
type httpReq struct {
	method      string // "" → POST
	body        string
	contentType string // "" → application/json; "-" → no header
	base64      bool   // send the body base64-encoded
	query       map[string]string
	requestID   string // requestContext.requestId; "-" → none
	headers     map[string]string
	// override replaces envelope members after the rest is built, for
	// envelopes FC would not send.
	override map[string]any
}

const httpRequestID = "1-6745f0a2-http-test"

func (r httpReq) payload(t *testing.T) string {
	t.Helper()
	method := r.method
	if method == "" {
		method = "POST"
	}
	headers := map[string]string{"User-Agent": "curl/8.5.0"}
	switch r.contentType {
	case "":
		headers["Content-Type"] = "application/json"
	case "-":
	default:
		headers["Content-Type"] = r.contentType
	}
	for k, v := range r.headers {
		headers[k] = v
	}
	body := r.body
	if r.base64 {
		body = base64.StdEncoding.EncodeToString([]byte(body))
	}
	rc := map[string]any{
		"accountId": "1234567890123456", "domainName": "eni-detach-http.cn-hangzhou.fcapp.run",
		"http":      map[string]any{"method": method, "path": "/", "protocol": "HTTP/1.1", "sourceIp": "203.0.113.10"},
		"requestId": r.requestID, "time": "2026-11-25T08:15:30Z", "timeEpoch": "1795594530123",
	}
	switch r.requestID {
	case "":
		rc["requestId"] = httpRequestID
	case "-":
		delete(rc, "requestId")
	}
	ev := map[string]any{
		"version": "v1", "rawPath": "/", "body": body, "isBase64Encoded": r.base64,
		"headers": headers, "queryParameters": r.query, "requestContext": rc,
	}
	for k, v := range r.override {
		ev[k] = v
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// httpAnswer is an HTTP response as FC sends it to the caller.
type httpAnswer struct {
	status  int
	headers map[string]string
	body    eventschema.Response
	raw     string
}

// invokeHTTP runs one HTTP invocation and checks what every HTTP answer
// must be: no Go error (FC would turn it into an opaque 5xx), exactly the
// four members of an HTTP trigger response, a JSON body that decodes into
// eventschema.Response with no unknown member, the content type and the FC
// request id header.
func (f *fixture) invokeHTTP(t *testing.T, fcRequestID, payload string, c creds.Credentials) httpAnswer {
	t.Helper()
	ctx, cancel := fcContext(fcRequestID, c, 10*time.Second)
	defer cancel()
	out, err := f.h.Invoke(ctx, []byte(payload))
	if err != nil {
		t.Fatalf("an HTTP invocation returned a Go error: %v", err)
	}
	wire, err := json.Marshal(out) // what fc.Start sends to FC
	if err != nil {
		t.Fatal(err)
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(wire, &members); err != nil {
		t.Fatal(err)
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range members {
			if !yield(k) {
				return
			}
		}
	})
	if !reflect.DeepEqual(keys, []string{"body", "headers", "isBase64Encoded", "statusCode"}) {
		t.Fatalf("not an HTTP trigger response: %s", wire)
	}
	var resp events.HTTPTriggerResponse
	if err := json.Unmarshal(wire, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.IsBase64Encoded {
		t.Fatal("isBase64Encoded is true for a JSON body")
	}
	if got := resp.Headers["content-type"]; got != "application/json" {
		t.Fatalf("content-type %q", got)
	}
	if got := resp.Headers["x-fc-request-id"]; got != fcRequestID {
		t.Fatalf("x-fc-request-id %q, want %q", got, fcRequestID)
	}
	dec := json.NewDecoder(strings.NewReader(resp.Body))
	dec.DisallowUnknownFields()
	var body eventschema.Response
	if err := dec.Decode(&body); err != nil {
		t.Fatalf("body is not a Response: %v: %s", err, resp.Body)
	}
	return httpAnswer{status: resp.StatusCode, headers: resp.Headers, body: body, raw: resp.Body}
}

func outcomesOf(resp eventschema.Response) []eventschema.Outcome {
	var out []eventschema.Outcome
	for _, r := range resp.Results {
		out = append(out, r.Outcome)
	}
	return out
}

func mustECS(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func withTagSelector(t *testing.T, spec string) option {
	sel, err := config.ParseTagSelector(spec)
	if err != nil {
		t.Fatal(err)
	}
	return func(d *handler.Deps) {
		p := testenv.FastPolicy()
		p.TagSelector = sel
		d.Engine.Policy = p
	}
}

func eniBody(id string) string { return `{"NetworkInterfaceId":"` + id + `"}` }

// TestHTTPStatuses drives one request per status code through the handler
// and the ECS emulator.
func TestHTTPStatuses(t *testing.T) {
	_, cfgErr := config.Load(func(k string) string {
		if k == config.EnvDetachTimeout {
			return "forever"
		}
		return ""
	})
	if cfgErr == nil {
		t.Fatal("config.Load accepted DETACH_TIMEOUT=forever")
	}
	oversized := `{"NetworkInterfaceId":"eni-a1000","pad":"` + strings.Repeat(" ", eventschema.MaxHTTPBodyBytes) + `"}`

	tests := []struct {
		name string
		opts func(t *testing.T) []option
		// arrange seeds the emulator and returns the request.
		arrange      func(t *testing.T, e *testenv.ECS) httpReq
		unknownCreds bool
		status       int
		outcomes     []eventschema.Outcome
		topCode      string   // top-level error code
		fields       []string // fields the top-level error names
		noECS        bool     // not a single ECS call
		noDetach     bool     // no DetachNetworkInterface call
		check        func(t *testing.T, a httpAnswer)
	}{
		{name: "200 Detached", status: 200, outcomes: []eventschema.Outcome{eventschema.OutcomeDetached},
			arrange: func(t *testing.T, e *testenv.ECS) httpReq {
				return httpReq{body: eniBody(e.Instance(t, "i-a1", 1)[0])}
			},
			check: func(t *testing.T, a httpAnswer) {
				if r := a.body.Results[0]; r.Status != eventschema.StatusAvailable || r.DetachAttempts != 1 || r.DryRun {
					t.Fatalf("result %+v", r)
				}
			}},
		{name: "200 Detached from a base64 body", status: 200, outcomes: []eventschema.Outcome{eventschema.OutcomeDetached},
			arrange: func(t *testing.T, e *testenv.ECS) httpReq {
				id := e.Instance(t, "i-a1", 1)[0]
				return httpReq{body: "{\n  \"networkInterfaceId\": \"" + id + "\",\n  \"instanceId\": \"i-a1\"\n}\n", base64: true,
					contentType: "application/json; charset=utf-8"}
			}},
		{name: "200 AlreadyDetached", status: 200, outcomes: []eventschema.Outcome{eventschema.OutcomeAlreadyDetached}, noDetach: true,
			arrange: func(t *testing.T, e *testenv.ECS) httpReq {
				mustECS(t, e.Srv.AddENI(ecsemu.ENI{ID: "eni-free1"}))
				return httpReq{body: eniBody("eni-free1")}
			}},
		{name: "200 DryRun from the query", status: 200, outcomes: []eventschema.Outcome{eventschema.OutcomeDryRun}, noDetach: true,
			arrange: func(t *testing.T, e *testenv.ECS) httpReq {
				return httpReq{body: eniBody(e.Instance(t, "i-a1", 1)[0]), query: map[string]string{"dryRun": "true"}}
			},
			check: func(t *testing.T, a httpAnswer) {
				if r := a.body.Results[0]; !r.DryRun || r.Status != eventschema.StatusInUse {
					t.Fatalf("result %+v", r)
				}
			}},
		{name: "200 ignored: no eligible ENI", status: 200, noDetach: true,
			arrange: func(t *testing.T, e *testenv.ECS) httpReq {
				e.Instance(t, "i-lonely", 0) // a primary ENI only
				return httpReq{body: `{"InstanceId":"i-lonely"}`}
			},
			check: func(t *testing.T, a httpAnswer) {
				if len(a.body.Results) != 0 || a.body.Ignored == "" {
					t.Fatalf("want no results and an ignored reason: %s", a.raw)
				}
			}},
		{name: "200 everything skipped", status: 200, noDetach: true,
			opts: func(t *testing.T) []option { return []option{withTagSelector(t, "eni-detach=enabled")} },
			arrange: func(t *testing.T, e *testenv.ECS) httpReq {
				e.Instance(t, "i-a1", 2) // tagged team=sre, not eni-detach
				return httpReq{body: `{"InstanceId":"i-a1"}`}
			},
			check: func(t *testing.T, a httpAnswer) {
				if len(a.body.Results) != 0 || len(a.body.Skipped) != 2 || a.body.Ignored == "" {
					t.Fatalf("want both secondaries skipped: %s", a.raw)
				}
			}},
		{name: "202 Pending with wait=false", status: 202, outcomes: []eventschema.Outcome{eventschema.OutcomePending},
			arrange: func(t *testing.T, e *testenv.ECS) httpReq {
				return httpReq{body: eniBody(e.Instance(t, "i-a1", 1)[0]), query: map[string]string{"Wait": "false"}}
			},
			check: func(t *testing.T, a httpAnswer) {
				if r := a.body.Results[0]; r.Status != eventschema.StatusDetaching || r.DetachAttempts != 1 {
					t.Fatalf("result %+v", r)
				}
			}},

		{name: "400 invalid JSON", status: 400, topCode: "InvalidRequest", fields: []string{"body"}, noECS: true,
			arrange: func(t *testing.T, e *testenv.ECS) httpReq {
				return httpReq{body: `{"NetworkInterfaceId":"` + e.Instance(t, "i-a1", 1)[0] + `",`}
			}},
		{name: "400 non-JSON content type", status: 400, topCode: "InvalidRequest", fields: []string{"content-type"}, noECS: true,
			arrange: func(t *testing.T, e *testenv.ECS) httpReq {
				return httpReq{body: eniBody(e.Instance(t, "i-a1", 1)[0]), contentType: "text/plain"}
			}},
		{name: "400 no content type", status: 400, topCode: "InvalidRequest", fields: []string{"content-type"}, noECS: true,
			arrange: func(t *testing.T, e *testenv.ECS) httpReq {
				return httpReq{body: eniBody(e.Instance(t, "i-a1", 1)[0]), contentType: "-"}
			}},
		{name: "400 oversized body", status: 400, topCode: "InvalidRequest", fields: []string{"body"}, noECS: true,
			arrange: func(t *testing.T, e *testenv.ECS) httpReq {
				e.Instance(t, "i-a1", 1)
				return httpReq{body: oversized}
			},
			check: func(t *testing.T, a httpAnswer) {
				if !strings.Contains(a.body.Error.Message, "64 KiB") {
					t.Fatalf("message does not give the limit: %s", a.body.Error.Message)
				}
			}},
		{name: "400 oversized base64 body", status: 400, topCode: "InvalidRequest", fields: []string{"body"}, noECS: true,
			arrange: func(t *testing.T, e *testenv.ECS) httpReq {
				e.Instance(t, "i-a1", 1)
				return httpReq{body: oversized, base64: true}
			}},
		{name: "400 envelope over 1 MiB", status: 400, topCode: "InvalidRequest", fields: []string{"headers"}, noECS: true,
			arrange: func(t *testing.T, e *testenv.ECS) httpReq {
				return httpReq{body: eniBody(e.Instance(t, "i-a1", 1)[0]),
					headers: map[string]string{"X-Pad": strings.Repeat("p", eventschema.MaxPayloadBytes)}}
			}},
		{name: "400 malformed ids", status: 400, topCode: "InvalidRequest", fields: []string{"NetworkInterfaceId", "InstanceId"}, noECS: true,
			arrange: func(t *testing.T, e *testenv.ECS) httpReq {
				e.Instance(t, "i-a1", 1)
				return httpReq{body: `{"NetworkInterfaceId":"ENI-A1000","InstanceId":"vm-a1"}`}
			}},
		{name: "400 bad base64", status: 400, topCode: "InvalidRequest", fields: []string{"body"}, noECS: true,
			arrange: func(t *testing.T, e *testenv.ECS) httpReq {
				e.Instance(t, "i-a1", 1)
				return httpReq{body: "eyJOZXR3b3JrSW50ZXJmYWNlSWQiOi*", override: map[string]any{"isBase64Encoded": true}}
			}},
		{name: "400 batch body", status: 400, topCode: "InvalidRequest", fields: []string{"body"}, noECS: true,
			arrange: func(t *testing.T, e *testenv.ECS) httpReq {
				return httpReq{body: "[" + eniBody(e.Instance(t, "i-a1", 1)[0]) + "]"}
			}},
		{name: "400 query contradicts body", status: 400, topCode: "InvalidRequest", fields: []string{"query.wait"}, noECS: true,
			arrange: func(t *testing.T, e *testenv.ECS) httpReq {
				id := e.Instance(t, "i-a1", 1)[0]
				return httpReq{body: `{"NetworkInterfaceId":"` + id + `","Wait":true}`, query: map[string]string{"wait": "false"}}
			}},
		{name: "400 bad query value", status: 400, topCode: "InvalidRequest", fields: []string{"query.dryRun"}, noECS: true,
			arrange: func(t *testing.T, e *testenv.ECS) httpReq {
				return httpReq{body: eniBody(e.Instance(t, "i-a1", 1)[0]), query: map[string]string{"DRYRUN": "yes"}}
			}},
		{name: "400 malformed envelope", status: 400, topCode: "InvalidRequest", fields: []string{"isBase64Encoded"}, noECS: true,
			arrange: func(t *testing.T, e *testenv.ECS) httpReq {
				return httpReq{body: eniBody(e.Instance(t, "i-a1", 1)[0]), override: map[string]any{"isBase64Encoded": "yes"}}
			}},

		{name: "403 Refused by ENI_TAG_SELECTOR", status: 403, outcomes: []eventschema.Outcome{eventschema.OutcomeRefused}, noDetach: true,
			opts: func(t *testing.T) []option { return []option{withTagSelector(t, "eni-detach=enabled")} },
			arrange: func(t *testing.T, e *testenv.ECS) httpReq {
				return httpReq{body: eniBody(e.Instance(t, "i-a1", 1)[0])}
			},
			check: func(t *testing.T, a httpAnswer) {
				if e := a.body.Results[0].Error; e == nil || e.Code != "Guard.TagSelector" || e.Retryable {
					t.Fatalf("error %+v", e)
				}
			}},
		{name: "403 PermissionDenied for unknown credentials", status: 403, outcomes: []eventschema.Outcome{eventschema.OutcomePermissionDenied},
			unknownCreds: true, noDetach: true,
			arrange: func(t *testing.T, e *testenv.ECS) httpReq {
				return httpReq{body: eniBody(e.Instance(t, "i-a1", 1)[0])}
			}},
		{name: "404 NotFound", status: 404, outcomes: []eventschema.Outcome{eventschema.OutcomeNotFound}, noDetach: true,
			arrange: func(t *testing.T, e *testenv.ECS) httpReq { return httpReq{body: eniBody("eni-nosuchthing1")} }},
		{name: "405 GET", status: 405, topCode: "MethodNotAllowed", noECS: true,
			arrange: func(t *testing.T, e *testenv.ECS) httpReq {
				return httpReq{method: "GET", body: "", contentType: "-", query: map[string]string{"NetworkInterfaceId": e.Instance(t, "i-a1", 1)[0]}}
			},
			check: func(t *testing.T, a httpAnswer) {
				if a.headers["allow"] != "POST" {
					t.Fatalf("allow header %q", a.headers["allow"])
				}
			}},
		{name: "405 PUT with a valid body", status: 405, topCode: "MethodNotAllowed", noECS: true,
			arrange: func(t *testing.T, e *testenv.ECS) httpReq {
				return httpReq{method: "PUT", body: eniBody(e.Instance(t, "i-a1", 1)[0])}
			}},
		{name: "409 Conflict: primary ENI", status: 409, outcomes: []eventschema.Outcome{eventschema.OutcomeConflict}, noDetach: true,
			arrange: func(t *testing.T, e *testenv.ECS) httpReq {
				e.Instance(t, "i-a1", 1)
				return httpReq{body: eniBody("eni-pa1")}
			}},
		{name: "409 NeedsInstanceStop: hot plug unsupported", status: 409, outcomes: []eventschema.Outcome{eventschema.OutcomeNeedsInstanceStop},
			arrange: func(t *testing.T, e *testenv.ECS) httpReq {
				id := e.Instance(t, "i-a1", 1)[0]
				e.Srv.InjectError("DetachNetworkInterface", "InvalidOperation.EniHotPlugNotSupported", 400, -1)
				return httpReq{body: eniBody(id)}
			}},
		{name: "409 NeedsInstanceStop: high-performance ENI", status: 409, outcomes: []eventschema.Outcome{eventschema.OutcomeNeedsInstanceStop},
			arrange: func(t *testing.T, e *testenv.ECS) httpReq {
				id := e.Instance(t, "i-a1", 1)[0]
				mustECS(t, e.Srv.UpdateENI(id, func(n *ecsemu.ENI) { n.TrafficMode = ecsemu.TrafficHighPerformance }))
				return httpReq{body: eniBody(id)}
			}},
		{name: "409 highest of several results", status: 409,
			outcomes: []eventschema.Outcome{eventschema.OutcomeDetached, eventschema.OutcomeNeedsInstanceStop},
			arrange: func(t *testing.T, e *testenv.ECS) httpReq {
				ids := e.Instance(t, "i-a1", 2)
				mustECS(t, e.Srv.UpdateENI(ids[1], func(n *ecsemu.ENI) { n.TrafficMode = ecsemu.TrafficHighPerformance }))
				return httpReq{body: `{"InstanceId":"i-a1"}`}
			}},
		{name: "500 InvalidConfiguration", status: 500, topCode: "InvalidConfiguration", noECS: true,
			opts: func(t *testing.T) []option { return []option{func(d *handler.Deps) { d.ConfigErr = cfgErr }} },
			arrange: func(t *testing.T, e *testenv.ECS) httpReq {
				return httpReq{body: eniBody(e.Instance(t, "i-a1", 1)[0])}
			},
			check: func(t *testing.T, a httpAnswer) {
				if !strings.Contains(a.body.Error.Message, "DETACH_TIMEOUT") {
					t.Fatalf("message does not name the variable: %s", a.body.Error.Message)
				}
			}},
		{name: "502 unclassified error", status: 502, outcomes: []eventschema.Outcome{eventschema.OutcomeFailed},
			arrange: func(t *testing.T, e *testenv.ECS) httpReq {
				id := e.Instance(t, "i-a1", 1)[0]
				e.Srv.InjectError("DetachNetworkInterface", "Unheard.OfBefore", 400, -1)
				return httpReq{body: eniBody(id)}
			},
			check: func(t *testing.T, a httpAnswer) {
				if e := a.body.Results[0].Error; e == nil || e.Code != "Unheard.OfBefore" || e.Retryable {
					t.Fatalf("error %+v", e)
				}
			}},
		{name: "503 retryable failures exhausted", status: 503, outcomes: []eventschema.Outcome{eventschema.OutcomeFailed},
			arrange: func(t *testing.T, e *testenv.ECS) httpReq {
				id := e.Instance(t, "i-a1", 1)[0]
				e.Srv.InjectError("DetachNetworkInterface", "ServiceUnavailable", 503, -1)
				return httpReq{body: eniBody(id)}
			},
			check: func(t *testing.T, a httpAnswer) {
				if e := a.body.Results[0].Error; e == nil || e.Code != "ServiceUnavailable" || !e.Retryable {
					t.Fatalf("error %+v", e)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var opts []option
			if tc.opts != nil {
				opts = tc.opts(t)
			}
			f := newFixture(t, opts...)
			payload := tc.arrange(t, f.ecs).payload(t)
			c := f.ecs.Creds
			if tc.unknownCreds {
				c = creds.Credentials{AccessKeyID: "STS.unknown", AccessKeySecret: "nope", SecurityToken: "nope"}
			}
			a := f.invokeHTTP(t, "fc-req-1", payload, c)
			if a.status != tc.status {
				t.Fatalf("status %d, want %d: %s", a.status, tc.status, a.raw)
			}
			if got := outcomesOf(a.body); !slices.Equal(got, tc.outcomes) {
				t.Fatalf("outcomes %v, want %v: %s", got, tc.outcomes, a.raw)
			}
			for _, r := range a.body.Results {
				if r.Trigger != (eventschema.Trigger{Kind: eventschema.TriggerHTTP, EventID: httpRequestID}) || r.FCRequestID != "fc-req-1" {
					t.Fatalf("trigger %+v fc request id %q", r.Trigger, r.FCRequestID)
				}
			}
			_, allowed := a.headers["allow"]
			if allowed != (tc.status == 405) {
				t.Fatalf("allow header on a %d: %v", a.status, a.headers)
			}
			switch {
			case tc.topCode == "" && a.body.Error != nil:
				t.Fatalf("unexpected top-level error %+v", a.body.Error)
			case tc.topCode != "":
				if a.body.Error == nil || a.body.Error.Code != tc.topCode || a.body.Error.Message == "" || len(a.body.Results) != 0 {
					t.Fatalf("want top-level %s: %s", tc.topCode, a.raw)
				}
				var named []string
				for _, fe := range a.body.Error.Fields {
					named = append(named, fe.Field)
					if fe.Problem == "" {
						t.Fatalf("field %s without a problem", fe.Field)
					}
				}
				if !slices.Equal(named, tc.fields) {
					t.Fatalf("fields %v, want %v: %s", named, tc.fields, a.raw)
				}
			}
			if n := len(f.ecs.Srv.Calls()); tc.noECS && n != 0 {
				t.Fatalf("%d ECS calls", n)
			}
			if n := len(f.ecs.Srv.CallsFor("DetachNetworkInterface")); tc.noDetach && n != 0 {
				t.Fatalf("%d detach calls", n)
			}
			if !tc.noECS && len(f.ecs.Srv.Calls()) == 0 {
				t.Fatal("no ECS call at all")
			}
			if tc.check != nil {
				tc.check(t, a)
			}
		})
	}
}

const (
	fixtureENI       = "eni-bp1fixture0000000001"
	fixtureRequestID = "1-6745f0a2-15d2c8e1-7a3b9c4d5e6f"
)

func httpFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "http", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestHTTPFixtures runs every envelope in testdata/http (see its README)
// against an instance with the fixtures' ids: a primary and one secondary.
func TestHTTPFixtures(t *testing.T) {
	detached := []eventschema.Outcome{eventschema.OutcomeDetached}
	tests := []struct {
		file     string
		status   int
		outcomes []eventschema.Outcome
		fields   []string
	}{
		{"post-detach.json", 200, detached, nil},
		{"post-detach-base64.json", 200, detached, nil},
		{"post-instance.json", 200, detached, nil},
		{"post-wait-false.json", 202, []eventschema.Outcome{eventschema.OutcomePending}, nil},
		{"post-dryrun-query.json", 200, []eventschema.Outcome{eventschema.OutcomeDryRun}, nil},
		{"get.json", 405, nil, nil},
		{"post-form.json", 400, nil, []string{"content-type"}},
		{"post-no-content-type.json", 400, nil, []string{"content-type"}},
		{"post-invalid-json.json", 400, nil, []string{"body"}},
		{"post-bad-base64.json", 400, nil, []string{"body"}},
		{"post-malformed-ids.json", 400, nil, []string{"NetworkInterfaceId", "InstanceId"}},
		{"post-batch.json", 400, nil, []string{"body"}},
		{"post-query-conflict.json", 400, nil, []string{"query.wait"}},
		{"post-bad-query.json", 400, nil, []string{"query.wait", "query.dryRun"}},
		{"post-not-found.json", 404, []eventschema.Outcome{eventschema.OutcomeNotFound}, nil},
		{"post-primary.json", 409, []eventschema.Outcome{eventschema.OutcomeConflict}, nil},
		{"post-instance-unknown.json", 200, nil, nil},
	}
	files, err := filepath.Glob(filepath.Join("testdata", "http", "*.json"))
	if err != nil || len(files) != len(tests) {
		t.Fatalf("%d fixture files, %d cases: every file needs a case (%v)", len(files), len(tests), err)
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			mustECS(t, f.ecs.Srv.AddInstance(ecsemu.Instance{ID: fixtureInstance}))
			mustECS(t, f.ecs.Srv.AddENI(ecsemu.ENI{ID: "eni-bp1fixture0000000000", Type: ecsemu.ENIPrimary, InstanceID: fixtureInstance}))
			mustECS(t, f.ecs.Srv.AddENI(ecsemu.ENI{ID: fixtureENI, InstanceID: fixtureInstance}))
			a := f.invokeHTTP(t, "fc-req-fixture", httpFixture(t, tc.file), f.ecs.Creds)
			if a.status != tc.status || !slices.Equal(outcomesOf(a.body), tc.outcomes) {
				t.Fatalf("status %d outcomes %v, want %d %v: %s", a.status, outcomesOf(a.body), tc.status, tc.outcomes, a.raw)
			}
			wantENI := fixtureENI
			switch tc.file {
			case "post-not-found.json":
				wantENI = "eni-bp1doesnotexist01"
			case "post-primary.json":
				wantENI = "eni-bp1fixture0000000000"
			}
			for _, r := range a.body.Results {
				if r.NetworkInterfaceID != wantENI || r.Trigger.Kind != eventschema.TriggerHTTP || r.Trigger.EventID != fixtureRequestID {
					t.Fatalf("result %+v", r)
				}
			}
			var named []string
			if a.body.Error != nil {
				for _, fe := range a.body.Error.Fields {
					named = append(named, fe.Field)
				}
			}
			if !slices.Equal(named, tc.fields) {
				t.Fatalf("fields %v, want %v: %s", named, tc.fields, a.raw)
			}
			// Refusals of the request itself (400, 405) make no ECS call;
			// everything else looked at ECS first.
			if calls := len(f.ecs.Srv.Calls()); (tc.status == 400 || tc.status == 405) != (calls == 0) {
				t.Fatalf("%d ECS calls for a %d", calls, tc.status)
			}
			// The signature headers FC passes through are never logged.
			if logs := f.logs.String(); strings.Contains(logs, "CAIS-fixture-token") || strings.Contains(logs, "Signature=") {
				t.Fatalf("logs carry the caller's signature headers: %s", logs)
			}
		})
	}
}

// TestHTTPFollowUpEvents checks that HTTP requests publish exactly as
// events do, with the HTTP request id as the trigger.
func TestHTTPFollowUpEvents(t *testing.T) {
	const bus = "eni-detach"
	start := func(t *testing.T, busName string) (*fixture, *ebemu.Server) {
		eb := ebemu.New()
		if err := eb.Start(""); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = eb.Close() })
		eb.AddBus(bus)
		f := newFixture(t, func(d *handler.Deps) {
			d.Config.EventBusName = busName
			endpoint, err := config.ParseEndpoint(eb.URL())
			if err != nil {
				t.Fatal(err)
			}
			d.Publisher = publish.New(publish.Config{Endpoint: endpoint, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
		})
		eb.AddCredentials(f.ecs.Creds)
		return f, eb
	}
	type followUp struct {
		ID     string             `json:"id"`
		Type   string             `json:"type"`
		Source string             `json:"source"`
		Data   eventschema.Result `json:"data"`
	}
	events := func(t *testing.T, eb *ebemu.Server) []followUp {
		var out []followUp
		for _, r := range eb.EventsForBus(bus) {
			var ev followUp
			if err := json.Unmarshal(r.Event, &ev); err != nil {
				t.Fatal(err)
			}
			out = append(out, ev)
		}
		return out
	}

	for _, tc := range []struct {
		name, requestID, wantEventID string
	}{
		{"trigger id is the HTTP request id", "", httpRequestID},
		{"falls back to the FC request id", "-", "fc-req-7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, eb := start(t, bus)
			id := f.ecs.Instance(t, "i-a1", 1)[0]
			a := f.invokeHTTP(t, "fc-req-7", httpReq{body: eniBody(id), requestID: tc.requestID}.payload(t), f.ecs.Creds)
			if a.status != 200 || a.body.Published != 1 || a.body.PublishError != "" {
				t.Fatalf("status %d: %s", a.status, a.raw)
			}
			evs := events(t, eb)
			if len(evs) != 1 {
				t.Fatalf("%d events on the bus", len(evs))
			}
			ev := evs[0]
			want := eventschema.Trigger{Kind: eventschema.TriggerHTTP, EventID: tc.wantEventID}
			if ev.Type != eventschema.TypeDetached || ev.Data.Trigger != want || ev.Data.FCRequestID != "fc-req-7" ||
				ev.ID != eventschema.EventID(tc.wantEventID, id, eventschema.OutcomeDetached) ||
				ev.Source != eventschema.FunctionARN(testenv.Region, "1234567890123456", "eni-detach") {
				t.Fatalf("event %+v", ev)
			}
			if a.body.Results[0].Trigger != want {
				t.Fatalf("response trigger %+v", a.body.Results[0].Trigger)
			}
		})
	}
	t.Run("a dry run publishes nothing", func(t *testing.T) {
		f, eb := start(t, bus)
		id := f.ecs.Instance(t, "i-a1", 1)[0]
		a := f.invokeHTTP(t, "fc-req-8", httpReq{body: eniBody(id), query: map[string]string{"dryrun": "true"}}.payload(t), f.ecs.Creds)
		if a.status != 200 || a.body.Published != 0 || len(eb.Calls()) != 0 {
			t.Fatalf("status %d, %d PutEvents calls: %s", a.status, len(eb.Calls()), a.raw)
		}
	})
	t.Run("a publish failure keeps the status", func(t *testing.T) {
		f, _ := start(t, "no-such-bus")
		id := f.ecs.Instance(t, "i-a1", 1)[0]
		a := f.invokeHTTP(t, "fc-req-9", httpReq{body: eniBody(id)}.payload(t), f.ecs.Creds)
		if a.status != 200 || a.body.PublishError == "" || a.body.Results[0].Outcome != eventschema.OutcomeDetached {
			t.Fatalf("status %d: %s", a.status, a.raw)
		}
	})
}
