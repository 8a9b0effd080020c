package handler_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/eni-detach/eni-detach/eventschema"
	"github.com/eni-detach/eni-detach/eventschema/schema"
	"github.com/eni-detach/eni-detach/handler"
	ebemu "github.com/eni-detach/eni-detach/internal/emulator/eventbridge"
	"github.com/eni-detach/eni-detach/internal/publish"
	"github.com/eni-detach/eni-detach/internal/testenv"
)

const testAccountID = "1234567890123456" // fcContext's account

// pubFixture is the handler fixture with the production publisher wired
// to an EventBridge emulator that knows the fixture's credentials.
type pubFixture struct {
	*fixture
	eb *testenv.EventBridge
}

func newPublishingFixture(t *testing.T, opts ...option) *pubFixture {
	t.Helper()
	eb := testenv.StartEventBridge(t)
	wire := func(d *handler.Deps) {
		d.Config.EventBusName = eb.Bus
		d.Publisher = publish.New(eb.PublishConfig())
	}
	f := newFixture(t, append([]option{wire}, opts...)...)
	eb.Srv.AddCredentials(f.ecs.Creds)
	pf := &pubFixture{fixture: f, eb: eb}
	// Whatever a test looks at, every event the bus accepted must match
	// the published schema.
	t.Cleanup(func() {
		for _, r := range eb.Srv.Events() {
			if err := schema.ValidateFollowUpEvent(r.Event); err != nil {
				t.Errorf("event on the bus breaks the schema: %v\n%s", err, r.Event)
			}
		}
	})
	return pf
}

// received is one event the emulator accepted, decoded.
type received struct {
	ebemu.Received
	ev      eventschema.FollowUpEvent
	rawData json.RawMessage
}

// busEvents returns the events on the fixture's bus, each validated with
// the schema.
func (f *pubFixture) busEvents(t *testing.T) []received {
	t.Helper()
	var out []received
	for _, r := range f.eb.Srv.EventsForBus(f.eb.Bus) {
		if err := schema.ValidateFollowUpEvent(r.Event); err != nil {
			t.Fatalf("%v\n%s", err, r.Event)
		}
		var ev eventschema.FollowUpEvent
		var raw struct {
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(r.Event, &ev); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(r.Event, &raw); err != nil {
			t.Fatal(err)
		}
		out = append(out, received{Received: r, ev: ev, rawData: raw.Data})
	}
	return out
}

// sameJSON compares two JSON texts as values (member order aside).
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(va, vb)
}

// TestFollowUpEventPerType runs one invocation per event type through the
// real publisher and checks the event EventBridge received: schema-valid,
// of the outcome's type, signed with the invocation's STS credentials,
// with the result returned to FC as its data.
func TestFollowUpEventPerType(t *testing.T) {
	tests := []struct {
		name    string
		payload func(secondary, primary string) string
		outcome eventschema.Outcome
		typ     string
		status  string
	}{
		{"Detached", func(eni, _ string) string { return `{"NetworkInterfaceId":"` + eni + `","InstanceId":"i-p1"}` },
			eventschema.OutcomeDetached, eventschema.TypeDetached, eventschema.StatusAvailable},
		{"DetachPending", func(eni, _ string) string { return `{"NetworkInterfaceId":"` + eni + `","Wait":false}` },
			eventschema.OutcomePending, eventschema.TypeDetachPending, eventschema.StatusDetaching},
		{"DetachFailed", func(_, primary string) string { return `{"NetworkInterfaceId":"` + primary + `"}` },
			eventschema.OutcomeConflict, eventschema.TypeDetachFailed, eventschema.StatusInUse},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newPublishingFixture(t)
			eni := f.ecs.Instance(t, "i-p1", 1)[0]
			primary := "eni-pp1"
			resp, err := f.invoke(t, "req-"+tc.name, tc.payload(eni, primary))
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Results) != 1 || resp.Published != 1 || resp.PublishError != "" {
				t.Fatalf("response %+v", resp)
			}
			res := resp.Results[0]
			if res.Outcome != tc.outcome || res.Status != tc.status {
				t.Fatalf("result %+v", res)
			}
			evs := f.busEvents(t)
			if len(evs) != 1 {
				t.Fatalf("%d events on the bus", len(evs))
			}
			got := evs[0]
			if got.AccessKeyID != f.ecs.Creds.AccessKeyID || got.SecurityToken != f.ecs.Creds.SecurityToken {
				t.Fatalf("signed by %s with token %q, want the invocation's %s", got.AccessKeyID, got.SecurityToken, f.ecs.Creds.AccessKeyID)
			}
			ev := got.ev
			if ev.Type != tc.typ || ev.ID != eventschema.EventID("req-"+tc.name, res.NetworkInterfaceID, tc.outcome) ||
				ev.Subject != "acs:ecs:"+testenv.Region+":"+testAccountID+":eni/"+res.NetworkInterfaceID ||
				ev.Source != eventschema.FunctionARN(testenv.Region, testAccountID, "eni-detach") ||
				ev.AliyunEventBusName != f.eb.Bus || ev.DataContentType != "application/json" {
				t.Fatalf("event %s", got.Event)
			}
			returned, err := json.Marshal(res)
			if err != nil {
				t.Fatal(err)
			}
			if !sameJSON(t, got.rawData, returned) {
				t.Fatalf("event data\n%s\ndiffers from the result returned\n%s", got.rawData, returned)
			}
			// time is when the outcome was reached, sent with millisecond
			// precision.
			if at, err := time.Parse(time.RFC3339Nano, ev.Time); err != nil ||
				res.FinishedAt.Sub(at) < 0 || res.FinishedAt.Sub(at) >= time.Millisecond {
				t.Fatalf("time %s, result finished at %s", ev.Time, res.FinishedAt.Format(time.RFC3339Nano))
			}
			if tc.outcome == eventschema.OutcomeConflict && (res.Error == nil || res.Error.Code != "Guard.PrimaryNetworkInterface") {
				t.Fatalf("error %+v", res.Error)
			}
			// Every PutEvents call, not just the accepted ones, used the
			// invocation's key.
			for _, c := range f.eb.Srv.Calls() {
				if c.AccessKeyID != f.ecs.Creds.AccessKeyID || c.Status != http.StatusOK {
					t.Fatalf("call %+v", c)
				}
			}
		})
	}
}

