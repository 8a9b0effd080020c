package reliability_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/eni-detach/eni-detach/eventschema"
	"github.com/eni-detach/eni-detach/internal/detach"
	ecsemu "github.com/eni-detach/eni-detach/internal/emulator/ecs"
)

// The ECS fixtures' instance, its three eligible secondaries and the ones
// an instance-wide request must leave alone.
const fixtureInstance = "i-bp1fixture0000000001"

var (
	fixtureEligible = []string{"eni-tagged0001", "eni-tagged0002", "eni-untagged0001"}
	fixtureUntouch  = []string{"eni-primary0001", "eni-managed0001", "eni-trunk0001"}
)

func ecsFixture(t *testing.T, name string) (payload, eventID string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "eventschema", "testdata", "ecs", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev struct {
		ID string `json:"id"`
	}
	mustOK(t, json.Unmarshal(b, &ev))
	return string(b), ev.ID
}

// seedFixtureInstance gives the fixtures' instance what handler/ecs_test.go
// gives it: a primary, two tagged and one untagged secondary, a
// service-managed ENI and a trunk.
func seedFixtureInstance(t *testing.T, srv *ecsemu.Server, delay time.Duration) {
	t.Helper()
	mustOK(t, srv.AddInstance(ecsemu.Instance{ID: fixtureInstance, Status: ecsemu.InstanceRunning}))
	tags := map[string]string{"eni-detach": "enabled"}
	for _, x := range []ecsemu.ENI{
		{ID: "eni-primary0001", Type: ecsemu.ENIPrimary, Tags: tags},
		{ID: "eni-tagged0001", Tags: tags}, {ID: "eni-tagged0002", Tags: tags}, {ID: "eni-untagged0001"},
		{ID: "eni-managed0001", ServiceManaged: true, Tags: tags},
		{ID: "eni-trunk0001", Type: ecsemu.ENITrunk, Tags: tags},
	} {
		x.InstanceID, x.DetachDelay = fixtureInstance, delay
		mustOK(t, srv.AddENI(x))
	}
}

// noReissue keeps re-issues of slow detaches (a separate mechanism, README
// "What it does") out of the detach counts.
var noReissue = opts{policy: func(p *detach.Policy) { p.RedetachAfter = time.Minute }}

// delivery is one duplicate to send.
type delivery struct{ reqID, payload string }

// deliverConcurrently starts every delivery at the same moment.
func deliverConcurrently(t *testing.T, e *env, ds ...delivery) []outcome {
	t.Helper()
	out := make([]outcome, len(ds))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, d := range ds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = e.invokeRaw(d.reqID, e.creds, d.payload, 10*time.Second)
		}()
	}
	close(start)
	wg.Wait()
	for i := range out {
		out[i].resp = asResponse(t, out[i].out)
	}
	return out
}

func outcomesByENI(t *testing.T, o outcome) map[string]eventschema.Outcome {
	t.Helper()
	if o.err != nil {
		t.Fatalf("returned %v", o.err)
	}
	m := map[string]eventschema.Outcome{}
	for _, r := range o.resp.Results {
		m[r.NetworkInterfaceID] = r.Outcome
	}
	return m
}

// eventIDs maps ENI → event ids on the bus for it, in arrival order.
func eventIDs(t *testing.T, e *env) map[string][]string {
	t.Helper()
	m := map[string][]string{}
	for _, ev := range e.busEvents(t) {
		m[ev.ev.Data.NetworkInterfaceID] = append(m[ev.ev.Data.NetworkInterfaceID], ev.ev.ID)
	}
	return m
}

func allDetached(t *testing.T, o outcome, enis []string) {
	t.Helper()
	got := outcomesByENI(t, o)
	if len(got) != len(enis) {
		t.Fatalf("results for %v, want %v", got, enis)
	}
	for _, id := range enis {
		if got[id] != eventschema.OutcomeDetached {
			t.Fatalf("%s: %s, want Detached (all results %v)", id, got[id], got)
		}
	}
}

