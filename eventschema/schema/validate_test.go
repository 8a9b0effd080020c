package schema_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/eni-detach/eni-detach/eventschema"
	"github.com/eni-detach/eni-detach/eventschema/schema"
)

// TestFollowUpSchemaRejects shows the schema is not vacuous: each edit of
// a valid event is refused.
func TestFollowUpSchemaRejects(t *testing.T) {
	valid, err := os.ReadFile(filepath.Join("..", "testdata", "golden", "failed.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.ValidateFollowUpEvent(valid); err != nil {
		t.Fatal(err)
	}
	type obj = map[string]any
	tests := []struct {
		name string
		edit func(ev, data obj)
	}{
		{"specversion 0.3", func(ev, _ obj) { ev["specversion"] = "0.3" }},
		{"id with an underscore", func(ev, _ obj) { ev["id"] = "eni_1-conflict" }},
		{"id starting with a hyphen", func(ev, _ obj) { ev["id"] = "-eni-1" }},
		{"id of 129 characters", func(ev, _ obj) { ev["id"] = strings.Repeat("a", 129) }},
		{"unknown type", func(ev, _ obj) { ev["type"] = "eni-detach:NetworkInterface:Exploded" }},
		{"type not matching the outcome", func(ev, _ obj) { ev["type"] = eventschema.TypeDetached }},
		{"subject not an ARN", func(ev, _ obj) { ev["subject"] = "eni-bp1golden0000000000" }},
		{"time not RFC 3339", func(ev, _ obj) { ev["time"] = "2026-11-25 08:17:10" }},
		{"datacontenttype", func(ev, _ obj) { ev["datacontenttype"] = "text/plain" }},
		{"missing bus", func(ev, _ obj) { delete(ev, "aliyuneventbusname") }},
		{"unknown attribute", func(ev, _ obj) { ev["partitionkey"] = "x" }},
		{"source over 128", func(ev, _ obj) { ev["source"] = strings.Repeat("s", 129) }},
		{"unknown outcome", func(_, data obj) { data["outcome"] = "Exploded" }},
		{"dry-run outcome published", func(_, data obj) { data["outcome"] = "DryRun" }},
		{"dryRun true", func(_, data obj) { data["dryRun"] = true }},
		{"unknown status", func(_, data obj) { data["status"] = "Gone" }},
		{"unknown data member", func(_, data obj) { data["zone"] = "cn-hangzhou-h" }},
		{"missing requestIds", func(_, data obj) { delete(data, "requestIds") }},
		{"requestIds null", func(_, data obj) { data["requestIds"] = nil }},
		{"negative duration", func(_, data obj) { data["durationMs"] = -1 }},
		{"fractional attempts", func(_, data obj) { data["detachAttempts"] = 1.5 }},
		{"no ENI and no instance", func(_, data obj) { delete(data, "networkInterfaceId"); delete(data, "instanceId") }},
		{"malformed ENI id", func(_, data obj) { data["networkInterfaceId"] = "ENI-1" }},
		{"failure without error", func(_, data obj) { delete(data, "error") }},
		{"error without code", func(_, data obj) { delete(data["error"].(obj), "code") }},
		{"error member unknown", func(_, data obj) { data["error"].(obj)["stack"] = "…" }},
		{"trigger kind", func(_, data obj) { data["trigger"].(obj)["kind"] = "sms" }},
		{"startedAt not a time", func(_, data obj) { data["startedAt"] = "yesterday" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ev obj
			if err := json.Unmarshal(valid, &ev); err != nil {
				t.Fatal(err)
			}
			tc.edit(ev, ev["data"].(obj))
			b, err := json.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			if err := schema.ValidateFollowUpEvent(b); err == nil {
				t.Fatalf("accepted: %s", b)
			}
		})
	}
	t.Run("not JSON", func(t *testing.T) {
		if err := schema.ValidateFollowUpEvent([]byte(`{"specversion":`)); err == nil {
			t.Fatal("accepted")
		}
	})
}

// TestDeliveredFollowUpMatchesSchema: a follow-up event as a target
// receives it, with the aliyun* attributes EventBridge adds, is valid.
func TestDeliveredFollowUpMatchesSchema(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "testdata", "ecs", "ignored-followup.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.ValidateFollowUpEvent(b); err != nil {
		t.Fatal(err)
	}
}

