package eventschema_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/eni-detach/eni-detach/eventschema"
	"github.com/eni-detach/eni-detach/eventschema/schema"
	"github.com/eni-detach/eni-detach/internal/eventpattern"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the current code")

const (
	goldenSource  = "acs:fc:cn-hangzhou:1234567890123456:functions/eni-detach"
	goldenBus     = "eni-detach"
	goldenAccount = "1234567890123456"
	goldenMember  = "2234567890123456"
)

// eventIDRule is EventBridge's rule for event ids (README "Envelope", `id`).
var eventIDRule = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,127}$`)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

// goldenResults are one fixed result per event type, shaped like what the
// engine produces for the three paths: an ECS event detached, an HTTP
// request with Wait false, and a direct request naming a primary ENI.
func goldenResults() map[string]eventschema.Result {
	return map[string]eventschema.Result{
		// An ECS event of a member account, acted on by the central
		// function: source is the function's, subject and data the member's.
		"detached": {
			AccountID: goldenMember, RegionID: "cn-hangzhou", NetworkInterfaceID: "eni-bp1golden0000000001", InstanceID: "i-bp1golden0000000001",
			Outcome: eventschema.OutcomeDetached, Status: eventschema.StatusAvailable, PreviousStatus: eventschema.StatusInUse,
			DetachAttempts: 1,
			RequestIDs: []string{"7C2B3A10-2F4E-4D1B-9E8A-5B6C7D8E9F01", "0A1B2C3D-4E5F-4061-8293-A4B5C6D7E8F9",
				"5D6E7F80-9A1B-4C2D-8E3F-405162738495"},
			StartedAt: at("2026-11-25T08:15:30.125Z"), FinishedAt: at("2026-11-25T08:15:32.631Z"), DurationMs: 2506,
			Trigger: eventschema.Trigger{Kind: eventschema.TriggerEventBridge, EventID: "6a1b3c5e-0f2d-4b8a-9c71-3e5f7a9b1d20",
				EventType: "ecs:Instance:PreemptibleInstanceInterruption", EventSource: eventschema.SourceECS},
			FCRequestID: "4f3e2d1c-0b9a-4877-a665-544332211000",
		},
		"pending": {
			AccountID: goldenAccount, RegionID: "cn-hangzhou", NetworkInterfaceID: "eni-bp1golden0000000002", InstanceID: "i-bp1golden0000000001",
			Outcome: eventschema.OutcomePending, Status: eventschema.StatusDetaching, PreviousStatus: eventschema.StatusInUse,
			DetachAttempts: 1,
			RequestIDs:     []string{"1E2D3C4B-5A69-4788-96A5-B4C3D2E1F001", "2F3E4D5C-6B7A-4899-A7B6-C5D4E3F20112"},
			StartedAt:      at("2026-11-25T08:16:00Z"), FinishedAt: at("2026-11-25T08:16:00.412Z"), DurationMs: 412,
			Trigger:     eventschema.Trigger{Kind: eventschema.TriggerHTTP, EventID: "1-6745f0a2-15d2c8e1-7a3b9c4d5e6f"},
			FCRequestID: "1-6745f0a2-15d2c8e1-7a3b9c4d5e6f",
		},
		"failed": {
			AccountID: goldenAccount, RegionID: "cn-hangzhou", NetworkInterfaceID: "eni-bp1golden0000000000", InstanceID: "i-bp1golden0000000001",
			Outcome: eventschema.OutcomeConflict, Status: eventschema.StatusInUse, PreviousStatus: eventschema.StatusInUse,
			Error: &eventschema.ErrorInfo{Code: "Guard.PrimaryNetworkInterface",
				Message: "the primary ENI of an instance is never detached"},
			RequestIDs: []string{"3A4B5C6D-7E8F-4901-A2B3-C4D5E6F70819"},
			StartedAt:  at("2026-11-25T08:17:10.003Z"), FinishedAt: at("2026-11-25T08:17:10.091Z"), DurationMs: 88,
			Trigger:     eventschema.Trigger{Kind: eventschema.TriggerDirect},
			FCRequestID: "8c9d0e1f-2a3b-4c5d-8e6f-708192a3b4c5",
		},
	}
}

var goldenTypes = map[string]string{
	"detached": eventschema.TypeDetached,
	"pending":  eventschema.TypeDetachPending,
	"failed":   eventschema.TypeDetachFailed,
}

func marshalEvent(t testing.TB, ev eventschema.FollowUpEvent) []byte {
	t.Helper()
	b, err := json.MarshalIndent(ev, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// TestGoldenFollowUps pins the wire form of one event per type. A change
// to the event shows up as a diff here; if it is intended, regenerate with
// `go test ./eventschema -run Golden -update` and review the diff.
func TestGoldenFollowUps(t *testing.T) {
	for name, r := range goldenResults() {
		t.Run(name, func(t *testing.T) {
			ev, ok := eventschema.NewFollowUp(r, goldenSource, goldenBus)
			if !ok {
				t.Fatalf("no event for outcome %s", r.Outcome)
			}
			if ev.Type != goldenTypes[name] {
				t.Fatalf("type %s, want %s", ev.Type, goldenTypes[name])
			}
			got := marshalEvent(t, ev)
			path := filepath.Join("testdata", "golden", name+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s differs from the code's event (rerun with -update if intended):\n--- got\n%s\n--- want\n%s", path, got, want)
			}
		})
	}
}

// TestGoldensMatchSchema validates the files themselves, so a golden
// regenerated from broken code cannot be accepted by mistake.
func TestGoldensMatchSchema(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(goldenTypes) {
		t.Fatalf("%d golden files, want %d: %v", len(files), len(goldenTypes), files)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := schema.ValidateFollowUpEvent(b); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestNewFollowUpPerOutcome builds the event of every outcome: the type
// follows the README's outcome table ("Outcomes"), the event is schema-valid, and the
// data is the result unchanged.
func TestNewFollowUpPerOutcome(t *testing.T) {
	base := goldenResults()["failed"]
	wantType := map[eventschema.Outcome]string{
		eventschema.OutcomeDetached: eventschema.TypeDetached, eventschema.OutcomeAlreadyDetached: eventschema.TypeDetached,
		eventschema.OutcomePending: eventschema.TypeDetachPending, eventschema.OutcomeDryRun: "",
	}
	for _, o := range eventschema.Outcomes {
		t.Run(string(o), func(t *testing.T) {
			r := base
			r.Outcome = o
			want, listed := wantType[o]
			if !listed {
				want = eventschema.TypeDetachFailed
			}
			ev, ok := eventschema.NewFollowUp(r, goldenSource, goldenBus)
			if ok != (want != "") || ev.Type != want {
				t.Fatalf("event %v %q, want type %q", ok, ev.Type, want)
			}
			if !ok {
				return
			}
			if err := schema.ValidateFollowUpEvent(marshalEvent(t, ev)); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ev.Data, r) {
				t.Fatalf("data %+v, want the result %+v", ev.Data, r)
			}
			if ev.Subject != "acs:ecs:cn-hangzhou:"+goldenAccount+":eni/"+r.NetworkInterfaceID ||
				ev.Source != goldenSource || ev.AliyunEventBusName != goldenBus || ev.SpecVersion != "1.0" ||
				ev.DataContentType != "application/json" || !at(ev.Time).Equal(r.FinishedAt) {
				t.Fatalf("envelope %+v", ev)
			}
		})
	}
	t.Run("a dry run publishes nothing whatever the outcome", func(t *testing.T) {
		r := goldenResults()["detached"]
		r.DryRun = true
		if ev, ok := eventschema.NewFollowUp(r, goldenSource, goldenBus); ok {
			t.Fatalf("event for a dry run: %+v", ev)
		}
	})
	t.Run("a result without an ENI is about its instance", func(t *testing.T) {
		r := goldenResults()["failed"]
		r.NetworkInterfaceID = ""
		ev, ok := eventschema.NewFollowUp(r, goldenSource, goldenBus)
		if !ok || ev.Subject != "acs:ecs:cn-hangzhou:"+goldenAccount+":instance/"+r.InstanceID {
			t.Fatalf("event %v %+v", ok, ev)
		}
		if err := schema.ValidateFollowUpEvent(marshalEvent(t, ev)); err != nil {
			t.Fatal(err)
		}
	})
}

func TestEventID(t *testing.T) {
	const trig, eni = "6a1b3c5e-0f2d-4b8a-9c71-3e5f7a9b1d20", "eni-bp1golden0000000001"
	ref := eventschema.EventID(trig, eni, eventschema.OutcomeDetached)
	if again := eventschema.EventID(trig, eni, eventschema.OutcomeDetached); again != ref {
		t.Fatalf("not deterministic: %s then %s", ref, again)
	}
	t.Run("differs per outcome, ENI and trigger", func(t *testing.T) {
		seen := map[string]string{ref: "reference"}
		add := func(what, id string) {
			if prev, dup := seen[id]; dup {
				t.Fatalf("%s has the id of %s: %s", what, prev, id)
			}
			seen[id] = what
		}
		for _, o := range eventschema.Outcomes {
			if o != eventschema.OutcomeDetached {
				add("outcome "+string(o), eventschema.EventID(trig, eni, o))
			}
		}
		add("another ENI", eventschema.EventID(trig, "eni-bp1golden0000000002", eventschema.OutcomeDetached))
		add("another trigger", eventschema.EventID(trig+"x", eni, eventschema.OutcomeDetached))
		// The separator keeps (trigger, target) pairs apart that would
		// concatenate to the same text.
		add("shifted boundary", eventschema.EventID(trig+"e", strings.TrimPrefix(eni, "e"), eventschema.OutcomeDetached))
	})
	t.Run("readable prefix", func(t *testing.T) {
		if !strings.HasPrefix(ref, eni+"-detached-") {
			t.Fatalf("id %s does not start with the ENI and the outcome", ref)
		}
	})
	odd := []struct{ trigger, target string }{
		{"", ""},
		{"", "eni-x"},
		{"id with spaces/and:colons", "eni-x"},
		{"x", "---eni"},
		{"x", "_é✓"},
		{"x", strings.Repeat("a", 300)},
		{strings.Repeat("-", 200), strings.Repeat("é", 200)},
		{"x", "eni-" + strings.Repeat("-", 70) + "z"},
	}
	for _, tc := range odd {
		for _, o := range eventschema.Outcomes {
			if id := eventschema.EventID(tc.trigger, tc.target, o); !eventIDRule.MatchString(id) {
				t.Fatalf("EventID(%q, %q, %s) = %q breaks EventBridge's rule", tc.trigger, tc.target, o, id)
			}
		}
	}
}

// FuzzEventID: whatever the trigger id, target and outcome, the id obeys
// EventBridge's rule and is a function of its inputs.
func FuzzEventID(f *testing.F) {
	f.Add("6a1b3c5e-0f2d-4b8a-9c71-3e5f7a9b1d20", "eni-bp1golden0000000001", "Detached")
	f.Add("", "", "")
	f.Add("req", "i-abc", "NeedsInstanceStop")
	f.Add("-", "-eni-", "Dry Run")
	f.Add("x", strings.Repeat("é", 100), "Ünknown_Outcome")
	f.Add("x", "eni-a", strings.Repeat("Z", 200))
	f.Fuzz(func(t *testing.T, trigger, target, outcome string) {
		id := eventschema.EventID(trigger, target, eventschema.Outcome(outcome))
		if !eventIDRule.MatchString(id) {
			t.Fatalf("EventID(%q, %q, %q) = %q breaks EventBridge's rule", trigger, target, outcome, id)
		}
		if again := eventschema.EventID(trigger, target, eventschema.Outcome(outcome)); again != id {
			t.Fatalf("not deterministic: %q then %q", id, again)
		}
	})
}

// The rule patterns the README shows (Follow-up events), checked against the golden
// events with the project's EventBridge pattern evaluator.
const (
	patternFailures = `{"source":["acs:fc:cn-hangzhou:1234567890123456:functions/eni-detach"],` +
		`"type":["eni-detach:NetworkInterface:DetachFailed"]}`
	patternEverything = `{"source":["acs:fc:cn-hangzhou:1234567890123456:functions/eni-detach"],` +
		`"type":[{"prefix":"eni-detach:NetworkInterface:"}]}`
	patternNeedsAHuman = `{"source":["acs:fc:cn-hangzhou:1234567890123456:functions/eni-detach"],` +
		`"type":["eni-detach:NetworkInterface:DetachFailed"],` +
		`"data":{"outcome":["NeedsInstanceStop","PermissionDenied","Failed"]}}`
)

func TestDocumentedRulePatterns(t *testing.T) {
	golden := func(name string, edit func(map[string]any)) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", "golden", name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if edit == nil {
			return b
		}
		var ev map[string]any
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Fatal(err)
		}
		edit(ev)
		out, _ := json.Marshal(ev)
		return out
	}
	needsStop := func(ev map[string]any) { ev["data"].(map[string]any)["outcome"] = "NeedsInstanceStop" }
	otherFunction := func(ev map[string]any) { ev["source"] = "acs:fc:cn-hangzhou:1234567890123456:functions/other" }
	tests := []struct {
		pattern string
		event   []byte
		match   bool
	}{
		{patternFailures, golden("failed", nil), true},
		{patternFailures, golden("detached", nil), false},
		{patternFailures, golden("pending", nil), false},
		{patternFailures, golden("failed", otherFunction), false},
		{patternEverything, golden("detached", nil), true},
		{patternEverything, golden("pending", nil), true},
		{patternEverything, golden("failed", nil), true},
		{patternNeedsAHuman, golden("failed", nil), false}, // Conflict: a primary ENI, nothing to do
		{patternNeedsAHuman, golden("failed", needsStop), true},
	}
	for i, tc := range tests {
		got, err := eventpattern.Match([]byte(tc.pattern), tc.event)
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.match {
			t.Errorf("case %d: pattern %s matched=%v, want %v, event %s", i, tc.pattern, got, tc.match, tc.event)
		}
	}
}