// TestFollowUpEventIDIsDeterministic: a redelivered trigger that ends the
// same way yields the same event id, so consumers can deduplicate.
func TestFollowUpEventIDIsDeterministic(t *testing.T) {
	f := newPublishingFixture(t)
	f.ecs.Instance(t, "i-d1", 0)
	const primary = "eni-pd1" // Conflict, every time
	direct := `{"NetworkInterfaceId":"` + primary + `"}`
	custom := `{"specversion":"1.0","id":"evt-42","source":"ops.tools","type":"ops:DetachRequested","data":` + direct + `}`
	invocations := []struct{ requestID, payload string }{
		{"req-a", direct},
		{"req-a", direct}, // FC retried the same request
		{"req-b", direct},
		{"fc-1", custom},
		{"fc-2", custom}, // EventBridge redelivered the event: new FC request, same event id
	}
	for _, inv := range invocations {
		if resp, err := f.invoke(t, inv.requestID, inv.payload); err != nil || resp.Published != 1 {
			t.Fatalf("%s: %+v %v", inv.requestID, resp, err)
		}
	}
	evs := f.busEvents(t)
	if len(evs) != len(invocations) {
		t.Fatalf("%d events, want %d", len(evs), len(invocations))
	}
	id := func(i int) string { return evs[i].ev.ID }
	if id(0) != id(1) || id(0) != eventschema.EventID("req-a", primary, eventschema.OutcomeConflict) {
		t.Fatalf("same request, ids %s and %s", id(0), id(1))
	}
	if id(2) == id(0) {
		t.Fatalf("another request got the same id %s", id(2))
	}
	if id(3) != id(4) || id(3) != eventschema.EventID("evt-42", primary, eventschema.OutcomeConflict) {
		t.Fatalf("redelivered event, ids %s and %s", id(3), id(4))
	}
	if evs[3].ev.Data.FCRequestID != "fc-1" || evs[4].ev.Data.FCRequestID != "fc-2" {
		t.Fatal("the data should still tell the two invocations apart")
	}
}

// TestPartialPublishFailureIsRetried: entries EventBridge rejects in its
// EntryList are sent again until they are accepted.
func TestPartialPublishFailureIsRetried(t *testing.T) {
	const n = 18 // more than one PutEvents batch
	f := newPublishingFixture(t)
	enis := f.ecs.Instance(t, "i-r1", n)
	f.eb.Srv.FailEntries(1, ebemu.CodeInternalError)
	resp, err := f.invoke(t, "req-partial", `{"InstanceId":"i-r1"}`)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Results) != n || resp.Published != n || resp.PublishError != "" {
		t.Fatalf("results %d, published %d, publishError %q", len(resp.Results), resp.Published, resp.PublishError)
	}
	evs := f.busEvents(t)
	if len(evs) != n {
		t.Fatalf("%d events on the bus, want %d", len(evs), n)
	}
	onBus := map[string]bool{}
	for _, e := range evs {
		onBus[e.ev.Data.NetworkInterfaceID] = true
	}
	for _, id := range enis {
		if !onBus[id] {
			t.Fatalf("no event for %s", id)
		}
	}
	calls := f.eb.Srv.Calls()
	failed, sent := 0, 0
	for _, c := range calls {
		if c.Events > publish.MaxBatch {
			t.Fatalf("a call carried %d events", c.Events)
		}
		failed += c.FailedEntries
		sent += c.Events
	}
	if failed != 1 || sent != n+1 {
		t.Fatalf("%d entries failed, %d sent over %d calls; want 1 failed and it alone resent", failed, sent, len(calls))
	}
}

