package deploy_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eni-detach/eni-detach/eventschema"
	"github.com/eni-detach/eni-detach/internal/eventpattern"
)

// The rules shipped (s.yaml's triggers and the custom-bus rule) and the
// recogniser must agree on which ECS events matter: an acted-on event that
// no rule delivers is a silent miss, an ignored type that a rule delivers
// costs an invocation for nothing (and two rules would invoke twice).

// probe is one ECS event tried against the rules and the recogniser.
type probe struct {
	name string
	typ  string
	data map[string]any
}

func (p probe) event(t *testing.T) []byte {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(readFixture(t, "preemptible-interruption.json"), &ev); err != nil {
		t.Fatal(err)
	}
	ev["type"], ev["data"] = p.typ, p.data
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var systemStatuses = []string{
	eventschema.EventStatusScheduled, eventschema.EventStatusInquiring, eventschema.EventStatusExecuting,
	eventschema.EventStatusExecuted, eventschema.EventStatusAvoided, eventschema.EventStatusCanceled, eventschema.EventStatusFailed,
}

func systemProbe(typ, status string) probe {
	return probe{typ + " " + status, typ, map[string]any{
		"eventId": "e-probe", "instanceId": "i-bp1fixture0000000001", "eventStatus": status,
		"eventType": strings.TrimPrefix(typ, "ecs:Instance:"), "executeStartTime": "", "executeFinishTime": "",
	}}
}

// actingProbes: for every type of eventschema.ActedOnTypes, every data
// shape the recogniser acts on (a Scheduled or Inquiring event without
// notBefore is due now).
func actingProbes() []probe {
	var out []probe
	for _, typ := range eventschema.ActedOnTypes() {
		switch typ {
		case eventschema.TypeECSPreemptibleInterruption:
			out = append(out, probe{typ, typ, map[string]any{"instanceId": "i-bp1fixture0000000001", "action": "delete"}})
		case eventschema.TypeECSStateChange:
			for _, st := range []string{"Stopping", "Stopped"} {
				out = append(out, probe{typ + " " + st, typ, map[string]any{"resourceId": "i-bp1fixture0000000001",
					"resourceType": "ALIYUN::ECS::Instance", "state": st}})
			}
		default:
			for _, st := range systemStatuses[:3] {
				out = append(out, systemProbe(typ, st))
			}
		}
	}
	return out
}

// ignoredProbes: ECS events the recogniser ignores whatever the clock:
// other states and statuses of the acted-on types, every status of the
// disk-only types, and types it does not know.
func ignoredProbes() []probe {
	var out []probe
	for _, st := range []string{"Pending", "Starting", "Running", "Deleted"} {
		out = append(out, probe{eventschema.TypeECSStateChange + " " + st, eventschema.TypeECSStateChange,
			map[string]any{"resourceId": "i-bp1fixture0000000001", "resourceType": "ALIYUN::ECS::Instance", "state": st}})
	}
	for _, typ := range eventschema.SystemEventTypes() {
		for _, st := range systemStatuses[3:] {
			out = append(out, systemProbe(typ, st))
		}
	}
	unknown := []string{"ecs:Instance:SystemMaintenance.SomethingNew", "ecs:Instance:SystemFailure.SomethingNew",
		"ecs:Instance:InstanceFailure.Stop", "ecs:Instance:SystemMaintenance.reboot", "ecs:Disk:DiskOperationCompleted"}
	for _, typ := range slices.Concat(eventschema.DiskOnlySystemEventTypes(), unknown) {
		for _, st := range systemStatuses {
			out = append(out, systemProbe(typ, st))
		}
	}
	return out
}

// checkRulesAgainstActedOnTypes returns every disagreement between the
// rules and the recogniser.
func checkRulesAgainstActedOnTypes(t *testing.T, rs map[string]*eventpattern.Pattern) []error {
	t.Helper()
	var errs []error
	rc := eventschema.Recogniser{MaintenanceLead: 10 * time.Minute}
	try := func(p probe, wantActed bool) {
		ev := p.event(t)
		rec, err := rc.Recognise(ev)
		if err != nil || len(rec.Items) != 1 || rec.Items[0].Actionable() != wantActed {
			// The probe itself is wrong: the test would prove nothing.
			t.Fatalf("%s: recogniser answered %+v %v, want acted on = %v", p.name, rec.Items, err, wantActed)
		}
		got := matchingRules(t, rs, ev)
		switch {
		case wantActed && len(got) != 1:
			errs = append(errs, fmt.Errorf("%s: acted on, matched by %v, want exactly one rule", p.name, got))
		case !wantActed && len(got) != 0:
			errs = append(errs, fmt.Errorf("%s: ignored, matched by %v, want none", p.name, got))
		}
	}
	for _, p := range actingProbes() {
		try(p, true)
	}
	for _, p := range ignoredProbes() {
		try(p, false)
	}
	return errs
}

// TestRulesMatchExactlyTheActedOnTypes: every type of
// eventschema.ActedOnTypes, in every shape the recogniser acts on, matches
// exactly one shipped rule; its other states and statuses, the disk-only
// system events and unknown ECS types match none.
func TestRulesMatchExactlyTheActedOnTypes(t *testing.T) {
	if n := len(eventschema.ActedOnTypes()); n != 12 {
		t.Fatalf("%d acted-on types; this test's probes were written for 12", n)
	}
	for _, err := range checkRulesAgainstActedOnTypes(t, rules(t)) {
		t.Error(err)
	}
}

// TestBrokenRulesFailTheActedOnCheck proves the check can fail: each case
// replaces or adds one rule.
func TestBrokenRulesFailTheActedOnCheck(t *testing.T) {
	const statuses = `"data":{"eventStatus":["Scheduled","Inquiring","Executing"]}`
	tests := []struct {
		name, rule, pattern, wantErr string
	}{
		{"maintenance by prefix catches disk-only events", "ecs-system-maintenance",
			`{"source":["acs.ecs"],"type":[{"prefix":"ecs:Instance:SystemMaintenance."}],` + statuses + `}`,
			"ecs:Instance:SystemMaintenance.IsolateErrorDisk Executing: ignored, matched by [ecs-system-maintenance], want none"},
		{"InstanceFailure.Reboot missing", "ecs-system-failure",
			`{"source":["acs.ecs"],"type":["ecs:Instance:SystemFailure.Reboot","ecs:Instance:SystemFailure.Redeploy","ecs:Instance:SystemFailure.Stop","ecs:Instance:SystemFailure.Delete"],` + statuses + `}`,
			"ecs:Instance:InstanceFailure.Reboot Executing: acted on, matched by [], want exactly one rule"},
		{"Inquiring not delivered", "ecs-system-failure",
			`{"source":["acs.ecs"],"type":["ecs:Instance:SystemFailure.Reboot","ecs:Instance:SystemFailure.Redeploy","ecs:Instance:SystemFailure.Stop","ecs:Instance:SystemFailure.Delete","ecs:Instance:InstanceFailure.Reboot"],"data":{"eventStatus":["Scheduled","Executing"]}}`,
			"ecs:Instance:SystemFailure.Delete Inquiring: acted on, matched by [], want exactly one rule"},
		{"Executed delivered", "ecs-system-failure",
			`{"source":["acs.ecs"],"type":["ecs:Instance:SystemFailure.Reboot","ecs:Instance:SystemFailure.Redeploy","ecs:Instance:SystemFailure.Stop","ecs:Instance:SystemFailure.Delete","ecs:Instance:InstanceFailure.Reboot"]}`,
			"ecs:Instance:SystemFailure.Stop Executed: ignored, matched by [ecs-system-failure], want none"},
		{"a second rule for the same events", "ecs-extra",
			`{"source":["acs.ecs"],"type":["ecs:Instance:SystemMaintenance.Stop"]}`,
			"ecs:Instance:SystemMaintenance.Stop Executing: acted on, matched by [ecs-extra ecs-system-maintenance], want exactly one rule"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rs := maps.Clone(rules(t))
			p, err := eventpattern.Compile([]byte(tc.pattern))
			if err != nil {
				t.Fatal(err)
			}
			rs[tc.rule] = p
			errs := checkRulesAgainstActedOnTypes(t, rs)
			var msgs []string
			for _, e := range errs {
				msgs = append(msgs, e.Error())
			}
			if !slices.Contains(msgs, tc.wantErr) {
				t.Errorf("want %q among:\n%s", tc.wantErr, strings.Join(msgs, "\n"))
			}
		})
	}
}
