package eventschema

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// httpEnvelope builds an HTTP trigger payload the way FC does.
func httpEnvelope(t testing.TB, method, body string, b64 bool, headers, query map[string]string) []byte {
	t.Helper()
	ev := map[string]any{
		"version": "v1", "rawPath": "/", "body": body, "isBase64Encoded": b64,
		"headers": headers, "queryParameters": query,
		"requestContext": map[string]any{"requestId": "req-http-1", "http": map[string]any{"method": method, "path": "/"}},
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var jsonCT = map[string]string{"Content-Type": "application/json"}

func recogniseHTTP(t *testing.T, payload []byte) *HTTPTriggerEvent {
	t.Helper()
	rec, err := Recogniser{}.Recognise(payload)
	if err != nil || rec.HTTP == nil {
		t.Fatalf("not recognised as an HTTP event: %v %+v", err, rec)
	}
	return rec.HTTP
}

func fieldNames(err error) []string {
	var v *ValidationError
	if !errors.As(err, &v) {
		return nil
	}
	out := make([]string, len(v.Fields))
	for i, f := range v.Fields {
		out[i] = f.Field
	}
	return out
}

func TestParseHTTPBody(t *testing.T) {
	const eni = `{"NetworkInterfaceId":"eni-a1"}`
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name    string
		body    string
		b64     bool
		headers map[string]string
		query   map[string]string
		want    Request
		fields  []string // nil: valid
	}{
		{name: "plain", body: eni, headers: jsonCT, want: Request{NetworkInterfaceID: "eni-a1"}},
		{name: "base64", body: b64(eni), b64: true, headers: jsonCT, want: Request{NetworkInterfaceID: "eni-a1"}},
		{name: "header name any case, charset utf-8", body: eni, headers: map[string]string{"CONTENT-TYPE": "Application/JSON; Charset=UTF-8"},
			want: Request{NetworkInterfaceID: "eni-a1"}},
		{name: "+json media type", body: eni, headers: map[string]string{"content-type": "application/vnd.ops+json"},
			want: Request{NetworkInterfaceID: "eni-a1"}},
		{name: "query flags merge", body: eni, headers: jsonCT, query: map[string]string{"WAIT": "False", "dryrun": " true "},
			want: Request{NetworkInterfaceID: "eni-a1", Wait: ptr(false), DryRun: ptr(true)}},
		{name: "query agrees with body", body: `{"NetworkInterfaceId":"eni-a1","Wait":false}`, headers: jsonCT, query: map[string]string{"wait": "false"},
			want: Request{NetworkInterfaceID: "eni-a1", Wait: ptr(false)}},
		{name: "unrelated query ignored", body: eni, headers: jsonCT, query: map[string]string{"NetworkInterfaceId": "eni-zz"},
			want: Request{NetworkInterfaceID: "eni-a1"}},
		{name: "body at the limit", body: `{"NetworkInterfaceId":"eni-a1","pad":"` + strings.Repeat(" ", MaxHTTPBodyBytes-len(`{"NetworkInterfaceId":"eni-a1","pad":""}`)) + `"}`,
			headers: jsonCT, want: Request{NetworkInterfaceID: "eni-a1"}},

		{name: "body over the limit", body: `{"NetworkInterfaceId":"eni-a1","pad":"` + strings.Repeat(" ", MaxHTTPBodyBytes) + `"}`, headers: jsonCT, fields: []string{"body"}},
		{name: "base64 body over the limit", body: b64(strings.Repeat(" ", MaxHTTPBodyBytes) + eni), b64: true, headers: jsonCT, fields: []string{"body"}},
		{name: "bad base64", body: "eyJ*", b64: true, headers: jsonCT, fields: []string{"body"}},
		{name: "empty body", body: "  ", headers: jsonCT, fields: []string{"body"}},
		{name: "not json", body: `{"NetworkInterfaceId":`, headers: jsonCT, fields: []string{"body"}},
		{name: "batch", body: `[` + eni + `]`, headers: jsonCT, fields: []string{"body"}},
		{name: "json string", body: `"` + eni + `"`, headers: jsonCT, fields: []string{"body"}},
		{name: "no content type", body: eni, fields: []string{"content-type"}},
		{name: "text content type", body: eni, headers: map[string]string{"Content-Type": "text/plain"}, fields: []string{"content-type"}},
		{name: "form content type", body: "NetworkInterfaceId=eni-a1", headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, fields: []string{"content-type"}},
		{name: "other charset", body: eni, headers: map[string]string{"Content-Type": "application/json; charset=gbk"}, fields: []string{"content-type"}},
		{name: "unparsable content type", body: eni, headers: map[string]string{"Content-Type": "application/json; charset"}, fields: []string{"content-type"}},
		{name: "wrong field type", body: `{"NetworkInterfaceId":7}`, headers: jsonCT, fields: []string{"NetworkInterfaceId"}},
		{name: "malformed ids", body: `{"NetworkInterfaceId":"ENI-1","InstanceId":"vm-1"}`, headers: jsonCT, fields: []string{"NetworkInterfaceId", "InstanceId"}},
		{name: "no target", body: `{"Wait":false}`, headers: jsonCT, fields: []string{"NetworkInterfaceId"}},
		{name: "bad query values", body: eni, headers: jsonCT, query: map[string]string{"wait": "yes", "dryRun": "true,true"}, fields: []string{"query.wait", "query.dryRun"}},
		{name: "empty query value", body: eni, headers: jsonCT, query: map[string]string{"dryRun": ""}, fields: []string{"query.dryRun"}},
		{name: "query given twice", body: eni, headers: jsonCT, query: map[string]string{"wait": "true", "Wait": "true"}, fields: []string{"query.wait"}},
		{name: "query contradicts body", body: `{"NetworkInterfaceId":"eni-a1","DryRun":false}`, headers: jsonCT, query: map[string]string{"dryRun": "true"}, fields: []string{"query.dryRun"}},
		{name: "type error and bad query together", body: `{"NetworkInterfaceId":"eni-a1","Wait":"no"}`, headers: jsonCT, query: map[string]string{"dryRun": "1"}, fields: []string{"Wait", "query.dryRun"}},
		{name: "type error, bad value and bad query together", body: `{"NetworkInterfaceId":7,"InstanceId":"I-X"}`, headers: jsonCT,
			query: map[string]string{"wait": "maybe"}, fields: []string{"NetworkInterfaceId", "InstanceId", "query.wait"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := recogniseHTTP(t, httpEnvelope(t, "POST", tc.body, tc.b64, tc.headers, tc.query))
			got, verr := ParseHTTPBody(ev)
			if tc.fields == nil {
				if verr != nil {
					t.Fatalf("unexpected error %v", verr)
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Fatalf("request %+v, want %+v", got, tc.want)
				}
				return
			}
			if verr == nil {
				t.Fatalf("accepted %+v", got)
			}
			if names := fieldNames(verr); !reflect.DeepEqual(names, tc.fields) {
				t.Fatalf("fields %v, want %v (%v)", names, tc.fields, verr)
			}
			if got != (Request{}) {
				t.Fatalf("a rejected body still returned a request %+v", got)
			}
		})
	}
}

// A body that is not JSON is named as such, with where it stops being JSON.
func TestHTTPBodyNotJSON(t *testing.T) {
	ev := recogniseHTTP(t, httpEnvelope(t, "POST", `{"NetworkInterfaceId" "eni-a1"}`, false, map[string]string{"content-type": "application/json"}, nil))
	_, verr := ParseHTTPBody(ev)
	want := `body: the request is not JSON: unexpected '"' at byte offset 22, near …NetworkInterfaceId" "eni-a1"}`
	if verr == nil || !strings.Contains(verr.Error(), want) {
		t.Fatalf("got %v, want it to contain %s", verr, want)
	}
}

func TestHTTPEnvelopeRecognition(t *testing.T) {
	t.Run("request id and method read", func(t *testing.T) {
		ev := recogniseHTTP(t, httpEnvelope(t, "post", "", false, nil, nil))
		if ev.Method() != "POST" || ev.RequestContext.RequestID != "req-http-1" {
			t.Fatalf("method %q request id %q", ev.Method(), ev.RequestContext.RequestID)
		}
	})
	for _, tc := range []struct{ member, field string }{
		{`"headers":{"Content-Type":7}`, "headers"},
		{`"body":{"NetworkInterfaceId":"eni-a1"}`, "body"},
		{`"isBase64Encoded":"yes"`, "isBase64Encoded"},
		{`"queryParameters":["wait"]`, "queryParameters"},
	} {
		t.Run("malformed "+tc.field+" is a 400 on the HTTP path", func(t *testing.T) {
			payload := `{"version":"v1","rawPath":"/",` + tc.member + `,"requestContext":{"requestId":"r1","http":{"method":"POST"}}}`
			ev := recogniseHTTP(t, []byte(payload))
			if ev.RequestContext.RequestID != "r1" || ev.Method() != "POST" {
				t.Fatalf("the rest of the envelope was lost: %+v", ev)
			}
			_, verr := ParseHTTPBody(ev)
			// The member, or a path inside it: encoding/json names a map
			// value by its key too since go1.27 (headers.Content-Type).
			names := fieldNames(verr)
			if len(names) != 1 || (names[0] != tc.field && !strings.HasPrefix(names[0], tc.field+".")) || !strings.Contains(verr.Error(), "malformed") {
				t.Fatalf("fields %v, want [%s] or a path inside it (%v)", names, tc.field, verr)
			}
		})
	}
	t.Run("malformed method", func(t *testing.T) {
		ev := recogniseHTTP(t, []byte(`{"version":"v1","rawPath":"/","requestContext":{"http":{"method":["POST"]}}}`))
		_, verr := ParseHTTPBody(ev)
		if names := fieldNames(verr); !reflect.DeepEqual(names, []string{"requestContext.http.method"}) {
			t.Fatalf("fields %v (%v)", names, verr)
		}
	})
	t.Run("envelope over 1 MiB with a small body", func(t *testing.T) {
		payload := httpEnvelope(t, "POST", `{"NetworkInterfaceId":"eni-a1"}`, false,
			map[string]string{"Content-Type": "application/json", "X-Pad": strings.Repeat("p", MaxPayloadBytes)}, nil)
		ev := recogniseHTTP(t, payload)
		_, verr := ParseHTTPBody(ev)
		if names := fieldNames(verr); !reflect.DeepEqual(names, []string{"headers"}) || !strings.Contains(verr.Error(), "1 MiB") {
			t.Fatalf("fields %v (%v)", names, verr)
		}
	})
	t.Run("envelope over 1 MiB with a big body", func(t *testing.T) {
		payload := httpEnvelope(t, "POST", strings.Repeat("x", MaxPayloadBytes), false, jsonCT, nil)
		_, verr := ParseHTTPBody(recogniseHTTP(t, payload))
		if names := fieldNames(verr); !reflect.DeepEqual(names, []string{"body"}) {
			t.Fatalf("fields %v (%v)", names, verr)
		}
	})
	for _, payload := range []string{
		`{"version":"v1","rawPath":"/","requestContext":null,"NetworkInterfaceId":"eni-a1"}`,
		`{"version":"v2","rawPath":"/","requestContext":{},"NetworkInterfaceId":"eni-a1"}`,
		`{"version":"v1","requestContext":{},"NetworkInterfaceId":"eni-a1"}`,
	} {
		t.Run("not an envelope: "+payload[:30], func(t *testing.T) {
			rec, err := Recogniser{}.Recognise([]byte(payload))
			if err != nil || rec.HTTP != nil || len(rec.Items) != 1 || rec.Items[0].Request.NetworkInterfaceID != "eni-a1" {
				t.Fatalf("want a direct request, got %+v %v", rec, err)
			}
		})
	}
}

// httpSeeds are the handler's HTTP fixtures: real-looking FC envelopes.
func httpSeeds(f *testing.F) [][]byte {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("..", "handler", "testdata", "http", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no HTTP fixtures: %v", err)
	}
	var out [][]byte
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// checkHTTPParse states what every parse must satisfy: an error names each
// field it complains about, and an accepted request is valid, came from a
// body within the cap, and honours the query flags.
func checkHTTPParse(t *testing.T, ev *HTTPTriggerEvent) {
	req, err := ParseHTTPBody(ev)
	if err != nil {
		var verr *ValidationError
		if !errors.As(err, &verr) {
			t.Fatalf("error %v is not a *ValidationError", err)
		}
		if len(verr.Fields) == 0 {
			t.Fatal("an error without fields")
		}
		for _, f := range verr.Fields {
			if f.Field == "" || f.Problem == "" {
				t.Fatalf("an unnamed problem: %+v", verr.Fields)
			}
		}
		if req != (Request{}) {
			t.Fatalf("rejected but returned %+v", req)
		}
		return
	}
	if err := req.Validate(); err != nil {
		t.Fatalf("accepted an invalid request %+v: %v", req, err)
	}
	if req.NetworkInterfaceID == "" && req.InstanceID == "" {
		t.Fatal("accepted a request without a target")
	}
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
			t.Fatal("accepted a body that is not base64")
		}
	}
	if len(body) > MaxHTTPBodyBytes {
		t.Fatalf("accepted a %d-byte body", len(body))
	}
	if jsonContentTypeProblem(ev.Header("content-type")) != "" {
		t.Fatalf("accepted content type %q", ev.Header("content-type"))
	}
	for _, qf := range queryFlags {
		for k, v := range ev.QueryParameters {
			if strings.EqualFold(k, qf.query) {
				got := *qf.field(&req)
				if got == nil || *got != strings.EqualFold(strings.TrimSpace(v), "true") {
					t.Fatalf("query %s=%q not applied: %v", k, v, got)
				}
			}
		}
	}
}

