package tests

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eni-detach/eni-detach/eventschema"
	"github.com/eni-detach/eni-detach/internal/creds"
	ecsemu "github.com/eni-detach/eni-detach/internal/emulator/ecs"
	"github.com/eni-detach/eni-detach/internal/emulator/fcruntime"
)

// ecsFixtures is the ECS event fixture directory shared with eventschema.
const ecsFixtures = "../eventschema/testdata/ecs"

// The binary under test is the one build.sh packed: dist/function.zip's
// main, executable, byte for byte dist/main.
func TestPackagedBinaryIsDistMain(t *testing.T) {
	t.Parallel()
	needBinary(t)
	if perm := built.zipMode.Perm(); perm != 0o755 || !built.zipMode.IsRegular() {
		t.Errorf("function.zip's main has mode %v, want -rwxr-xr-x", built.zipMode)
	}
	same, err := sameFile(built.bin, built.distMain)
	if err != nil {
		t.Fatal(err)
	}
	if !same {
		t.Error("function.zip's main differs from dist/main")
	}
}

// wantDetach is how one named ENI should end.
type wantDetach struct {
	outcome      eventschema.Outcome
	status       string // ENI status in the result
	emuStatus    string // ENI status in the emulator afterwards
	detachCalls  int    // DetachNetworkInterface calls the emulator saw
	eventType    string // follow-up event type; "" for none published
	trigger      eventschema.Trigger
	instanceID   string
	previousStat string
}

// checkENI asserts one ENI's result, the emulators' view of it, and that
// every call about it was signed with the invocation's own credentials.
func (e *env) checkENI(t *testing.T, requestID string, c creds.Credentials, r eventschema.Result, eniID string, w wantDetach) {
	t.Helper()
	if r.NetworkInterfaceID != eniID || r.Outcome != w.outcome || r.Status != w.status || r.RegionID != region {
		t.Errorf("%s: result %s %s/%s in %s, want %s %s/%s in %s (error %+v)",
			requestID, r.NetworkInterfaceID, r.Outcome, r.Status, r.RegionID, eniID, w.outcome, w.status, region, r.Error)
	}
	if w.instanceID != "" && r.InstanceID != w.instanceID {
		t.Errorf("%s: instanceId %q, want %q", eniID, r.InstanceID, w.instanceID)
	}
	if w.previousStat != "" && r.PreviousStatus != w.previousStat {
		t.Errorf("%s: previousStatus %q, want %q", eniID, r.PreviousStatus, w.previousStat)
	}
	if r.FCRequestID != requestID {
		t.Errorf("%s: fcRequestId %q, want %q", eniID, r.FCRequestID, requestID)
	}
	if r.Trigger != w.trigger {
		t.Errorf("%s: trigger %+v, want %+v", eniID, r.Trigger, w.trigger)
	}
	if got := e.status(t, eniID); got != w.emuStatus {
		t.Errorf("%s: emulator status %s, want %s", eniID, got, w.emuStatus)
	}
	calls := e.ecsCallsAbout(eniID)
	if len(calls) == 0 {
		t.Errorf("%s: no ECS call about it", eniID)
	}
	detaches := 0
	var ids []string
	for _, call := range calls {
		if call.AccessKeyID != c.AccessKeyID || call.SecurityToken != c.SecurityToken || call.HTTPStatus != 200 {
			t.Errorf("%s: %s signed by %s (token ok: %v), status %d %s; want the invocation's own key %s",
				eniID, call.Action, call.AccessKeyID, call.SecurityToken == c.SecurityToken, call.HTTPStatus, call.Code, c.AccessKeyID)
		}
		if call.Action == "DetachNetworkInterface" {
			detaches++
		}
		ids = append(ids, call.RequestID)
	}
	if detaches != w.detachCalls || r.DetachAttempts != w.detachCalls {
		t.Errorf("%s: %d detach calls, detachAttempts %d; want %d", eniID, detaches, r.DetachAttempts, w.detachCalls)
	}
	// Every ECS call about the ENI (all answered here) is listed, in order.
	if !slices.Equal(r.RequestIDs, ids) {
		t.Errorf("%s: requestIds %v, emulator answered %v", eniID, r.RequestIDs, ids)
	}
	events := e.publishedFor(t, eniID)
	if w.eventType == "" {
		if len(events) != 0 {
			t.Errorf("%s: %d follow-up events published, want none", eniID, len(events))
		}
		return
	}
	if len(events) != 1 {
		t.Fatalf("%s: %d follow-up events published, want 1", eniID, len(events))
	}
	ev := events[0]
	wantSubject := "acs:ecs:" + region + ":" + accountID + ":eni/" + eniID
	wantSource := "acs:fc:" + region + ":" + accountID + ":functions/eni-detach"
	if ev.Type != w.eventType || ev.Subject != wantSubject || ev.Source != wantSource || ev.Bus != busName {
		t.Errorf("%s: event %s %s from %s on %s; want %s %s from %s on %s",
			eniID, ev.Type, ev.Subject, ev.Source, ev.Bus, w.eventType, wantSubject, wantSource, busName)
	}
	if ev.Data.Outcome != r.Outcome || ev.Data.FCRequestID != requestID || ev.Data.Trigger != r.Trigger {
		t.Errorf("%s: event data %+v does not match the result %+v", eniID, ev.Data, r)
	}
	for _, recv := range e.eb.EventsForBus(busName) {
		if strings.Contains(string(recv.Event), `"`+eniID+`"`) &&
			(recv.AccessKeyID != c.AccessKeyID || recv.SecurityToken != c.SecurityToken) {
			t.Errorf("%s: event published with key %s, want %s", eniID, recv.AccessKeyID, c.AccessKeyID)
		}
	}
}