func TestRequestSchema(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		valid   bool // by the schema
	}{
		{"eni", `{"NetworkInterfaceId":"eni-bp1abc"}`, true},
		{"instance", `{"InstanceId":"i-bp1abc"}`, true},
		{"everything", `{"RegionId":"cn-hangzhou","NetworkInterfaceId":"eni-bp1abc","InstanceId":"i-bp1abc",
			"TrunkNetworkInstanceId":"eni-bp1trunk","DryRun":true,"Wait":false}`, true},
		{"no target", `{"RegionId":"cn-hangzhou"}`, false},
		{"empty", `{}`, false},
		{"malformed eni", `{"NetworkInterfaceId":"ENI-1"}`, false},
		{"malformed instance", `{"InstanceId":"instance-1"}`, false},
		{"bad region", `{"NetworkInterfaceId":"eni-a","RegionId":"mars"}`, false},
		{"wait as a string", `{"NetworkInterfaceId":"eni-a","Wait":"no"}`, false},
		{"account", `{"InstanceId":"i-a","AccountId":"2234567890123456"}`, true},
		{"account of 15 digits", `{"InstanceId":"i-a","AccountId":"223456789012345"}`, false},
		{"account as a number", `{"InstanceId":"i-a","AccountId":2234567890123456}`, false},
		// The code is more lenient than the canonical form.
		{"lower-case names", `{"networkinterfaceid":"eni-a"}`, false},
		{"unknown field", `{"NetworkInterfaceId":"eni-a","Comment":"x"}`, false},
		{"not an object", `["eni-a"]`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := schema.ValidateRequest([]byte(tc.payload))
			if (err == nil) != tc.valid {
				t.Fatalf("schema says %v, want valid=%v", err, tc.valid)
			}
			if tc.valid {
				if _, err := eventschema.ParseRequest([]byte(tc.payload)); err != nil {
					t.Fatalf("schema-valid request refused by the code: %v", err)
				}
			}
		})
	}
}

// FuzzRequestSchema: every request the schema accepts, the code accepts,
// with the same values (the schema is the canonical, stricter form).
func FuzzRequestSchema(f *testing.F) {
	f.Add(`{"NetworkInterfaceId":"eni-bp1abc"}`)
	f.Add(`{"InstanceId":"i-a","Wait":false,"DryRun":true,"RegionId":"ap-southeast-1"}`)
	f.Add(`{"NetworkInterfaceId":"eni-a","NetworkInterfaceId":"eni-b"}`)
	f.Add(`{"NetworkInterfaceId":"eni-\u0061"}`)
	f.Add(`{"TrunkNetworkInstanceId":"eni-t","InstanceId":"i-x"}`)
	f.Add(`{"InstanceId":"i-x","AccountId":"2234567890123456"}`)
	f.Fuzz(func(t *testing.T, payload string) {
		if schema.ValidateRequest([]byte(payload)) != nil {
			return
		}
		r, err := eventschema.ParseRequest([]byte(payload))
		if err != nil {
			t.Fatalf("schema-valid request refused by the code: %v: %s", err, payload)
		}
		var canonical eventschema.Request
		if err := json.Unmarshal([]byte(payload), &canonical); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(r, canonical) {
			t.Fatalf("parsed %+v, the canonical reading is %+v: %s", r, canonical, payload)
		}
	})
}

// TestValidateConcurrently: the compiled schemas are shared by every
// caller (run with -race).
func TestValidateConcurrently(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "golden", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden events (%v)", err)
	}
	var events [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, b)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8*2*len(events))
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, b := range events {
				errs <- schema.ValidateFollowUpEvent(b)
				errs <- schema.ValidateRequest([]byte(`{"NetworkInterfaceId":"eni-a"}`))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}