// TestFailingBusSurfaces: when events cannot be published, the result
// says so, the log says so, and the non-HTTP invocation returns an error
// so that FC's async retry takes over. The detach results are kept.
func TestFailingBusSurfaces(t *testing.T) {
	tests := []struct {
		name      string
		bus       string // "" → the fixture's bus
		arm       func(*ebemu.Server)
		code      string
		wantCalls int // PutEvents calls: retried while retryable
	}{
		{"bus always answers 500", "", func(s *ebemu.Server) { s.InjectError(http.StatusInternalServerError, ebemu.CodeInternalError, 1000) },
			ebemu.CodeInternalError, 4},
		{"bus missing", "no-such-bus", func(*ebemu.Server) {}, ebemu.CodeEventBusNotExist, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newPublishingFixture(t, func(d *handler.Deps) {
				if tc.bus != "" {
					d.Config.EventBusName = tc.bus
				}
			})
			if got := f.eb.PublishConfig().MaxAttempts; tc.wantCalls > 1 && got != tc.wantCalls {
				t.Fatalf("the test assumes %d attempts, the publisher makes %d", tc.wantCalls, got)
			}
			eni := f.ecs.Instance(t, "i-f1", 1)[0]
			tc.arm(f.eb.Srv)
			resp, err := f.invoke(t, "req-fail", `{"NetworkInterfaceId":"`+eni+`"}`)

			if len(resp.Results) != 1 || resp.Results[0].Outcome != eventschema.OutcomeDetached {
				t.Fatalf("the detach result is lost: %+v", resp)
			}
			if resp.Published != 0 || !strings.Contains(resp.PublishError, tc.code) {
				t.Fatalf("published %d, publishError %q, want it to name %s", resp.Published, resp.PublishError, tc.code)
			}
			var re *handler.RetryableError
			if !errors.As(err, &re) || !strings.Contains(re.Reason, "follow-up events not published") ||
				re.Response.PublishError != resp.PublishError {
				t.Fatalf("want a RetryableError carrying the publish error, got %v", err)
			}
			logs := f.logs.String()
			if !strings.Contains(logs, "follow-up events not all published") || !strings.Contains(logs, tc.code) {
				t.Fatalf("the log does not show the failure:\n%s", logs)
			}
			if n := len(f.eb.Srv.Calls()); n != tc.wantCalls {
				t.Fatalf("%d PutEvents calls, want %d", n, tc.wantCalls)
			}
			if len(f.eb.Srv.Events()) != 0 {
				t.Fatal("an event was stored")
			}
			for _, secret := range []string{f.ecs.Creds.AccessKeySecret, f.ecs.Creds.SecurityToken} {
				if strings.Contains(logs, secret) || strings.Contains(err.Error(), secret) {
					t.Fatal("a secret leaked into the log or the error")
				}
			}
		})
	}
}

// TestNoBusConfiguredPublishesNothing: without EVENT_BUS_NAME the results
// are still returned and logged, and EventBridge is never called.
func TestNoBusConfiguredPublishesNothing(t *testing.T) {
	f := newPublishingFixture(t, func(d *handler.Deps) { d.Config.EventBusName = "" })
	eni := f.ecs.Instance(t, "i-n1", 1)[0]
	resp, err := f.invoke(t, "req-nobus", `{"NetworkInterfaceId":"`+eni+`"}`)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Results) != 1 || resp.Results[0].Outcome != eventschema.OutcomeDetached || resp.Published != 0 || resp.PublishError != "" {
		t.Fatalf("response %+v", resp)
	}
	if n := len(f.eb.Srv.Calls()); n != 0 {
		t.Fatalf("%d PutEvents calls without a bus", n)
	}
	if !strings.Contains(f.logs.String(), `"outcome":"Detached"`) {
		t.Fatal("the result is not in the log")
	}
}

// TestDryRunPublishesNothing, whether the request or DRY_RUN asks for it.
func TestDryRunPublishesNothing(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    []option
		request string
	}{
		{"request DryRun", nil, `{"NetworkInterfaceId":"%s","DryRun":true}`},
		{"DRY_RUN", []option{func(d *handler.Deps) { d.Config.DryRun = true }}, `{"NetworkInterfaceId":"%s"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newPublishingFixture(t, tc.opts...)
			enis := f.ecs.Instance(t, "i-y1", 1)
			payload := fmt.Sprintf(`[`+tc.request+`,`+tc.request+`]`, enis[0], "eni-py1") // a detachable and a primary ENI
			resp, err := f.invoke(t, "req-dry", payload)
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Results) != 2 || resp.Published != 0 || resp.PublishError != "" {
				t.Fatalf("response %+v", resp)
			}
			for _, r := range resp.Results {
				if !r.DryRun {
					t.Fatalf("result without dryRun: %+v", r)
				}
			}
			if n := len(f.eb.Srv.Calls()); n != 0 {
				t.Fatalf("%d PutEvents calls for a dry run", n)
			}
			if n := len(f.ecs.Srv.CallsFor("DetachNetworkInterface")); n != 0 {
				t.Fatalf("%d detach calls for a dry run", n)
			}
		})
	}
}
