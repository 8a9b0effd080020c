package handler_test

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/eni-detach/eni-detach/eventschema"
	"github.com/eni-detach/eni-detach/handler"
	"github.com/eni-detach/eni-detach/internal/config"
	"github.com/eni-detach/eni-detach/internal/detach"
	ecsemu "github.com/eni-detach/eni-detach/internal/emulator/ecs"
	"github.com/eni-detach/eni-detach/internal/testenv"
)

const fixtureInstance = "i-bp1fixture0000000001"

func ecsFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "eventschema", "testdata", "ecs", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// seedFixtureInstance gives the fixtures' instance a primary ENI, two
// tagged secondaries, an untagged one, a service-managed one and a trunk.
func seedFixtureInstance(t *testing.T, srv *ecsemu.Server) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(srv.AddInstance(ecsemu.Instance{ID: fixtureInstance, Status: ecsemu.InstanceRunning}))
	tagged := map[string]string{"eni-detach": "enabled"}
	must(srv.AddENI(ecsemu.ENI{ID: "eni-primary0001", Type: ecsemu.ENIPrimary, InstanceID: fixtureInstance, Tags: tagged}))
	must(srv.AddENI(ecsemu.ENI{ID: "eni-tagged0001", InstanceID: fixtureInstance, Tags: tagged}))
	must(srv.AddENI(ecsemu.ENI{ID: "eni-tagged0002", InstanceID: fixtureInstance, Tags: tagged}))
	must(srv.AddENI(ecsemu.ENI{ID: "eni-untagged0001", InstanceID: fixtureInstance}))
	must(srv.AddENI(ecsemu.ENI{ID: "eni-managed0001", InstanceID: fixtureInstance, ServiceManaged: true, Tags: tagged}))
	must(srv.AddENI(ecsemu.ENI{ID: "eni-trunk0001", Type: ecsemu.ENITrunk, InstanceID: fixtureInstance, Tags: tagged}))
}

func detachedIDs(srv *ecsemu.Server) []string {
	var ids []string
	for _, c := range srv.CallsFor("DetachNetworkInterface") {
		if c.Code == "" && !slices.Contains(ids, c.Params["NetworkInterfaceId"]) {
			ids = append(ids, c.Params["NetworkInterfaceId"])
		}
	}
	sort.Strings(ids)
	return ids
}

// TestECSEventsDetachExactlyTheEligibleSecondaries runs each acted-on ECS
// fixture with and without ENI_TAG_SELECTOR.
func TestECSEventsDetachExactlyTheEligibleSecondaries(t *testing.T) {
	sel, _ := config.ParseTagSelector("eni-detach=enabled")
	for _, file := range []string{"preemptible-interruption.json", "statechange-stopping.json", "statechange-stopped.json",
		"maintenance-scheduled-near.json", "maintenance-inquiring.json", "maintenance-executing.json",
		"maintenance-reboot-isolate-disk.json", "failure-executing.json", "instance-failure-reboot.json"} {
		for _, withSelector := range []bool{false, true} {
			name := file
			if withSelector {
				name += "/selector"
			}
			t.Run(name, func(t *testing.T) {
				p := testenv.FastPolicy()
				want := []string{"eni-tagged0001", "eni-tagged0002", "eni-untagged0001"}
				wantSkipped := []string{"eni-managed0001"}
				if withSelector {
					p.TagSelector = sel
					want = []string{"eni-tagged0001", "eni-tagged0002"}
					wantSkipped = []string{"eni-managed0001", "eni-untagged0001"}
				}
				f := newFixture(t, func(d *handler.Deps) { d.Engine = &detach.Engine{Policy: p} })
				seedFixtureInstance(t, f.ecs.Srv)
				resp, err := f.invoke(t, "r-"+file, ecsFixture(t, file))
				if err != nil {
					t.Fatal(err)
				}
				if got := detachedIDs(f.ecs.Srv); !slices.Equal(got, want) {
					t.Fatalf("detached %v, want %v", got, want)
				}
				var got []string
				for _, r := range resp.Results {
					if r.Outcome != eventschema.OutcomeDetached || r.Trigger.Kind != eventschema.TriggerEventBridge ||
						r.Trigger.EventType == "" || r.Trigger.EventID == "" || r.InstanceID != fixtureInstance {
						t.Fatalf("result %+v", r)
					}
					got = append(got, r.NetworkInterfaceID)
				}
				sort.Strings(got)
				if !slices.Equal(got, want) {
					t.Fatalf("results for %v, want %v", got, want)
				}
				var skipped []string
				for _, s := range resp.Skipped {
					skipped = append(skipped, s.NetworkInterfaceID)
				}
				sort.Strings(skipped)
				if !slices.Equal(skipped, wantSkipped) {
					t.Fatalf("skipped %v, want %v", resp.Skipped, wantSkipped)
				}
				for _, id := range []string{"eni-primary0001", "eni-trunk0001", "eni-managed0001"} {
					if e, _ := f.ecs.Srv.GetENI(id); e.Status != ecsemu.ENIInUse || e.DetachCalls != 0 {
						t.Fatalf("%s was touched: %+v", id, e)
					}
				}
				// The instance listing asked for secondaries only, by instance.
				listing := f.ecs.Srv.CallsFor("DescribeNetworkInterfaces")[0].Params
				if listing["InstanceId"] != fixtureInstance || listing["Type"] != "Secondary" {
					t.Fatalf("listing params %v", listing)
				}
			})
		}
	}
}

