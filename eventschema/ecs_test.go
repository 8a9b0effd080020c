package eventschema

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "ecs", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestECSFixtures recognises every fixture: the instance it names for the
// acted-on ones, a reason for the ignored ones.
func TestECSFixtures(t *testing.T) {
	const inst = "i-bp1fixture0000000001"
	tests := []struct {
		file    string
		items   int
		ignored bool
		eni     string
	}{
		{"preemptible-interruption.json", 1, false, ""},
		{"statechange-stopping.json", 1, false, ""},
		{"statechange-stopped.json", 1, false, ""},
		{"maintenance-scheduled.json", 1, false, ""},
		{"maintenance-executing.json", 1, false, ""},
		{"failure-executing.json", 1, false, ""},
		{"custom-request.json", 1, false, "eni-bp1fixture0000000001"},
		{"batch-objects.json", 2, false, ""},
		{"batch-strings.json", 2, false, ""},
		{"ignored-statechange-running.json", 1, true, ""},
		{"ignored-maintenance-executed.json", 1, true, ""},
		{"ignored-disk-event.json", 1, true, ""},
		{"ignored-followup.json", 1, true, ""},
	}
	rc := Recogniser{}
	for _, tc := range tests {
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
				if tc.ignored {
					if it.Ignored == "" || it.Actionable() {
						t.Fatalf("want ignored, got %+v", it)
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
		{"ecs:Instance:SystemFailure.Redeploy", `{"instanceId":"i-c","eventStatus":"Scheduled"}`, "i-c", false, ""},
		{"ecs:Instance:SystemMaintenance.Stop", `{"instanceId":"i-c","eventStatus":"Canceled"}`, "", true, ""},
		{"ecs:Instance:SystemMaintenance.Stop", `[1]`, "", false, "data"},
		{"ecs:Instance:InstanceFailure.Reboot", `{"instanceId":"i-c"}`, "", true, ""},
	}
	for _, tc := range tests {
		d := decideECS(CloudEvent{Type: tc.typ, Data: json.RawMessage(tc.data)})
		switch {
		case tc.field != "":
			if d.err == nil || d.err.Fields[0].Field != tc.field {
				t.Errorf("%s %s: want error on %s, got %+v", tc.typ, tc.data, tc.field, d)
			}
		case tc.ignored:
			if d.ignored == "" || d.instanceID != "" {
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
	for _, name := range []string{"statechange-stopping.json", "preemptible-interruption.json", "maintenance-scheduled.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", "ecs", name))
		if err != nil {
			f.Fatal(err)
		}
		var ev CloudEvent
		if err := json.Unmarshal(b, &ev); err != nil {
			f.Fatal(err)
		}
		f.Add(ev.Type, []byte(ev.Data))
	}
	f.Fuzz(func(t *testing.T, typ string, data []byte) {
		d := decideECS(CloudEvent{Type: typ, Data: data})
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
	})
}
