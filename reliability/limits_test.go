package reliability_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/eni-detach/eni-detach/eventschema"
	"github.com/eni-detach/eni-detach/internal/detach"
)

// padTo pads a JSON object with trailing spaces to exactly n bytes.
func padTo(t *testing.T, obj string, n int) string {
	t.Helper()
	if len(obj) > n {
		t.Fatalf("%d bytes already", len(obj))
	}
	return obj + strings.Repeat(" ", n-len(obj))
}

// padObject pads a JSON object with whitespace inside its braces, so that
// the padding survives trimming.
func padObject(t *testing.T, obj string, n int) string {
	t.Helper()
	if len(obj) > n || !strings.HasSuffix(obj, "}") {
		t.Fatalf("cannot pad %q to %d", obj, n)
	}
	return obj[:len(obj)-1] + strings.Repeat(" ", n-len(obj)) + "}"
}

func batchOf(enis []string) string {
	elems := make([]string, len(enis))
	for i, id := range enis {
		elems[i] = eniRequest(id, cellInstance)
	}
	return "[" + strings.Join(elems, ",") + "]"
}

// limitCase is one size limit, at it or one over it.
type limitCase struct {
	name string
	enis int
	// payload is the whole invocation payload.
	payload func(t *testing.T, enis []string) string
	// over: rejected as a whole with InvalidRequest naming field (the
	// empty field is the payload as a whole) and a problem mentioning
	// problem; otherwise every ENI is detached.
	over    bool
	field   string
	problem string
	http    bool
}

func limitCases() []limitCase {
	one := func(enis []string) string { return eniRequest(enis[0], cellInstance) }
	httpBody := func(size int, b64 bool) func(*testing.T, []string) string {
		return func(t *testing.T, enis []string) string {
			body := padObject(t, one(enis), size)
			if b64 {
				body = base64.StdEncoding.EncodeToString([]byte(body))
			}
			return httpEvent("POST", "http-limit", body, b64)
		}
	}
	const mib, batch, body = eventschema.MaxPayloadBytes, eventschema.DefaultMaxBatch, eventschema.MaxHTTPBodyBytes
	return []limitCase{
		{name: "payload/1MiB", payload: func(t *testing.T, e []string) string { return padObject(t, one(e), mib) }},
		{name: "payload/1MiB-trailing-space", payload: func(t *testing.T, e []string) string { return padTo(t, one(e), mib) }},
		{name: "payload/1MiB+1", payload: func(t *testing.T, e []string) string { return padObject(t, one(e), mib+1) },
			over: true, field: "", problem: "the payload is 1048577 bytes; the limit is 1048576"},
		{name: "batch/100", enis: batch, payload: func(_ *testing.T, e []string) string { return batchOf(e) }},
		{name: "batch/101", enis: batch + 1, payload: func(_ *testing.T, e []string) string { return batchOf(e) },
			over: true, field: "", problem: "the batch has 101 elements; the limit is 100"},
		{name: "batch/1MiB+1-of-few-elements", enis: 2, payload: func(t *testing.T, e []string) string {
			return padTo(t, batchOf(e), mib+1)
		}, over: true, field: "", problem: "the limit is 1048576"},
		{name: "http/body-64KiB", http: true, payload: httpBody(body, false)},
		{name: "http/body-64KiB+1", http: true, payload: httpBody(body+1, false),
			over: true, field: "body", problem: "the body is 65537 bytes; the limit is 65536"},
		{name: "http/base64-body-64KiB-decoded", http: true, payload: httpBody(body, true)},
		{name: "http/base64-body-64KiB+1-decoded", http: true, payload: httpBody(body+1, true),
			over: true, field: "body", problem: "the body is 65537 bytes"},
		{name: "http/envelope-over-1MiB", http: true, payload: func(t *testing.T, e []string) string {
			var ev map[string]any
			mustOK(t, json.Unmarshal([]byte(httpEvent("POST", "http-limit", one(e), false)), &ev))
			ev["headers"] = map[string]string{"Content-Type": "application/json", "x-pad": strings.Repeat("p", mib)}
			b, _ := json.Marshal(ev)
			return string(b)
		}, over: true, field: "headers", problem: "the limit is 1048576"},
	}
}

// TestSizeLimits: every limit accepts a payload exactly at it and rejects
// one byte (or element) more with a field-level InvalidRequest, no ECS
// call and nothing published; the invocation itself returns normally.
func TestSizeLimits(t *testing.T) {
	for _, lc := range limitCases() {
		t.Run(lc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, opts{policy: func(p *detach.Policy) { p.DetachTimeout = 10 * time.Second }})
			enis := e.ecs.Instance(t, cellInstance, max(lc.enis, 1))
			o := e.invoke(t, "req-limit", lc.payload(t, enis), 20*time.Second)
			if o.err != nil {
				t.Fatalf("returned %v", o.err)
			}
			if lc.http {
				checkHTTPStatus(t, o, lc.over)
			}
			if lc.over {
				top := o.resp.Error
				if top == nil || top.Code != eventschema.CodeInvalidRequest || len(top.Fields) != 1 ||
					top.Fields[0].Field != lc.field || !strings.Contains(top.Fields[0].Problem, lc.problem) {
					t.Fatalf("error %+v, want InvalidRequest on field %q saying %q", top, lc.field, lc.problem)
				}
				if len(o.resp.Results) != 0 {
					t.Fatalf("results %+v", o.resp.Results)
				}
				if n := len(e.ecs.Srv.Calls()); n != 0 {
					t.Fatalf("%d ECS calls for a payload over the limit", n)
				}
				if n := len(e.eb.Srv.Calls()); n != 0 {
					t.Fatalf("%d PutEvents calls for a payload over the limit", n)
				}
				return
			}
			if o.resp.Error != nil || len(o.resp.Results) != len(enis) {
				t.Fatalf("at the limit: error %+v, %d results for %d ENIs", o.resp.Error, len(o.resp.Results), len(enis))
			}
			for _, r := range o.resp.Results {
				if r.Outcome != eventschema.OutcomeDetached {
					t.Fatalf("result %+v", r)
				}
			}
			if o.resp.Published != len(enis) {
				t.Fatalf("published %d", o.resp.Published)
			}
		})
	}
}

func checkHTTPStatus(t *testing.T, o outcome, over bool) {
	t.Helper()
	b, err := json.Marshal(o.out)
	mustOK(t, err)
	var hr struct {
		StatusCode int `json:"statusCode"`
	}
	mustOK(t, json.Unmarshal(b, &hr))
	want := 200
	if over {
		want = 400
	}
	if hr.StatusCode != want {
		t.Fatalf("HTTP %d, want %d", hr.StatusCode, want)
	}
}