func TestIgnoredEventsMakeNoWriteCall(t *testing.T) {
	for file, reason := range map[string]string{
		"ignored-statechange-running.json":  `instance state "Running"`,
		"ignored-maintenance-executed.json": `has status "Executed"`,
		"ignored-maintenance-scheduled-far.json": `is Scheduled with notBefore "2099-10-18T16:00:00Z", ` +
			"more than MAINTENANCE_LEAD 10m0s ahead: acting when it executes",
		"ignored-maintenance-isolate-error-disk.json":   "touches only a disk",
		"ignored-maintenance-reinit-error-disk.json":    "touches only a disk",
		"ignored-maintenance-clean-released-disks.json": "touches only a disk",
		"ignored-disk-event.json":                       "is not one this function acts on",
		"ignored-followup.json":                         "own follow-up event",
	} {
		t.Run(file, func(t *testing.T) {
			f := newFixture(t)
			seedFixtureInstance(t, f.ecs.Srv)
			resp, err := f.invoke(t, "r", ecsFixture(t, file))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(resp.Ignored, reason) || len(resp.Results) != 0 || resp.Error != nil {
				t.Fatalf("response %+v, want ignored with %q", resp, reason)
			}
			if n := len(f.ecs.Srv.Calls()); n != 0 {
				t.Fatalf("%d ECS calls for an ignored event", n)
			}
			if !strings.Contains(f.logs.String(), `"message":"event ignored"`) {
				t.Fatal("the ignored event was not logged with its reason")
			}
		})
	}
}

func TestBatchFixtures(t *testing.T) {
	for _, file := range []string{"batch-objects.json", "batch-strings.json"} {
		t.Run(file, func(t *testing.T) {
			f := newFixture(t)
			seedFixtureInstance(t, f.ecs.Srv)
			resp, err := f.invoke(t, "r", ecsFixture(t, file))
			if err != nil {
				t.Fatal(err)
			}
			// Both events name the same instance: its ENIs are detached
			// once and reported for each event.
			if len(resp.Results) != 6 {
				t.Fatalf("%d results: %+v", len(resp.Results), resp.Results)
			}
			for _, id := range []string{"eni-tagged0001", "eni-tagged0002", "eni-untagged0001"} {
				if e, _ := f.ecs.Srv.GetENI(id); e.DetachCalls != 1 {
					t.Fatalf("%s detached %d times", id, e.DetachCalls)
				}
			}
		})
	}
}