// TestDuplicateECSEvent delivers the statechange-stopping fixture twice:
// one after the other, while the first is still following its detaches,
// and at the same moment (different FC request ids each time). The event
// ids come from the CloudEvent's id, so equal outcomes give equal ids.
func TestDuplicateECSEvent(t *testing.T) {
	t.Run("sequential", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, noReissue)
		seedFixtureInstance(t, e.ecs.Srv, 0)
		payload, evID := ecsFixture(t, "statechange-stopping.json")
		first := e.invoke(t, "fc-1", payload, 10*time.Second)
		allDetached(t, first, fixtureEligible)
		second := e.invoke(t, "fc-2", payload, 10*time.Second)
		// Detached ENIs leave the instance: the duplicate finds nothing
		// eligible, calls no detach and publishes nothing.
		if second.err != nil || len(second.resp.Results) != 0 || second.resp.Ignored == "" {
			t.Fatalf("duplicate: %+v %v", second.resp, second.err)
		}
		for _, id := range fixtureEligible {
			if n := e.accepted(t, id); n != 1 {
				t.Fatalf("%s detached %d times", id, n)
			}
			if ids := eventIDs(t, e)[id]; !slices.Equal(ids, []string{eventschema.EventID(evID, id, eventschema.OutcomeDetached)}) {
				t.Fatalf("%s: events %v", id, ids)
			}
		}
		for _, id := range fixtureUntouch {
			if n := e.accepted(t, id); n != 0 {
				t.Fatalf("%s was detached", id)
			}
		}
	})
	t.Run("second-while-the-first-is-detaching", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, noReissue)
		seedFixtureInstance(t, e.ecs.Srv, 800*time.Millisecond)
		payload, evID := ecsFixture(t, "statechange-stopping.json")
		firstDone := make(chan outcome, 1)
		go func() { firstDone <- e.invokeRaw("fc-1", e.creds, payload, 10*time.Second) }()
		waitAccepted(t, e, len(fixtureEligible))
		second := e.invoke(t, "fc-2", payload, 10*time.Second)
		first := <-firstDone
		first.resp = asResponse(t, first.out)
		allDetached(t, first, fixtureEligible)
		allDetached(t, second, fixtureEligible)
		for _, id := range fixtureEligible {
			if n := e.accepted(t, id); n != 1 {
				t.Fatalf("%s: %d detaches accepted; the duplicate should follow the first one's", id, n)
			}
			want := eventschema.EventID(evID, id, eventschema.OutcomeDetached)
			if ids := eventIDs(t, e)[id]; !slices.Equal(ids, []string{want, want}) {
				t.Fatalf("%s: event ids %v, want %s twice", id, ids, want)
			}
		}
	})
	for round := range 3 {
		t.Run("concurrent/round-"+strconv.Itoa(round+1), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, noReissue)
			seedFixtureInstance(t, e.ecs.Srv, 600*time.Millisecond)
			payload, evID := ecsFixture(t, "statechange-stopping.json")
			outs := deliverConcurrently(t, e, delivery{"fc-a", payload}, delivery{"fc-b", payload})
			for _, o := range outs {
				// README "What it does": truly simultaneous deliveries may both call
				// detach; both then report Detached.
				allDetached(t, o, fixtureEligible)
				var skipped []string
				for _, s := range o.resp.Skipped {
					skipped = append(skipped, s.NetworkInterfaceID)
				}
				slices.Sort(skipped)
				if !slices.Equal(skipped, []string{"eni-managed0001"}) {
					t.Fatalf("skipped %v", o.resp.Skipped)
				}
			}
			for _, id := range fixtureEligible {
				if n := e.accepted(t, id); n < 1 || n > 2 {
					t.Fatalf("%s: %d detaches accepted, want 1 or 2", id, n)
				}
				want := eventschema.EventID(evID, id, eventschema.OutcomeDetached)
				if ids := eventIDs(t, e)[id]; !slices.Equal(ids, []string{want, want}) {
					t.Fatalf("%s: event ids %v, want %s twice", id, ids, want)
				}
			}
			for _, id := range fixtureUntouch {
				if n := e.accepted(t, id); n != 0 {
					t.Fatalf("%s was detached", id)
				}
			}
		})
	}
}

