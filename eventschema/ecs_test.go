package eventschema

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "ecs", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fixtureOutcomes is what each fixture of testdata/ecs asks for: the items it
// holds, and for each fixture either acted on (eni: the ENI it names, "" for
// the whole instance) or ignored with a reason containing ignored.
var fixtureOutcomes = []struct {
	file    string
	items   int
	ignored string
	eni     string
}{
	{file: "preemptible-interruption.json", items: 1},
	{file: "statechange-stopping.json", items: 1},
	{file: "statechange-stopped.json", items: 1},
	{file: "maintenance-scheduled-near.json", items: 1},
	{file: "maintenance-inquiring.json", items: 1},
	{file: "maintenance-executing.json", items: 1},
	{file: "maintenance-reboot-isolate-disk.json", items: 1},
	{file: "failure-executing.json", items: 1},
	{file: "instance-failure-reboot.json", items: 1},
	{file: "custom-request.json", items: 1, eni: "eni-bp1fixture0000000001"},
	{file: "batch-objects.json", items: 2},
	{file: "batch-strings.json", items: 2},
	{file: "ignored-statechange-running.json", items: 1, ignored: `instance state "Running" is not Stopping or Stopped`},
	{file: "ignored-maintenance-executed.json", items: 1, ignored: `has status "Executed"`},
	{file: "ignored-maintenance-scheduled-far.json", items: 1,
		ignored: `is Scheduled with notBefore "2099-10-18T16:00:00Z", more than MAINTENANCE_LEAD 10m0s ahead: acting when it executes`},
	{file: "ignored-maintenance-isolate-error-disk.json", items: 1, ignored: "touches only a disk"},
	{file: "ignored-maintenance-reinit-error-disk.json", items: 1, ignored: "touches only a disk"},
	{file: "ignored-maintenance-clean-released-disks.json", items: 1, ignored: "touches only a disk"},
	{file: "ignored-disk-event.json", items: 1, ignored: "is not one this function acts on"},
	{file: "ignored-followup.json", items: 1, ignored: "own follow-up event"},
}

