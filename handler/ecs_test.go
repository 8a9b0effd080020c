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
		"maintenance-scheduled.json", "maintenance-executing.json", "failure-executing.json"} {
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
	for _, file := range []string{"ignored-statechange-running.json", "ignored-maintenance-executed.json",
		"ignored-disk-event.json", "ignored-followup.json"} {
		t.Run(file, func(t *testing.T) {
			f := newFixture(t)
			seedFixtureInstance(t, f.ecs.Srv)
			resp, err := f.invoke(t, "r", ecsFixture(t, file))
			if err != nil {
				t.Fatal(err)
			}
			if resp.Ignored == "" || len(resp.Results) != 0 || resp.Error != nil {
				t.Fatalf("response %+v", resp)
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
	// ENIs Detaching, and the gaps between ticks are unmistakable.
	p.Poll = detach.PollSchedule{First: 150 * time.Millisecond, Max: 150 * time.Millisecond}
	p.RedetachAfter = time.Minute
	p.DetachTimeout = 20 * time.Second
	f := newFixtureWith(t, []ecsemu.Option{ecsemu.WithDetachDelay(600 * time.Millisecond)},
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
	// Group the by-id describes into ticks without reading the clock (a
	// loaded machine can delay one describe of a tick past any gap): a
	// tick describes each ENI still pending once, and the next tick only
	// ENIs that were pending before, so a describe naming an ENI the
	// current tick already named starts the next tick.
	var ticks [][]int
	var inTick map[string]bool
	for _, c := range byID {
		var ids []string
		for k, v := range c.Params {
			if strings.HasPrefix(k, "NetworkInterfaceId.") {
				ids = append(ids, v)
			}
		}
		if len(ids) > 100 {
			t.Fatalf("a describe with %d ids", len(ids))
		}
		newTick := inTick == nil
		for _, id := range ids {
			newTick = newTick || inTick[id]
		}
		if newTick {
			ticks = append(ticks, nil)
			inTick = map[string]bool{}
		}
		for _, id := range ids {
			inTick[id] = true
		}
		ticks[len(ticks)-1] = append(ticks[len(ticks)-1], len(ids))
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