// TestDuplicateDirectRequest delivers one direct request twice. A direct
// request's trigger id is the FC request id, so the event id follows it.
func TestDuplicateDirectRequest(t *testing.T) {
	const inst = "i-dup"
	t.Run("sequential", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, noReissue)
		eni := e.ecs.Instance(t, inst, 1)[0]
		payload := eniRequest(eni, inst)
		first := e.invoke(t, "fc-1", payload, 10*time.Second)
		second := e.invoke(t, "fc-2", payload, 10*time.Second)
		// The redelivery is an FC async retry: same request id.
		third := e.invoke(t, "fc-2", payload, 10*time.Second)
		if got := outcomesByENI(t, first)[eni]; got != eventschema.OutcomeDetached {
			t.Fatalf("first: %s", got)
		}
		for _, o := range []outcome{second, third} {
			r := o.resp.Results
			if o.err != nil || len(r) != 1 || r[0].Outcome != eventschema.OutcomeAlreadyDetached || r[0].DetachAttempts != 0 ||
				r[0].PreviousStatus != eventschema.StatusAvailable {
				t.Fatalf("duplicate: %+v %v", o.resp, o.err)
			}
		}
		if n := e.accepted(t, eni); n != 1 || e.detachCalls() != 1 {
			t.Fatalf("%d detaches accepted, %d calls; want one", n, e.detachCalls())
		}
		want := []string{
			eventschema.EventID("fc-1", eni, eventschema.OutcomeDetached),
			eventschema.EventID("fc-2", eni, eventschema.OutcomeAlreadyDetached),
			eventschema.EventID("fc-2", eni, eventschema.OutcomeAlreadyDetached),
		}
		if got := eventIDs(t, e)[eni]; !slices.Equal(got, want) {
			t.Fatalf("event ids %v, want %v", got, want)
		}
		for _, ev := range e.busEvents(t) {
			if ev.ev.Type != eventschema.TypeDetached {
				t.Fatalf("event type %s", ev.ev.Type)
			}
		}
	})
	t.Run("no-wait-then-duplicate-while-detaching", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, noReissue)
		eni := e.ecs.Instance(t, inst, 1)[0]
		editENI(t, e, eni, func(x *ecsemu.ENI) { x.DetachDelay = 5 * time.Second })
		payload := `{"NetworkInterfaceId":"` + eni + `","Wait":false}`
		first := e.invoke(t, "fc-1", payload, 10*time.Second)
		again := e.invoke(t, "fc-1", payload, 10*time.Second)
		for _, o := range []outcome{first, again} {
			if got := outcomesByENI(t, o)[eni]; got != eventschema.OutcomePending {
				t.Fatalf("outcome %s, want Pending", got)
			}
		}
		if n := e.detachCalls(); n != 1 {
			t.Fatalf("%d detach calls; the duplicate should find it Detaching", n)
		}
		want := eventschema.EventID("fc-1", eni, eventschema.OutcomePending)
		if got := eventIDs(t, e)[eni]; !slices.Equal(got, []string{want, want}) {
			t.Fatalf("event ids %v, want %s twice", got, want)
		}
	})
	for round := range 3 {
		t.Run("concurrent/round-"+strconv.Itoa(round+1), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, noReissue)
			eni := e.ecs.Instance(t, inst, 1)[0]
			editENI(t, e, eni, func(x *ecsemu.ENI) { x.DetachDelay = 300 * time.Millisecond })
			payload := eniRequest(eni, inst)
			outs := deliverConcurrently(t, e, delivery{"fc-a", payload}, delivery{"fc-b", payload})
			for _, o := range outs {
				allDetached(t, o, []string{eni})
			}
			if n := e.accepted(t, eni); n < 1 || n > 2 {
				t.Fatalf("%d detaches accepted, want 1 or 2", n)
			}
			got := eventIDs(t, e)[eni]
			slices.Sort(got)
			want := []string{
				eventschema.EventID("fc-a", eni, eventschema.OutcomeDetached),
				eventschema.EventID("fc-b", eni, eventschema.OutcomeDetached),
			}
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("event ids %v, want %v", got, want)
			}
		})
	}
}

// waitAccepted waits until the emulator has accepted n detaches.
func waitAccepted(t *testing.T, e *env, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		ok := 0
		for _, c := range e.ecs.Srv.CallsFor("DetachNetworkInterface") {
			if c.Code == "" && c.HTTPStatus != 0 {
				ok++
			}
		}
		if ok >= n {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("the emulator did not accept %d detaches", n)
}