// TestECSFixtures recognises every fixture with the default lead, today:
// the instance it names for the acted-on ones, the reason for the ignored
// ones. The fixtures are static, so their meaning must not depend on when
// the test runs (testdata/ecs/README.md).
func TestECSFixtures(t *testing.T) {
	const inst = "i-bp1fixture0000000001"
	files, err := filepath.Glob(filepath.Join("testdata", "ecs", "*.json"))
	if err != nil || len(files) != len(fixtureOutcomes) {
		t.Fatalf("%d fixture files, %d in the table (%v)", len(files), len(fixtureOutcomes), err)
	}
	rc := Recogniser{MaintenanceLead: 10 * time.Minute}
	for _, tc := range fixtureOutcomes {
		t.Run(tc.file, func(t *testing.T) {
			rec, err := rc.Recognise(readFixture(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if len(rec.Items) != tc.items {
				t.Fatalf("%d items, want %d", len(rec.Items), tc.items)
			}
			for _, it := range rec.Items {
				if it.Trigger.Kind != TriggerEventBridge || it.Trigger.EventID == "" || it.Trigger.EventType == "" {
					t.Fatalf("trigger %+v", it.Trigger)
				}
				if it.EventRegion != "cn-hangzhou" || it.AccountID != "1234567890123456" {
					t.Fatalf("region/account %q/%q", it.EventRegion, it.AccountID)
				}
				if tc.ignored != "" {
					if it.Actionable() || !strings.Contains(it.Ignored, tc.ignored) {
						t.Fatalf("want ignored with %q, got %+v", tc.ignored, it)
					}
					continue
				}
				if !it.Actionable() || it.Request.InstanceID != inst || it.Request.NetworkInterfaceID != tc.eni {
					t.Fatalf("item %+v", it)
				}
			}
		})
	}
}

// TestNearScheduledFixtureActsSoonAndLate: the near-Scheduled fixtures are
// acted on when they arrive (notBefore a few minutes ahead) and on any
// later day (notBefore past), and not with MAINTENANCE_LEAD 0.
func TestNearScheduledFixtureActsSoonAndLate(t *testing.T) {
	for _, file := range []string{"maintenance-scheduled-near.json", "maintenance-inquiring.json"} {
		var ev CloudEvent
		if err := json.Unmarshal(readFixture(t, file), &ev); err != nil {
			t.Fatal(err)
		}
		var d ECSSystemEventData
		if err := json.Unmarshal(ev.Data, &d); err != nil {
			t.Fatal(err)
		}
		published, err1 := time.Parse(time.RFC3339, d.PublishTime)
		notBefore, err2 := time.Parse(time.RFC3339, d.NotBefore)
		if err1 != nil || err2 != nil || notBefore.Sub(published) <= 0 || notBefore.Sub(published) > 10*time.Minute {
			t.Fatalf("%s: publishTime %s, notBefore %s: want notBefore within 10m after publishing", file, d.PublishTime, d.NotBefore)
		}
		for _, at := range []time.Time{published, notBefore, notBefore.Add(time.Hour), time.Now()} {
			rc := Recogniser{MaintenanceLead: 10 * time.Minute, Now: func() time.Time { return at }}
			rec, err := rc.Recognise(readFixture(t, file))
			if err != nil || !rec.Items[0].Actionable() {
				t.Errorf("%s at %s: %+v %v, want acted on", file, at, rec.Items, err)
			}
		}
		rc := Recogniser{MaintenanceLead: 0, Now: func() time.Time { return published }}
		rec, err := rc.Recognise(readFixture(t, file))
		if err != nil || rec.Items[0].Actionable() || !strings.Contains(rec.Items[0].Ignored, "MAINTENANCE_LEAD is 0") {
			t.Errorf("%s with lead 0: %+v %v, want ignored", file, rec.Items, err)
		}
	}
}

// TestCloudEventRoundTrip decodes each envelope and encodes it again: no
// field may be lost or renamed.
func TestCloudEventRoundTrip(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "ecs", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("fixtures: %v %v", files, err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		if strings.HasPrefix(name, "batch-") {
			continue
		}
		t.Run(name, func(t *testing.T) {
			raw := readFixture(t, name)
			var ev CloudEvent
			if err := json.Unmarshal(raw, &ev); err != nil {
				t.Fatal(err)
			}
			out, err := json.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			var a, b map[string]any
			if err := json.Unmarshal(raw, &a); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(out, &b); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("round trip changed the envelope:\n in: %v\nout: %v", a, b)
			}
		})
	}
}

func TestECSDecisions(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		typ, data string
		instance  string
		ignored   bool
		field     string
	}{
		{TypeECSStateChange, `{"resourceId":"i-a","state":"Stopped"}`, "i-a", false, ""},
		{TypeECSStateChange, `{"resourceId":"i-a","state":"Starting"}`, "", true, ""},
		{TypeECSStateChange, `{"state":"Stopping"}`, "", false, "data.resourceId"},
		{TypeECSStateChange, `"{\"resourceId\":\"i-a\",\"state\":\"Stopping\"}"`, "i-a", false, ""},
		{TypeECSPreemptibleInterruption, `{"instanceId":"i-b","action":"delete"}`, "i-b", false, ""},
		{TypeECSPreemptibleInterruption, `{"instanceId":"I-B"}`, "", false, "data.instanceId"},
		{TypeECSFailureRedeploy, `{"instanceId":"i-c","eventStatus":"Scheduled"}`, "i-c", false, ""},
		{TypeECSFailureRedeploy, `{"instanceId":"i-c","eventStatus":"Scheduled","notBefore":"2026-05-01T12:30:00Z"}`, "", true, ""},
		{TypeECSMaintenanceStop, `{"instanceId":"i-c","eventStatus":"Canceled"}`, "", true, ""},
		{TypeECSMaintenanceStop, `[1]`, "", false, "data"},
		{TypeECSMaintenanceStop, `{"eventStatus":"Executing"}`, "", false, "data.instanceId"},
		// Ignored events are not checked further: no instance needed.
		{TypeECSMaintenanceStop, `{"eventStatus":"Executed"}`, "", true, ""},
		{TypeECSInstanceFailureReboot, `{"instanceId":"i-c","eventStatus":"Executing"}`, "i-c", false, ""},
		{TypeECSMaintenanceIsolateErrorDisk, `{"instanceId":"i-c","eventStatus":"Executing"}`, "", true, ""},
		{TypeECSMaintenanceIsolateErrorDisk, `[1]`, "", true, ""},
		{"ecs:Instance:SystemMaintenance.Unheard", `{"instanceId":"i-c","eventStatus":"Executing"}`, "", true, ""},
	}
	for _, tc := range tests {
		d := decideECS(CloudEvent{Type: tc.typ, Data: json.RawMessage(tc.data)}, now, 10*time.Minute)
		switch {
		case tc.field != "":
			if d.err == nil || d.err.Fields[0].Field != tc.field {
				t.Errorf("%s %s: want error on %s, got %+v", tc.typ, tc.data, tc.field, d)
			}
		case tc.ignored:
			if d.ignored == "" || d.instanceID != "" || d.err != nil {
				t.Errorf("%s %s: want ignored, got %+v", tc.typ, tc.data, d)
			}
		default:
			if d.instanceID != tc.instance || d.err != nil || d.ignored != "" {
				t.Errorf("%s %s: got %+v", tc.typ, tc.data, d)
			}
		}
	}
}