func TestDirectRequest(t *testing.T) {
	t.Parallel()
	e := startEnv(t)
	inst := "i-direct" + randomHex(4)
	ids := e.instance(t, inst, 3)
	avail := "eni-avail" + randomHex(4)
	e.addENI(t, ecsemu.ENI{ID: avail})
	stuck := "eni-stuck" + randomHex(4)
	e.addENI(t, ecsemu.ENI{ID: stuck, InstanceID: inst, StuckReissues: 1})
	// Still Detaching whenever the test looks.
	slow := "eni-slow" + randomHex(4)
	e.addENI(t, ecsemu.ENI{ID: slow, InstanceID: inst, DetachDelay: time.Minute})
	direct := eventschema.Trigger{Kind: eventschema.TriggerDirect}

	tests := []struct {
		name    string
		payload string
		eni     string
		want    wantDetach
	}{
		{"detach", `{"RegionId":"cn-hangzhou","NetworkInterfaceId":"%s","InstanceId":"` + inst + `"}`, ids[0],
			wantDetach{eventschema.OutcomeDetached, "Available", "Available", 1, eventschema.TypeDetached, direct, inst, "InUse"}},
		// Field names match case-insensitively; the region falls back to the function's.
		{"lower-case fields, no region", `{"networkinterfaceid":"%s"}`, ids[1],
			wantDetach{eventschema.OutcomeDetached, "Available", "Available", 1, eventschema.TypeDetached, direct, inst, "InUse"}},
		{"already available: one describe", `{"NetworkInterfaceId":"%s"}`, avail,
			wantDetach{eventschema.OutcomeAlreadyDetached, "Available", "Available", 0, eventschema.TypeDetached, direct, "", "Available"}},
		// Stuck in Detaching until a second call: re-issued after REDETACH_AFTER
		// (1.5 s, between two polls of the production schedule).
		{"stuck detach is re-issued", `{"NetworkInterfaceId":"%s","InstanceId":"` + inst + `"}`, stuck,
			wantDetach{eventschema.OutcomeDetached, "Available", "Available", 2, eventschema.TypeDetached, direct, inst, "InUse"}},
		{"wait false", `{"NetworkInterfaceId":"%s","Wait":false}`, slow,
			wantDetach{eventschema.OutcomePending, "Detaching", "Detaching", 1, eventschema.TypeDetachPending, direct, inst, "InUse"}},
		{"dry run", `{"NetworkInterfaceId":"%s","DryRun":true}`, ids[2],
			wantDetach{eventschema.OutcomeDryRun, "InUse", "InUse", 0, "", direct, inst, "InUse"}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rid := fmt.Sprintf("req-direct-%d-%s", i, randomHex(4))
			inv := e.invocation(rid, fmt.Appendf(nil, tc.payload, tc.eni))
			res, err := e.fc.Invoke(e.ctx, inv)
			if err != nil {
				t.Fatal(err)
			}
			resp := response(t, res)
			if len(resp.Results) != 1 || resp.Error != nil {
				t.Fatalf("response %s, want one result", res.Body)
			}
			wantPublished := 0
			if tc.want.eventType != "" {
				wantPublished = 1
			}
			if resp.Published != wantPublished || resp.PublishError != "" {
				t.Errorf("published %d (%q), want %d", resp.Published, resp.PublishError, wantPublished)
			}
			if tc.want.outcome == eventschema.OutcomeDryRun && !resp.Results[0].DryRun {
				t.Error("dryRun false on a dry run")
			}
			e.checkENI(t, rid, inv.Credentials, resp.Results[0], tc.eni, tc.want)
		})
	}
}

