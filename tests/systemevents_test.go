package tests

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/eni-detach/eni-detach/eventschema"
	ecsemu "github.com/eni-detach/eni-detach/internal/emulator/ecs"
)

// The fixtures' instance: the system event fixtures name it.
const fixtureInstance = "i-bp1fixture0000000001"

// ignoredWithoutECS invokes the binary with payload and asserts the answer
// is "ignored" with a reason containing reason, with no ECS call and
// nothing published.
func (e *env) ignoredWithoutECS(t *testing.T, requestID string, payload []byte, reason string) {
	t.Helper()
	ecsBefore, ebBefore := len(e.ecs.Calls()), len(e.eb.EventsForBus(busName))
	resp := response(t, e.invoke(t, requestID, payload))
	if len(resp.Results) != 0 || resp.Error != nil || !strings.Contains(resp.Ignored, reason) {
		t.Errorf("%s: response %+v, want ignored with %q", requestID, resp, reason)
	}
	if n := len(e.ecs.Calls()) - ecsBefore; n != 0 {
		t.Errorf("%s: %d ECS calls for an ignored event", requestID, n)
	}
	if n := len(e.eb.EventsForBus(busName)) - ebBefore; n != 0 {
		t.Errorf("%s: %d events published for an ignored event", requestID, n)
	}
}

// fixtureBytes is a fixture file as is.
func fixtureBytes(t *testing.T, name string) []byte {
	t.Helper()
	return mustJSON(t, readFixture(t, name))
}

// TestSystemEventsActWhenTheInstanceGoesDown: with the default
// MAINTENANCE_LEAD (10m), maintenance scheduled far ahead, disk-only
// maintenance and a finished event make no ECS call and say why; the same
// event due within the lead detaches the instance's ENIs.
func TestSystemEventsActWhenTheInstanceGoesDown(t *testing.T) {
	t.Parallel()
	e := startEnv(t)
	ids := e.instance(t, fixtureInstance, 2)

	e.ignoredWithoutECS(t, "req-far-"+randomHex(4), fixtureBytes(t, "ignored-maintenance-scheduled-far.json"),
		`is Scheduled with notBefore "2099-10-18T16:00:00Z", more than MAINTENANCE_LEAD 10m0s ahead: acting when it executes`)
	in20m := readFixture(t, "maintenance-scheduled-near.json")
	in20m["data"].(map[string]any)["notBefore"] = time.Now().Add(20 * time.Minute).UTC().Format(time.RFC3339)
	e.ignoredWithoutECS(t, "req-20m-"+randomHex(4), mustJSON(t, in20m), "acting when it executes")
	for _, f := range []string{"ignored-maintenance-isolate-error-disk.json", "ignored-maintenance-reinit-error-disk.json",
		"ignored-maintenance-clean-released-disks.json"} {
		e.ignoredWithoutECS(t, "req-disk-"+randomHex(4), fixtureBytes(t, f), "touches only a disk")
	}
	e.ignoredWithoutECS(t, "req-executed-"+randomHex(4), fixtureBytes(t, "ignored-maintenance-executed.json"), `has status "Executed"`)

	in5m := readFixture(t, "maintenance-scheduled-near.json")
	in5m["data"].(map[string]any)["notBefore"] = time.Now().Add(5 * time.Minute).UTC().Format(time.RFC3339)
	resp := response(t, e.invoke(t, "req-5m-"+randomHex(4), mustJSON(t, in5m)))
	if len(resp.Results) != len(ids) || resp.Published != len(ids) {
		t.Fatalf("response %+v, want %d published results", resp, len(ids))
	}
	for _, r := range resp.Results {
		if r.Outcome != eventschema.OutcomeDetached || r.InstanceID != fixtureInstance || r.Trigger.EventType != eventschema.TypeECSMaintenanceReboot {
			t.Errorf("result %+v", r)
		}
	}
	for _, id := range ids {
		if got := e.status(t, id); got != ecsemu.ENIAvailable {
			t.Errorf("%s is %s", id, got)
		}
	}
}

// TestMaintenanceLeadZero: MAINTENANCE_LEAD=0 acts on Executing only.
func TestMaintenanceLeadZero(t *testing.T) {
	t.Parallel()
	e := startEnv(t, "MAINTENANCE_LEAD=0")
	ids := e.instance(t, fixtureInstance, 1)
	e.ignoredWithoutECS(t, "req-near-"+randomHex(4), fixtureBytes(t, "maintenance-scheduled-near.json"), "MAINTENANCE_LEAD is 0")
	e.ignoredWithoutECS(t, "req-inq-"+randomHex(4), fixtureBytes(t, "maintenance-inquiring.json"), "MAINTENANCE_LEAD is 0")
	resp := response(t, e.invoke(t, "req-exec-"+randomHex(4), fixtureBytes(t, "instance-failure-reboot.json")))
	if len(resp.Results) != 1 || resp.Results[0].NetworkInterfaceID != ids[0] || resp.Results[0].Outcome != eventschema.OutcomeDetached {
		t.Fatalf("response %+v", resp)
	}
}

