package eventschema_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	. "github.com/eni-detach/eni-detach/eventschema"
)

// statusCase is one row of the status axis of the system event table: the
// status and notBefore an event carries, relative to the test's clock.
type statusCase struct {
	name      string
	status    string
	notBefore string // "" = absent
	// acted: acted on with the default lead (10m); with lead 0 only
	// Executing is.
	acted bool
	// reason is a substring of the ignore reason with the default lead.
	reason string
}

var (
	tableNow = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	soon     = tableNow.Add(5 * time.Minute).Format(time.RFC3339)
	far      = tableNow.Add(72 * time.Hour).Format(time.RFC3339)
	past     = tableNow.Add(-time.Hour).Format(time.RFC3339)
)

var statusCases = []statusCase{
	{"Scheduled near", EventStatusScheduled, soon, true, ""},
	{"Scheduled at the lead", EventStatusScheduled, tableNow.Add(10 * time.Minute).Format(time.RFC3339), true, ""},
	{"Scheduled near (PRC form)", EventStatusScheduled, tableNow.Add(5*time.Minute).In(time.FixedZone("", 8*3600)).Format("2006-01-02T15:04:05.000") + "PRC", true, ""},
	{"Scheduled past", EventStatusScheduled, past, true, ""},
	{"Scheduled without notBefore", EventStatusScheduled, "", true, ""},
	{"Scheduled, notBefore unparsable", EventStatusScheduled, "next Tuesday", true, ""},
	{"Scheduled just past the lead", EventStatusScheduled, tableNow.Add(10*time.Minute + time.Second).Format(time.RFC3339), false,
		"more than MAINTENANCE_LEAD 10m0s ahead: acting when it executes"},
	{"Scheduled far", EventStatusScheduled, far, false,
		"is Scheduled with notBefore \"" + far + "\", more than MAINTENANCE_LEAD 10m0s ahead: acting when it executes"},
	{"Scheduled far (minute form)", EventStatusScheduled, tableNow.Add(72 * time.Hour).Format("2006-01-02T15:04Z07:00"), false,
		"acting when it executes"},
	{"Inquiring near", EventStatusInquiring, soon, true, ""},
	{"Inquiring without notBefore", EventStatusInquiring, "", true, ""},
	{"Inquiring far", EventStatusInquiring, far, false,
		"is Inquiring with notBefore \"" + far + "\", more than MAINTENANCE_LEAD 10m0s ahead: acting when it executes"},
	{"Executing", EventStatusExecuting, past, true, ""},
	{"Executing, notBefore far", EventStatusExecuting, far, true, ""},
	{"Executed", EventStatusExecuted, past, false, `has status "Executed"`},
	{"Avoided", EventStatusAvoided, soon, false, `has status "Avoided"`},
	{"Canceled", EventStatusCanceled, soon, false, `has status "Canceled"`},
	{"Failed", EventStatusFailed, past, false, `has status "Failed"`},
	{"no status", "", soon, false, `has status ""`},
}

const unknownSystemEventType = "ecs:Instance:SystemMaintenance.SomethingNew"

// tableTypes is the type axis: every acted-on system event type, every
// disk-only one, and one ECS type nobody told the function about.
func tableTypes() []string {
	return slices.Concat(SystemEventTypes(), DiskOnlySystemEventTypes(), []string{unknownSystemEventType})
}

func systemEvent(typ string, sc statusCase) []byte {
	data := map[string]string{"eventId": "e-table", "instanceId": "i-bp1table0001", "eventType": strings.TrimPrefix(typ, "ecs:Instance:"),
		"eventStatus": sc.status}
	if sc.notBefore != "" {
		data["notBefore"] = sc.notBefore
	}
	b, _ := json.Marshal(map[string]any{"specversion": "1.0", "id": "evt-table", "source": SourceECS, "type": typ, "data": data})
	return b
}

// answer is what the recogniser makes of one table cell.
func answer(t *testing.T, typ string, sc statusCase, lead time.Duration) Item {
	t.Helper()
	rc := Recogniser{MaintenanceLead: lead, Now: func() time.Time { return tableNow }}
	rec, err := rc.Recognise(systemEvent(typ, sc))
	if err != nil || len(rec.Items) != 1 {
		t.Fatalf("%s / %s: %v %+v", typ, sc.name, err, rec)
	}
	return rec.Items[0]
}

// TestSystemEventTable runs every system event type against every status
// (Scheduled near / far / past / without or with an unparsable notBefore,
// Inquiring, Executing, Executed, Avoided, Canceled, Failed), with the
// default lead and with MAINTENANCE_LEAD 0.
func TestSystemEventTable(t *testing.T) {
	for _, typ := range tableTypes() {
		for _, sc := range statusCases {
			t.Run(typ+"/"+sc.name, func(t *testing.T) {
				instanceDown := slices.Contains(SystemEventTypes(), typ)
				for _, lead := range []time.Duration{10 * time.Minute, 0} {
					it := answer(t, typ, sc, lead)
					wantActed := instanceDown && (sc.acted && (lead > 0 || sc.status == EventStatusExecuting))
					var wantReason string
					switch {
					case wantActed:
					case slices.Contains(DiskOnlySystemEventTypes(), typ):
						wantReason = "touches only a disk; the instance keeps running"
					case !instanceDown:
						wantReason = "is not one this function acts on"
					case lead == 0 && (sc.status == EventStatusScheduled || sc.status == EventStatusInquiring):
						wantReason = "MAINTENANCE_LEAD is 0 (only Executing is acted on): acting when it executes"
					default:
						wantReason = sc.reason
					}
					if wantActed {
						if !it.Actionable() || it.Request.InstanceID != "i-bp1table0001" {
							t.Errorf("lead %v: want acted on, got %+v", lead, it)
						}
						continue
					}
					if it.Actionable() || it.Err != nil || !strings.Contains(it.Ignored, wantReason) {
						t.Errorf("lead %v: want ignored with %q, got %+v", lead, wantReason, it)
					}
					if !strings.Contains(it.Ignored, `"`+typ+`"`) {
						t.Errorf("lead %v: reason %q does not name the type", lead, it.Ignored)
					}
					if sc.status != "" && instanceDown && !strings.Contains(it.Ignored, sc.status) {
						t.Errorf("lead %v: reason %q does not name the status", lead, it.Ignored)
					}
				}
			})
		}
	}
}