func FuzzECSEvent(f *testing.F) {
	for _, name := range []string{"statechange-stopping.json", "preemptible-interruption.json", "maintenance-scheduled-near.json",
		"ignored-maintenance-scheduled-far.json", "maintenance-inquiring.json", "ignored-maintenance-isolate-error-disk.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", "ecs", name))
		if err != nil {
			f.Fatal(err)
		}
		var ev CloudEvent
		if err := json.Unmarshal(b, &ev); err != nil {
			f.Fatal(err)
		}
		f.Add(ev.Type, []byte(ev.Data), int64(0), int64(10*time.Minute))
	}
	f.Fuzz(func(t *testing.T, typ string, data []byte, nowUnix, lead int64) {
		d := decideECS(CloudEvent{Type: typ, Data: data}, time.Unix(nowUnix, 0), time.Duration(lead))
		n := 0
		if d.instanceID != "" {
			n++
			if !ValidInstanceID(d.instanceID) {
				t.Fatalf("acted on a malformed instance id %q", d.instanceID)
			}
		}
		if d.ignored != "" {
			n++
		}
		if d.err != nil {
			n++
		}
		if n != 1 {
			t.Fatalf("want exactly one of instance/ignored/err, got %+v", d)
		}
		if d.instanceID == "" || !slices.Contains(SystemEventTypes(), typ) {
			return
		}
		// A system event is acted on only when executing, or due soon.
		var sd ECSSystemEventData
		if err := decodeData(data, &sd); err != nil {
			t.Fatalf("acted on undecodable data: %v", err)
		}
		switch sd.EventStatus {
		case EventStatusExecuting:
		case EventStatusScheduled, EventStatusInquiring:
			if lead <= 0 {
				t.Fatalf("acted on %s with lead %d", sd.EventStatus, lead)
			}
			if at, ok := parseNotBefore(sd.NotBefore); ok && at.After(time.Unix(nowUnix, 0).Add(time.Duration(lead))) {
				t.Fatalf("acted on %s due %s, beyond now %d + lead %d", sd.EventStatus, sd.NotBefore, nowUnix, lead)
			}
		default:
			t.Fatalf("acted on status %q", sd.EventStatus)
		}
	})
}