func TestNoEligibleENIIsIgnored(t *testing.T) {
	f := newFixture(t)
	if err := f.ecs.Srv.AddInstance(ecsemu.Instance{ID: fixtureInstance}); err != nil {
		t.Fatal(err)
	}
	if err := f.ecs.Srv.AddENI(ecsemu.ENI{ID: "eni-primary0001", Type: ecsemu.ENIPrimary, InstanceID: fixtureInstance}); err != nil {
		t.Fatal(err)
	}
	resp, err := f.invoke(t, "r", ecsFixture(t, "statechange-stopped.json"))
	if err != nil || len(resp.Results) != 0 || !strings.Contains(resp.Ignored, "no eligible secondary ENI") {
		t.Fatalf("response %+v %v", resp, err)
	}
	if n := len(f.ecs.Srv.CallsFor("DetachNetworkInterface")); n != 0 {
		t.Fatalf("%d detach calls", n)
	}
}

// TestStoppingInstanceReachesStopped: detaches are refused with
// InvalidEcsState while the instance is Stopping; the engine waits and
// detaches once it is Stopped.
func TestStoppingInstanceReachesStopped(t *testing.T) {
	f := newFixture(t)
	seedFixtureInstance(t, f.ecs.Srv)
	if err := f.ecs.Srv.SetInstanceStatus(fixtureInstance, ecsemu.InstanceStopping); err != nil {
		t.Fatal(err)
	}
	if err := f.ecs.Srv.ScheduleInstanceStatus(fixtureInstance, ecsemu.InstanceStopped, 400*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	resp, err := f.invoke(t, "r", ecsFixture(t, "statechange-stopping.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Results) != 3 {
		t.Fatalf("results %+v", resp.Results)
	}
	for _, r := range resp.Results {
		if r.Outcome != eventschema.OutcomeDetached || r.DetachAttempts < 2 {
			t.Fatalf("result %+v", r)
		}
	}
	refused := 0
	for _, c := range f.ecs.Srv.CallsFor("DetachNetworkInterface") {
		if c.Code == "InvalidOperation.InvalidEcsState" {
			refused++
		}
	}
	if refused == 0 {
		t.Fatal("the emulator never refused: the test did not exercise the Stopping state")
	}
}

// TestManyENIsOneDescribePerHundred detaches 150 secondaries of one
// instance and checks from the emulator's log that every poll tick made
// one DescribeNetworkInterfaces per 100 ENIs, by ENI id.
func TestManyENIsOneDescribePerHundred(t *testing.T) {
	p := testenv.FastPolicy()
	// Ticks 150 ms apart and a 600 ms detach: several ticks see all 150
	// ENIs Detaching. The engine and the emulator share a fake clock that
	// moves only when the engine waits, so every call of one tick carries
	// the same time and ticks are told apart exactly, however slow the
	// machine.
	clk := testenv.NewClock()
	p.Clock = clk
	p.Poll = detach.PollSchedule{First: 150 * time.Millisecond, Max: 150 * time.Millisecond}
	p.RedetachAfter = time.Minute
	p.DetachTimeout = 20 * time.Second
	f := newFixtureWith(t, []ecsemu.Option{ecsemu.WithDetachDelay(600 * time.Millisecond), ecsemu.WithClock(clk.Now)},
		func(d *handler.Deps) { d.Engine = &detach.Engine{Policy: p} })
	env := f.ecs
	enis := env.Instance(t, "i-many", 150)

	resp, err := f.invoke(t, "r", `{"InstanceId":"i-many"}`)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Results) != 150 {
		t.Fatalf("%d results", len(resp.Results))
	}
	for _, r := range resp.Results {
		if r.Outcome != eventschema.OutcomeDetached {
			t.Fatalf("result %+v", r)
		}
	}
	for _, id := range enis {
		if e, _ := env.Srv.GetENI(id); e.Status != ecsemu.ENIAvailable || e.DetachCalls != 1 {
			t.Fatalf("%s: %+v", id, e)
		}
	}

	var listing, byID []ecsemu.Call
	for _, c := range env.Srv.CallsFor("DescribeNetworkInterfaces") {
		if c.Params["InstanceId"] != "" {
			listing = append(listing, c)
		} else {
			byID = append(byID, c)
		}
	}
	if len(listing) != 2 {
		t.Fatalf("%d listing pages for 150 ENIs at MaxResults 100", len(listing))
	}
	// Group the by-id describes into ticks: calls of one tick share the
	// fake clock's time, ticks are 150 ms of it apart.
	var ticks [][]int
	for i, c := range byID {
		n := 0
		for k := range c.Params {
			if strings.HasPrefix(k, "NetworkInterfaceId.") {
				n++
			}
		}
		if n > 100 {
			t.Fatalf("a describe with %d ids", n)
		}
		if i == 0 || !c.Time.Equal(byID[i-1].Time) {
			ticks = append(ticks, nil)
		}
		ticks[len(ticks)-1] = append(ticks[len(ticks)-1], n)
	}
	full := 0
	for _, tick := range ticks {
		total := 0
		for _, n := range tick {
			total += n
		}
		if want := (total + 99) / 100; len(tick) != want {
			t.Fatalf("a tick following %d ENIs made %d describes (%v), want %d; all ticks %v", total, len(tick), tick, want, ticks)
		}
		if total == 150 {
			full++
		}
	}
	if full < 2 {
		t.Fatalf("only %d ticks saw all 150 ENIs: %v", full, ticks)
	}
	t.Logf("150 ENIs: %d listing calls, %d detach calls, %d describe-by-id calls in %d ticks %v",
		len(listing), len(env.Srv.CallsFor("DetachNetworkInterface")), len(byID), len(ticks), ticks)
}

// TestMaintenanceLeadFromConfig: the handler judges Scheduled system events
// with the configured MAINTENANCE_LEAD against the current time.
func TestMaintenanceLeadFromConfig(t *testing.T) {
	scheduledIn := func(d time.Duration) string {
		return `{"specversion":"1.0","id":"evt-lead","source":"acs.ecs","type":"ecs:Instance:SystemMaintenance.Stop",` +
			`"aliyunregionid":"` + testenv.Region + `","data":{"instanceId":"` + fixtureInstance + `","eventStatus":"Scheduled",` +
			`"notBefore":"` + time.Now().Add(d).UTC().Format(time.RFC3339) + `"}}`
	}
	tests := []struct {
		name   string
		lead   time.Duration
		event  string
		acted  bool
		reason string
	}{
		{"due in 5m, lead 10m", 10 * time.Minute, scheduledIn(5 * time.Minute), true, ""},
		{"due in 1h, lead 10m", 10 * time.Minute, scheduledIn(time.Hour), false, "more than MAINTENANCE_LEAD 10m0s ahead: acting when it executes"},
		{"due in 1h, lead 2h", 2 * time.Hour, scheduledIn(time.Hour), true, ""},
		{"due in 5m, lead 0", 0, scheduledIn(5 * time.Minute), false, "MAINTENANCE_LEAD is 0"},
		{"near fixture, lead 0", 0, ecsFixture(t, "maintenance-scheduled-near.json"), false, "MAINTENANCE_LEAD is 0"},
		{"executing, lead 0", 0, ecsFixture(t, "maintenance-executing.json"), true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, func(d *handler.Deps) { d.Config.MaintenanceLead = tc.lead })
			seedFixtureInstance(t, f.ecs.Srv)
			resp, err := f.invoke(t, "r-lead", tc.event)
			if err != nil {
				t.Fatal(err)
			}
			detached := detachedIDs(f.ecs.Srv)
			if tc.acted {
				if len(resp.Results) != 3 || len(detached) != 3 {
					t.Fatalf("want the 3 eligible ENIs detached, got %v, response %+v", detached, resp)
				}
				return
			}
			if len(resp.Results) != 0 || len(f.ecs.Srv.Calls()) != 0 || !strings.Contains(resp.Ignored, tc.reason) {
				t.Fatalf("want ignored with %q and no ECS call; %d calls, response %+v", tc.reason, len(f.ecs.Srv.Calls()), resp)
			}
		})
	}
}