// TestSystemEventTableGolden writes the whole table, as the recogniser
// answers it, to testdata/golden/system-events.md: the reviewable record of
// what every type and status does. Types of one group answer alike but for
// their name, so the file shows each group once, with {type} for the name,
// and the test checks every member against it. Regenerate with
// `go test ./eventschema -run SystemEventTableGolden -update`.
func TestSystemEventTableGolden(t *testing.T) {
	groups := []struct {
		title string
		types []string
	}{
		{"instance-down types: " + strings.Join(SystemEventTypes(), ", "), SystemEventTypes()},
		{"disk-only types: " + strings.Join(DiskOnlySystemEventTypes(), ", "), DiskOnlySystemEventTypes()},
		{"any other type, e.g. " + unknownSystemEventType, []string{unknownSystemEventType}},
	}
	cell := func(typ string, sc statusCase, lead time.Duration) string {
		it := answer(t, typ, sc, lead)
		if it.Actionable() {
			return "acted on"
		}
		return "ignored: " + strings.ReplaceAll(it.Ignored, `"`+typ+`"`, "{type}")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# ECS system events: what the recogniser does\n\n"+
		"Generated by `TestSystemEventTableGolden` (`go test ./eventschema -run SystemEventTableGolden -update`).\n"+
		"The clock reads %s; \"near\" is notBefore %s, \"far\" %s, \"past\" %s.\n",
		tableNow.Format(time.RFC3339), soon, far, past)
	for _, g := range groups {
		fmt.Fprintf(&b, "\n## %s\n\n| status | MAINTENANCE_LEAD 10m | MAINTENANCE_LEAD 0 |\n|---|---|---|\n", g.title)
		for _, sc := range statusCases {
			row := func(typ string) string {
				return fmt.Sprintf("| %s | %s | %s |\n", sc.name, cell(typ, sc, 10*time.Minute), cell(typ, sc, 0))
			}
			first := row(g.types[0])
			for _, typ := range g.types[1:] {
				if got := row(typ); got != first {
					t.Errorf("%s answers unlike %s:\n%s%s", typ, g.types[0], got, first)
				}
			}
			b.WriteString(first)
		}
	}
	path := filepath.Join("testdata", "golden", "system-events.md")
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != b.String() {
		t.Fatalf("%s differs from what the recogniser answers (rerun with -update if intended):\n%s", path, b.String())
	}
}

// TestActedOnTypes: the exported lists are the table, disjoint, and what
// the recogniser acts on (given acting data) is exactly ActedOnTypes.
func TestActedOnTypes(t *testing.T) {
	acted := ActedOnTypes()
	if len(acted) != 12 || !slices.Contains(acted, TypeECSInstanceFailureReboot) ||
		!slices.Contains(acted, TypeECSMaintenanceRebootAndIsolateErrorDisk) || !slices.Contains(acted, TypeECSStateChange) {
		t.Fatalf("ActedOnTypes %v", acted)
	}
	for _, typ := range DiskOnlySystemEventTypes() {
		if slices.Contains(acted, typ) {
			t.Errorf("disk-only %s is acted on", typ)
		}
	}
	// The lists are copies: changing one changes nothing.
	acted[0] = "changed"
	SystemEventTypes()[0] = "changed"
	if ActedOnTypes()[0] != TypeECSPreemptibleInterruption || SystemEventTypes()[0] != TypeECSMaintenanceReboot {
		t.Fatal("an exported list is shared")
	}
	data := map[string]string{
		TypeECSPreemptibleInterruption: `{"instanceId":"i-a1","action":"delete"}`,
		TypeECSStateChange:             `{"resourceId":"i-a1","state":"Stopped"}`,
	}
	candidates := slices.Concat(ActedOnTypes(), DiskOnlySystemEventTypes(),
		[]string{unknownSystemEventType, "ecs:Disk:DiskOperationCompleted", "ecs:Instance:SystemMaintenance.", "ecs:Instance:SystemMaintenance.reboot"})
	for _, typ := range candidates {
		d, ok := data[typ]
		if !ok {
			d = `{"instanceId":"i-a1","eventStatus":"Executing"}`
		}
		ev := `{"specversion":"1.0","id":"evt-1","source":"acs.ecs","type":"` + typ + `","data":` + d + `}`
		rec, err := Recogniser{MaintenanceLead: 10 * time.Minute}.Recognise([]byte(ev))
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		if acts := rec.Items[0].Actionable(); acts != slices.Contains(ActedOnTypes(), typ) {
			t.Errorf("%s: acted on = %v, listed in ActedOnTypes = %v (%+v)", typ, acts, !acts, rec.Items[0])
		}
	}
}