// readFixture returns an ECS fixture as a generic JSON object.
func readFixture(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(ecsFixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// customEvent is custom-request.json naming another ENI and instance.
func customEvent(t *testing.T, eniID, instanceID string) (map[string]any, string) {
	t.Helper()
	ev := readFixture(t, "custom-request.json")
	id := "evt-" + randomHex(8)
	ev["id"] = id
	ev["subject"] = "acs:ecs:" + region + ":" + accountID + ":eni/" + eniID
	ev["data"] = map[string]any{"NetworkInterfaceId": eniID, "InstanceId": instanceID}
	return ev, id
}

func TestCustomCloudEvent(t *testing.T) {
	t.Parallel()
	e := startEnv(t)
	inst := "i-custom" + randomHex(4)
	ids := e.instance(t, inst, 1)
	ev, evID := customEvent(t, ids[0], inst)
	rid := "req-custom-" + randomHex(4)
	inv := e.invocation(rid, mustJSON(t, ev))
	res, err := e.fc.Invoke(e.ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	resp := response(t, res)
	if len(resp.Results) != 1 || resp.Published != 1 {
		t.Fatalf("response %s, want one published result", res.Body)
	}
	e.checkENI(t, rid, inv.Credentials, resp.Results[0], ids[0], wantDetach{
		eventschema.OutcomeDetached, "Available", "Available", 1, eventschema.TypeDetached,
		eventschema.Trigger{Kind: eventschema.TriggerEventBridge, EventID: evID,
			EventType: "custom.eni-detach:DetachRequested", EventSource: "custom.eni-detach.ops"},
		inst, "InUse",
	})

	// The product's own follow-up event is never acted on (no loops).
	t.Run("own follow-up event is ignored", func(t *testing.T) {
		before := len(e.ecs.Calls())
		own := readFixture(t, "ignored-followup.json")
		resp := response(t, e.invoke(t, "req-loop-"+randomHex(4), mustJSON(t, own)))
		if resp.Ignored == "" || len(resp.Results) != 0 || resp.Error != nil {
			t.Errorf("response %+v, want ignored", resp)
		}
		if n := len(e.ecs.Calls()) - before; n != 0 {
			t.Errorf("%d ECS calls for an ignored event", n)
		}
	})
}

func TestECSSystemEvent(t *testing.T) {
	t.Parallel()
	e := startEnv(t)
	inst := "i-stopping" + randomHex(4)
	// The instance is Stopping when the event arrives and Stopped shortly
	// after: ECS refuses a detach while Stopping, so the function has to
	// come back to it.
	if err := e.ecs.AddInstance(ecsemu.Instance{ID: inst, Status: ecsemu.InstanceStopping}); err != nil {
		t.Fatal(err)
	}
	if err := e.ecs.ScheduleInstanceStatus(inst, ecsemu.InstanceStopped, detachDelay); err != nil {
		t.Fatal(err)
	}
	suffix := strings.TrimPrefix(inst, "i-")
	e.addENI(t, ecsemu.ENI{ID: "eni-p" + suffix, Type: ecsemu.ENIPrimary, InstanceID: inst})
	secondaries := []string{"eni-a" + suffix, "eni-b" + suffix}
	for _, id := range secondaries {
		e.addENI(t, ecsemu.ENI{ID: id, InstanceID: inst})
	}
	managed := "eni-m" + suffix
	e.addENI(t, ecsemu.ENI{ID: managed, InstanceID: inst, ServiceManaged: true})

	ev := readFixture(t, "statechange-stopping.json")
	evID := "evt-" + randomHex(8)
	ev["id"] = evID
	ev["subject"] = "acs:ecs:" + region + ":" + accountID + ":instance/" + inst
	ev["data"].(map[string]any)["resourceId"] = inst
	rid := "req-ecs-" + randomHex(4)
	inv := e.invocation(rid, mustJSON(t, ev))
	res, err := e.fc.Invoke(e.ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	resp := response(t, res)
	if len(resp.Results) != len(secondaries) || resp.Published != len(secondaries) {
		t.Fatalf("response %s, want %d published results", res.Body, len(secondaries))
	}
	if len(resp.Skipped) != 1 || resp.Skipped[0].NetworkInterfaceID != managed || resp.Skipped[0].Reason == "" {
		t.Errorf("skipped %+v, want only %s with a reason", resp.Skipped, managed)
	}
	trigger := eventschema.Trigger{Kind: eventschema.TriggerEventBridge, EventID: evID,
		EventType: "ecs:Instance:StateChange", EventSource: "acs.ecs"}
	for _, r := range resp.Results {
		if !slices.Contains(secondaries, r.NetworkInterfaceID) {
			t.Errorf("unexpected result for %s", r.NetworkInterfaceID)
			continue
		}
		if r.Outcome != eventschema.OutcomeDetached || r.Status != "Available" || r.InstanceID != inst || r.Trigger != trigger {
			t.Errorf("%s: %s/%s on %s, trigger %+v (error %+v)", r.NetworkInterfaceID, r.Outcome, r.Status, r.InstanceID, r.Trigger, r.Error)
		}
		if got := e.status(t, r.NetworkInterfaceID); got != ecsemu.ENIAvailable {
			t.Errorf("%s: emulator status %s", r.NetworkInterfaceID, got)
		}
		if n := len(e.publishedFor(t, r.NetworkInterfaceID)); n != 1 {
			t.Errorf("%s: %d events published", r.NetworkInterfaceID, n)
		}
	}
	if got := e.status(t, managed); got != ecsemu.ENIInUse {
		t.Errorf("service-managed ENI is %s", got)
	}
	for _, id := range []string{managed, "eni-p" + suffix} {
		for _, c := range e.ecsCallsAbout(id) {
			if c.Action == "DetachNetworkInterface" {
				t.Errorf("detach called on %s", id)
			}
		}
		if n := len(e.publishedFor(t, id)); n != 0 {
			t.Errorf("%s: %d events published", id, n)
		}
	}
	for _, c := range e.ecs.Calls() {
		if c.AccessKeyID != inv.Credentials.AccessKeyID || c.SecurityToken != inv.Credentials.SecurityToken {
			t.Errorf("%s signed by %s", c.Action, c.AccessKeyID)
		}
	}
}

func TestBatch(t *testing.T) {
	t.Parallel()
	e := startEnv(t)
	inst := "i-batch" + randomHex(4)
	ids := e.instance(t, inst, 3)
	objEvent, objID := customEvent(t, ids[0], inst)
	strEvent, strID := customEvent(t, ids[1], inst)
	batch := []any{
		objEvent,
		string(mustJSON(t, strEvent)), // a JSON string holding a CloudEvent
		map[string]any{"NetworkInterfaceId": ids[2], "InstanceId": inst},
		map[string]any{"NetworkInterfaceId": "eni-NOT_VALID"},
	}
	rid := "req-batch-" + randomHex(4)
	inv := e.invocation(rid, mustJSON(t, batch))
	res, err := e.fc.Invoke(e.ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	resp := response(t, res)
	if len(resp.Results) != 4 {
		t.Fatalf("response %s, want 4 results", res.Body)
	}
	if resp.Published != 3 || resp.PublishError != "" {
		t.Errorf("published %d (%q), want 3", resp.Published, resp.PublishError)
	}
	custom := func(id string) eventschema.Trigger {
		return eventschema.Trigger{Kind: eventschema.TriggerEventBridge, EventID: id,
			EventType: "custom.eni-detach:DetachRequested", EventSource: "custom.eni-detach.ops"}
	}
	triggers := []eventschema.Trigger{custom(objID), custom(strID), {Kind: eventschema.TriggerDirect}}
	for i, id := range ids {
		e.checkENI(t, rid, inv.Credentials, resp.Results[i], id, wantDetach{
			eventschema.OutcomeDetached, "Available", "Available", 1, eventschema.TypeDetached, triggers[i], inst, "InUse"})
	}
	bad := resp.Results[3]
	if bad.Outcome != eventschema.OutcomeInvalidRequest || bad.Error == nil || bad.Error.Code != eventschema.CodeInvalidRequest || len(bad.Error.Fields) == 0 {
		t.Errorf("bad element: %+v", bad)
	}
	if all, _ := e.published(t); len(all) != 3 {
		t.Errorf("%d events published, want 3 (none for the bad element)", len(all))
	}
}

// httpEvent is an FC 3.0 HTTP trigger event.
func httpEvent(method, body string, base64Body bool, query map[string]string) map[string]any {
	if base64Body {
		body = base64.StdEncoding.EncodeToString([]byte(body))
	}
	return map[string]any{
		"version": "v1", "rawPath": "/detach", "body": body, "isBase64Encoded": base64Body,
		"headers":         map[string]string{"Content-Type": "application/json", "User-Agent": "e2e"},
		"queryParameters": query,
		"requestContext": map[string]any{
			"accountId": accountID, "domainName": "eni-detach.example.com", "domainPrefix": "eni-detach",
			"requestId": "http-" + randomHex(6), "time": "2024-05-01T10:00:00Z", "timeEpoch": "1714557600000",
			"http": map[string]any{"method": method, "path": "/detach", "protocol": "HTTP/1.1",
				"sourceIp": "10.0.0.7", "userAgent": "e2e"},
		},
	}
}

func TestHTTPTrigger(t *testing.T) {
	t.Parallel()
	e := startEnv(t)
	inst := "i-http" + randomHex(4)
	ids := e.instance(t, inst, 2)
	slow := "eni-slow" + randomHex(4)
	e.addENI(t, ecsemu.ENI{ID: slow, InstanceID: inst, DetachDelay: time.Minute})
	body := func(eni string) string { return `{"NetworkInterfaceId":"` + eni + `","InstanceId":"` + inst + `"}` }
	tests := []struct {
		name       string
		event      map[string]any
		eni        string // the ENI the request names ("" for none)
		wantStatus int
		wantOut    eventschema.Outcome // the one result's outcome ("" for none)
		wantCode   string              // top-level error code
		wantENI    string              // ENI status in the emulator afterwards
		wantHeader map[string]string
	}{
		{"POST detaches", httpEvent("POST", body(ids[0]), true, nil), ids[0], 200, eventschema.OutcomeDetached, "", "Available", nil},
		{"POST wait=false answers 202", httpEvent("POST", body(slow), false, map[string]string{"wait": "false"}), slow, 202, eventschema.OutcomePending, "", "Detaching", nil},
		{"GET is not allowed", httpEvent("GET", body(ids[1]), false, nil), ids[1], 405, "", "MethodNotAllowed", "InUse", map[string]string{"allow": "POST"}},
		{"malformed id is a 400", httpEvent("POST", `{"NetworkInterfaceId":"eni_bad"}`, false, nil), "", 400, "", eventschema.CodeInvalidRequest, "", nil},
		{"unknown ENI is a 404", httpEvent("POST", `{"NetworkInterfaceId":"eni-nosuch`+randomHex(4)+`"}`, false, nil), "", 404, eventschema.OutcomeNotFound, "", "", nil},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rid := fmt.Sprintf("req-http-%d-%s", i, randomHex(4))
			res := e.invoke(t, rid, mustJSON(t, tc.event))
			if res.Status != fcruntime.StatusResponse {
				t.Fatalf("completed on /%s: %s", res.Status, res.Body)
			}
			// Exactly FC's HTTP response object.
			var shape map[string]json.RawMessage
			if err := json.Unmarshal(res.Body, &shape); err != nil {
				t.Fatal(err)
			}
			keys := slices.Sorted(func(yield func(string) bool) {
				for k := range shape {
					if !yield(k) {
						return
					}
				}
			})
			if want := []string{"body", "headers", "isBase64Encoded", "statusCode"}; !slices.Equal(keys, want) {
				t.Errorf("response members %v, want %v", keys, want)
			}
			var hr struct {
				StatusCode      int               `json:"statusCode"`
				Headers         map[string]string `json:"headers"`
				IsBase64Encoded bool              `json:"isBase64Encoded"`
				Body            string            `json:"body"`
			}
			if err := json.Unmarshal(res.Body, &hr); err != nil {
				t.Fatal(err)
			}
			if hr.StatusCode != tc.wantStatus || hr.IsBase64Encoded {
				t.Errorf("status %d (base64 %v), want %d; body %s", hr.StatusCode, hr.IsBase64Encoded, tc.wantStatus, hr.Body)
			}
			if hr.Headers["content-type"] != "application/json" || hr.Headers["x-fc-request-id"] != rid {
				t.Errorf("headers %v", hr.Headers)
			}
			for k, v := range tc.wantHeader {
				if hr.Headers[k] != v {
					t.Errorf("header %s = %q, want %q", k, hr.Headers[k], v)
				}
			}
			var resp eventschema.Response
			if err := json.Unmarshal([]byte(hr.Body), &resp); err != nil {
				t.Fatalf("body %q: %v", hr.Body, err)
			}
			switch {
			case tc.wantCode != "":
				if resp.Error == nil || resp.Error.Code != tc.wantCode || len(resp.Results) != 0 {
					t.Errorf("body %s, want error %s and no results", hr.Body, tc.wantCode)
				}
			case len(resp.Results) != 1 || resp.Results[0].Outcome != tc.wantOut:
				t.Errorf("body %s, want one %s result", hr.Body, tc.wantOut)
			default:
				trig := resp.Results[0].Trigger
				reqID := tc.event["requestContext"].(map[string]any)["requestId"]
				if trig.Kind != eventschema.TriggerHTTP || trig.EventID != reqID || resp.Results[0].FCRequestID != rid {
					t.Errorf("trigger %+v, fcRequestId %s", trig, resp.Results[0].FCRequestID)
				}
			}
			if tc.wantENI != "" {
				if got := e.status(t, tc.eni); got != tc.wantENI {
					t.Errorf("emulator status %s, want %s", got, tc.wantENI)
				}
			}
			if tc.wantCode != "" && tc.eni != "" {
				if n := len(e.ecsCallsAbout(tc.eni)); n != 0 {
					t.Errorf("%d ECS calls for a refused request", n)
				}
			}
		})
	}
}

// Bad payloads are answered (no panic, no ECS call) and the same process
// then serves a good one.
func TestBadInputThenGood(t *testing.T) {
	t.Parallel()
	e := startEnv(t)
	inst := "i-bad" + randomHex(4)
	ids := e.instance(t, inst, 1)
	huge := `{"NetworkInterfaceId":"` + ids[0] + `","padding":"` + strings.Repeat("x", 1<<20) + `"}`
	bad := []struct{ name, payload string }{
		{"null", `null`},
		{"empty object", `{}`},
		{"not JSON", `not json`},
		{"truncated JSON", `{"NetworkInterfaceId":"` + ids[0]},
		{"wrong type", `{"NetworkInterfaceId":42}`},
		{"malformed ENI id", `{"NetworkInterfaceId":"eni-UPPER_case"}`},
		{"malformed instance id", `{"InstanceId":"instance-1"}`},
		{"bad region", `{"NetworkInterfaceId":"` + ids[0] + `","RegionId":"Hangzhou 1"}`},
		{"over 1 MiB", huge},
	}
	for i, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			res := e.invoke(t, fmt.Sprintf("req-bad-%d-%s", i, randomHex(4)), []byte(tc.payload))
			resp := response(t, res) // an /error post (a panic) fails here
			if resp.Error == nil || resp.Error.Code != eventschema.CodeInvalidRequest || resp.Error.Message == "" {
				t.Errorf("response %s, want a top-level InvalidRequest error", res.Body)
			}
			if len(resp.Results) != 0 || resp.Published != 0 {
				t.Errorf("response %s: results or events for a bad payload", res.Body)
			}
			e.assertAlive(t)
		})
	}
	if n := len(e.ecs.Calls()); n != 0 {
		t.Errorf("%d ECS calls for bad payloads", n)
	}
	if n := len(e.eb.Calls()); n != 0 {
		t.Errorf("%d EventBridge calls for bad payloads", n)
	}
	if st := e.fc.Stats(); st.Errors != 0 {
		t.Errorf("%d invocations completed on /error", st.Errors)
	}

	rid := "req-good-" + randomHex(4)
	inv := e.invocation(rid, []byte(`{"NetworkInterfaceId":"`+ids[0]+`"}`))
	res, err := e.fc.Invoke(e.ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	resp := response(t, res)
	if len(resp.Results) != 1 {
		t.Fatalf("good run after bad ones: %s", res.Body)
	}
	e.checkENI(t, rid, inv.Credentials, resp.Results[0], ids[0], wantDetach{
		eventschema.OutcomeDetached, "Available", "Available", 1, eventschema.TypeDetached,
		eventschema.Trigger{Kind: eventschema.TriggerDirect}, inst, "InUse"})
	e.assertAlive(t)
}

// DETACH_TIMEOUT bounds the wait: a detach still under way then is
// answered Pending, and announced as such.
func TestDetachTimeoutAnswersPending(t *testing.T) {
	t.Parallel()
	// The first poll comes 1 s after the detach, the second 2.2 s after: a
	// 2 s timeout leaves one poll whatever the machine's load, and no
	// re-issue comes before the answer.
	e := startEnv(t, "DETACH_TIMEOUT=2s", "REDETACH_AFTER=10s")
	inst := "i-timeout" + randomHex(4)
	e.instance(t, inst, 0)
	slow := "eni-slow" + randomHex(4)
	e.addENI(t, ecsemu.ENI{ID: slow, InstanceID: inst, DetachDelay: time.Minute})
	rid := "req-timeout-" + randomHex(4)
	inv := e.invocation(rid, []byte(`{"NetworkInterfaceId":"`+slow+`"}`))
	res, err := e.fc.Invoke(e.ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	resp := response(t, res)
	if len(resp.Results) != 1 || resp.Published != 1 {
		t.Fatalf("response %s, want one published result", res.Body)
	}
	e.checkENI(t, rid, inv.Credentials, resp.Results[0], slow, wantDetach{
		eventschema.OutcomePending, "Detaching", "Detaching", 1, eventschema.TypeDetachPending,
		eventschema.Trigger{Kind: eventschema.TriggerDirect}, inst, "InUse"})
	// It kept looking until the timeout: at least one poll after the detach.
	if n := len(e.ecs.CallsFor("DescribeNetworkInterfaces")); n < 2 {
		t.Errorf("%d describes: the function did not follow the detach", n)
	}
}

// An invalid configuration is reported at start-up and on every
// invocation, without any ECS call, and the process stays up.
func TestInvalidConfiguration(t *testing.T) {
	t.Parallel()
	e := startEnv(t, "DETACH_TIMEOUT=forever")
	inst := "i-badcfg" + randomHex(4)
	ids := e.instance(t, inst, 1)

	res := e.invoke(t, "req-badcfg-"+randomHex(4), []byte(`{"NetworkInterfaceId":"`+ids[0]+`"}`))
	if res.Status != fcruntime.StatusError || !strings.Contains(res.ErrorMessage, "InvalidConfiguration") ||
		!strings.Contains(res.ErrorMessage, "DETACH_TIMEOUT") {
		t.Errorf("direct invocation completed on /%s with %q, want an InvalidConfiguration error naming DETACH_TIMEOUT", res.Status, res.ErrorMessage)
	}
	if len(res.StackTrace) > 0 {
		t.Errorf("the error carries a stack trace (a panic?): %s", res.StackTrace)
	}

	res = e.invoke(t, "req-badcfg-http-"+randomHex(4), mustJSON(t, httpEvent("POST", `{"NetworkInterfaceId":"`+ids[0]+`"}`, false, nil)))
	var hr struct {
		StatusCode int    `json:"statusCode"`
		Body       string `json:"body"`
	}
	if res.Status != fcruntime.StatusResponse || json.Unmarshal(res.Body, &hr) != nil || hr.StatusCode != 500 ||
		!strings.Contains(hr.Body, `"code":"InvalidConfiguration"`) {
		t.Errorf("HTTP invocation: /%s %s, want a 500 with code InvalidConfiguration", res.Status, res.Body)
	}
	if n := len(e.ecs.Calls()); n != 0 {
		t.Errorf("%d ECS calls with an invalid configuration", n)
	}
	if got := e.status(t, ids[0]); got != ecsemu.ENIInUse {
		t.Errorf("ENI is %s", got)
	}
	e.assertAlive(t)
	found := false
	for _, l := range e.proc.Lines() {
		if l.Stream == "stdout" && strings.Contains(l.Text, `"level":"error"`) && strings.Contains(l.Text, "DETACH_TIMEOUT") {
			found = true
			break
		}
	}
	if !found {
		t.Error("no error line naming DETACH_TIMEOUT in the function's log")
	}
}