func FuzzHTTPRequest(f *testing.F) {
	for _, b := range httpSeeds(f) {
		f.Add(b)
	}
	f.Add([]byte(`{"version":"v1","rawPath":"/","body":"{}","headers":{"a":1},"requestContext":{"http":{"method":7}}}`))
	f.Add(httpEnvelope(f, "POST", `{"NetworkInterfaceId":"eni-a1"}`, false, jsonCT, map[string]string{"wait": "false", "WAIT": "true"}))
	rc := Recogniser{}
	f.Fuzz(func(t *testing.T, payload []byte) {
		rec, err := rc.Recognise(payload)
		if err != nil || rec.HTTP == nil {
			return // not an HTTP event: FuzzRecognise covers those
		}
		_ = rec.HTTP.Method()
		checkHTTPParse(t, rec.HTTP)
	})
}

// FuzzHTTPBody reaches the body and query rules faster than mutating whole
// envelopes does.
func FuzzHTTPBody(f *testing.F) {
	f.Add([]byte(`{"NetworkInterfaceId":"eni-a1"}`), false, "application/json", "false", "")
	f.Add([]byte(`{"InstanceId":"i-a1","DryRun":true}`), true, "application/json; charset=utf-8", "", "true")
	f.Add([]byte(`[{"NetworkInterfaceId":"eni-a1"}]`), false, "text/plain", "maybe", "TRUE")
	f.Fuzz(func(t *testing.T, body []byte, b64 bool, contentType, wait, dryRun string) {
		ev := &HTTPTriggerEvent{Version: "v1", Body: string(body), IsBase64Encoded: b64,
			Headers: map[string]string{"Content-Type": contentType}, QueryParameters: map[string]string{}}
		if b64 {
			ev.Body = base64.StdEncoding.EncodeToString(body)
		}
		if wait != "" {
			ev.QueryParameters["wait"] = wait
		}
		if dryRun != "" {
			ev.QueryParameters["dryRun"] = dryRun
		}
		checkHTTPParse(t, ev)
	})
}
