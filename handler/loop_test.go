package handler_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"github.com/eni-detach/eni-detach/eventschema"
	"github.com/eni-detach/eni-detach/handler"
	ecsemu "github.com/eni-detach/eni-detach/internal/emulator/ecs"
	"github.com/eni-detach/eni-detach/internal/testenv"
)

// asDelivered adds what EventBridge adds when a rule delivers an event to
// a target (NOTES: Payloads), including the PRC time form.
func asDelivered(t *testing.T, event []byte) []byte {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(event, &ev); err != nil {
		t.Fatal(err)
	}
	ev["aliyunaccountid"] = testAccountID
	ev["aliyunoriginalaccountid"] = testAccountID
	ev["aliyunregionid"] = testenv.Region
	ev["aliyunpublishtime"] = "2026-11-25T21:04:42.179PRC"
	ev["aliyunpublishaddr"] = "100.104.8.22"
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestOwnFollowUpEventMakesNoECSCall is the loop test: a rule too broad
// for its own good delivers the function's follow-up events back to it.
// They are ignored with a reason, with no ECS call and nothing published.
func TestOwnFollowUpEventMakesNoECSCall(t *testing.T) {
	f := newPublishingFixture(t)
	enis := f.ecs.Instance(t, "i-l1", 2)
	if resp, err := f.invoke(t, "req-first", `{"NetworkInterfaceId":"`+enis[0]+`"}`); err != nil || resp.Published != 1 {
		t.Fatalf("first invocation: %+v %v", resp, err)
	}
	onBus := f.busEvents(t)
	if len(onBus) != 1 {
		t.Fatalf("%d events on the bus", len(onBus))
	}
	published := []byte(onBus[0].Event)

	// Without the guard this would be a detach request: its data names
	// the ENI (field names match case-insensitively).
	if req, err := eventschema.ParseRequest(onBus[0].rawData); err != nil || req.NetworkInterfaceID != enis[0] {
		t.Fatalf("the follow-up's data does not read as a request (%v), so this test would prove nothing", err)
	}
	quoted, _ := json.Marshal(string(published))

	payloads := map[string][]byte{
		"as published":                published,
		"as delivered by a rule":      asDelivered(t, published),
		"in an event-streaming batch": []byte("[" + string(published) + "]"),
		"as a JSON string in a batch": []byte("[" + string(quoted) + "]"),
	}
	goldens, err := filepath.Glob(filepath.Join("..", "eventschema", "testdata", "golden", "*.json"))
	if err != nil || len(goldens) == 0 {
		t.Fatalf("no golden events (%v)", err)
	}
	for _, g := range goldens {
		b, err := os.ReadFile(g)
		if err != nil {
			t.Fatal(err)
		}
		payloads["golden "+filepath.Base(g)] = b
	}

	// Attach the ENI again: acting on its follow-up event now would detach
	// it a second time.
	if err := f.ecs.Srv.UpdateENI(enis[0], func(e *ecsemu.ENI) { e.InstanceID, e.Status = "i-l1", ecsemu.ENIInUse }); err != nil {
		t.Fatal(err)
	}
	for name, payload := range payloads {
		t.Run(name, func(t *testing.T) {
			ecsBefore, ebBefore := len(f.ecs.Srv.Calls()), len(f.eb.Srv.Calls())
			resp, err := f.invoke(t, "req-loop", string(payload))
			if err != nil {
				t.Fatal(err)
			}
			if n := len(f.ecs.Srv.Calls()) - ecsBefore; n != 0 {
				t.Fatalf("%d ECS calls for the function's own event", n)
			}
			if n := len(f.eb.Srv.Calls()) - ebBefore; n != 0 {
				t.Fatalf("%d PutEvents calls for the function's own event", n)
			}
			if len(resp.Results) != 0 || resp.Error != nil || !strings.Contains(resp.Ignored, "own follow-up event") {
				t.Fatalf("response %+v", resp)
			}
		})
	}
	if e := eniNamed(t, f, enis[0]); e.Status != ecsemu.ENIInUse || e.DetachCalls != 1 {
		t.Fatalf("the ENI was acted on again: %+v", e)
	}

	// Control: the same data under a foreign type and source is a detach
	// request, so only the guard kept the events above from looping.
	var foreign map[string]any
	if err := json.Unmarshal(published, &foreign); err != nil {
		t.Fatal(err)
	}
	foreign["type"], foreign["source"], foreign["id"] = "ops:DetachRequested", "ops.tools", "evt-control"
	payload, _ := json.Marshal(foreign)
	resp, err := f.invoke(t, "req-control", string(payload))
	if err != nil || len(resp.Results) != 1 || resp.Results[0].Outcome != eventschema.OutcomeDetached {
		t.Fatalf("control: %+v %v", resp, err)
	}
	if e := eniNamed(t, f, enis[0]); e.DetachCalls != 2 {
		t.Fatalf("control: %d detach calls", e.DetachCalls)
	}
	if !strings.Contains(f.logs.String(), `"message":"event ignored"`) {
		t.Fatal("ignored events are not logged")
	}
}

// TestOwnFollowUpInABatchIsSkippedAlone: the other elements proceed.
func TestOwnFollowUpInABatchIsSkippedAlone(t *testing.T) {
	golden, err := os.ReadFile(filepath.Join("..", "eventschema", "testdata", "golden", "pending.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev eventschema.FollowUpEvent
	if err := json.Unmarshal(golden, &ev); err != nil {
		t.Fatal(err)
	}
	f := newPublishingFixture(t)
	eni := f.ecs.Instance(t, "i-l2", 1)[0]
	resp, err := f.invoke(t, "req-mixed", `[`+string(golden)+`,{"NetworkInterfaceId":"`+eni+`"}]`)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Results) != 1 || resp.Results[0].NetworkInterfaceID != eni || resp.Published != 1 {
		t.Fatalf("response %+v", resp)
	}
	for _, c := range f.ecs.Srv.Calls() {
		for _, v := range c.Params {
			if v == ev.Data.NetworkInterfaceID || v == ev.Data.InstanceID {
				t.Fatalf("an ECS call about the follow-up's ENI: %+v", c.Params)
			}
		}
	}
}

// TestEventFromOwnSourceIsIgnored: with EVENT_SOURCE set, any event from
// that source is the function's own, whatever its type.
func TestEventFromOwnSourceIsIgnored(t *testing.T) {
	const own = "custom.eni-detach"
	f := newPublishingFixture(t, func(d *handler.Deps) { d.Config.EventSource = own })
	eni := f.ecs.Instance(t, "i-l3", 1)[0]
	event := func(source string) string {
		return `{"specversion":"1.0","id":"evt-1","source":"` + source + `","type":"ops:DetachRequested",` +
			`"datacontenttype":"application/json","data":{"NetworkInterfaceId":"` + eni + `"}}`
	}
	resp, err := f.invoke(t, "req-own", event(own))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.ecs.Srv.Calls()); n != 0 || len(resp.Results) != 0 || !strings.Contains(resp.Ignored, "EVENT_SOURCE") {
		t.Fatalf("%d ECS calls, response %+v", n, resp)
	}
	if n := len(f.eb.Srv.Calls()); n != 0 {
		t.Fatalf("%d PutEvents calls", n)
	}

	// The same event from another source is a real request; its follow-up
	// carries the configured source, which closes the loop above.
	resp, err = f.invoke(t, "req-other", event("ops.tools"))
	if err != nil || len(resp.Results) != 1 || resp.Results[0].Outcome != eventschema.OutcomeDetached {
		t.Fatalf("response %+v %v", resp, err)
	}
	evs := f.busEvents(t)
	if len(evs) != 1 || evs[0].ev.Source != own {
		t.Fatalf("follow-up events %+v", evs)
	}
}

func eniNamed(t *testing.T, f *pubFixture, id string) ecsemu.ENI {
	t.Helper()
	for _, e := range f.ecs.Srv.ENIs() {
		if e.ID == id {
			return e
		}
	}
	t.Fatalf("no ENI %s in the emulator", id)
	return ecsemu.ENI{}
}

// TestEventFromDefaultSourceIsIgnored: with EVENT_SOURCE unset, the
// follow-up events' source is the function's ARN, known per invocation
// from the FC context (or FC_REGION / FC_ACCOUNT_ID / FC_FUNCTION_NAME);
// an event from it is the function's own, whatever its type.
func TestEventFromDefaultSourceIsIgnored(t *testing.T) {
	const arn = "acs:fc:" + testenv.Region + ":1234567890123456:functions/eni-detach"
	fallback := map[string]string{"FC_REGION": testenv.Region, "FC_ACCOUNT_ID": "1234567890123456", "FC_FUNCTION_NAME": "eni-detach"}
	f := newPublishingFixture(t, func(d *handler.Deps) { d.Getenv = func(k string) string { return fallback[k] } })
	if f.cfg.EventSource != "" {
		t.Fatalf("EVENT_SOURCE %q: this test is about it being unset", f.cfg.EventSource)
	}
	eni := f.ecs.Instance(t, "i-l4", 1)[0]
	event := func(source string) string {
		return `{"specversion":"1.0","id":"evt-1","source":"` + source + `","type":"ops:DetachRequested",` +
			`"datacontenttype":"application/json","data":{"NetworkInterfaceId":"` + eni + `"}}`
	}
	// invokeAs runs one invocation for the named function; "" leaves the
	// function out of the FC context, as a runtime that sends no
	// x-fc-function-name / x-fc-region / x-fc-account-id would.
	invokeAs := func(t *testing.T, function, requestID, payload string) eventschema.Response {
		t.Helper()
		c := f.ecs.Creds
		fc := &fccontext.FcContext{RequestID: requestID, Credentials: fccontext.Credentials{
			AccessKeyId: c.AccessKeyID, AccessKeySecret: c.AccessKeySecret, SecurityToken: c.SecurityToken}}
		if function != "" {
			fc.Region, fc.AccountId, fc.Function = testenv.Region, "1234567890123456", fccontext.Function{Name: function}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		out, err := f.h.Invoke(fccontext.NewContext(ctx, fc), []byte(payload))
		if err != nil {
			t.Fatal(err)
		}
		return asResponse(t, out)
	}
	ignored := func(t *testing.T, resp eventschema.Response) {
		t.Helper()
		if n := len(f.ecs.Srv.Calls()); n != 0 || len(resp.Results) != 0 || !strings.Contains(resp.Ignored, `"`+arn+`" is this function's own`) {
			t.Fatalf("%d ECS calls, response %+v", n, resp)
		}
		if n := len(f.eb.Srv.Calls()); n != 0 {
			t.Fatalf("%d PutEvents calls", n)
		}
	}
	t.Run("ARN from the FC context", func(t *testing.T) {
		ignored(t, invokeAs(t, "eni-detach", "req-ctx", event(arn)))
	})
	t.Run("ARN from FC_REGION, FC_ACCOUNT_ID, FC_FUNCTION_NAME", func(t *testing.T) {
		ignored(t, invokeAs(t, "", "req-env", event(arn)))
	})
	// Per invocation: for another function the same event is not its own.
	t.Run("another function acts on it", func(t *testing.T) {
		resp := invokeAs(t, "eni-detach-b", "req-other-fn", event(arn))
		if len(resp.Results) != 1 || resp.Results[0].Outcome != eventschema.OutcomeDetached {
			t.Fatalf("response %+v", resp)
		}
		evs := f.busEvents(t)
		if len(evs) != 1 || evs[0].ev.Source != "acs:fc:"+testenv.Region+":1234567890123456:functions/eni-detach-b" {
			t.Fatalf("follow-up events %+v", evs)
		}
	})
}