// loopEvent is a custom request (not a follow-up type) from source naming
// the ENI: only the source can keep the function from acting on it.
func loopEvent(t *testing.T, source, eniID string) []byte {
	t.Helper()
	ev, _ := customEvent(t, eniID, "")
	ev["source"], ev["type"] = source, "ops:DetachRequested"
	ev["data"] = map[string]any{"NetworkInterfaceId": eniID}
	return mustJSON(t, ev)
}

// TestLoopGuardWithoutEventSource: with EVENT_SOURCE unset (as s.yaml
// ships), the follow-up events carry the function's ARN, and an event from
// that ARN is never acted on: the ARN comes from the invocation's
// x-fc-function-name / x-fc-region / x-fc-account-id, or from
// FC_FUNCTION_NAME / FC_REGION / FC_ACCOUNT_ID when FC sends none.
func TestLoopGuardWithoutEventSource(t *testing.T) {
	t.Parallel()
	e := startEnv(t)
	ids := e.instance(t, "i-loop"+randomHex(4), 2)
	arn := "acs:fc:" + region + ":" + accountID + ":functions/eni-detach"
	reason := `event source "` + arn + `" is this function's own`

	e.ignoredWithoutECS(t, "req-own-"+randomHex(4), loopEvent(t, arn, ids[0]), reason)

	rid := "req-own-env-" + randomHex(4)
	inv := e.invocation(rid, loopEvent(t, arn, ids[0]))
	inv.WithoutFunctionInfo = true
	ecsBefore := len(e.ecs.Calls())
	res, err := e.fc.Invoke(e.ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	if resp := response(t, res); len(resp.Results) != 0 || !strings.Contains(resp.Ignored, reason) {
		t.Errorf("without function headers: response %+v, want ignored with %q", resp, reason)
	}
	if n := len(e.ecs.Calls()) - ecsBefore; n != 0 {
		t.Errorf("without function headers: %d ECS calls", n)
	}
	if got := e.status(t, ids[0]); got != ecsemu.ENIInUse {
		t.Errorf("%s is %s", ids[0], got)
	}

	// Control: from another source the same request is acted on, and its
	// follow-up event carries the very source the guard compared with.
	resp := response(t, e.invoke(t, "req-other-"+randomHex(4), loopEvent(t, "ops.tools", ids[1])))
	if len(resp.Results) != 1 || resp.Results[0].Outcome != eventschema.OutcomeDetached || resp.Published != 1 {
		t.Fatalf("control: response %+v", resp)
	}
	evs := e.publishedFor(t, ids[1])
	if len(evs) != 1 || evs[0].Source != arn {
		t.Fatalf("control: follow-up events %+v, want one from %s", evs, arn)
	}
	// That follow-up, fed back under a type the type guard does not know,
	// is still refused by its source.
	var back map[string]any
	all, recv := e.published(t)
	for i := range all {
		if all[i].Data.NetworkInterfaceID == ids[1] {
			if err := json.Unmarshal(recv[i].Event, &back); err != nil {
				t.Fatal(err)
			}
		}
	}
	back["type"] = "ops:DetachRequested"
	e.ignoredWithoutECS(t, "req-back-"+randomHex(4), mustJSON(t, back), reason)
}

// TestLoopGuardWithEventSource: with EVENT_SOURCE set, that source is the
// function's own; the function's ARN is then just another source.
func TestLoopGuardWithEventSource(t *testing.T) {
	t.Parallel()
	const own = "custom.eni-detach.followups"
	e := startEnv(t, "EVENT_SOURCE="+own)
	ids := e.instance(t, "i-loopset"+randomHex(4), 1)

	e.ignoredWithoutECS(t, "req-own-"+randomHex(4), loopEvent(t, own, ids[0]), `event source "`+own+`" is this function's own`)

	arn := "acs:fc:" + region + ":" + accountID + ":functions/eni-detach"
	resp := response(t, e.invoke(t, "req-arn-"+randomHex(4), loopEvent(t, arn, ids[0])))
	if len(resp.Results) != 1 || resp.Results[0].Outcome != eventschema.OutcomeDetached {
		t.Fatalf("response %+v", resp)
	}
	if evs := e.publishedFor(t, ids[0]); len(evs) != 1 || evs[0].Source != own {
		t.Fatalf("follow-up events %+v, want one from %s", evs, own)
	}
}
