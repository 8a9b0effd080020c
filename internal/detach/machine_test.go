package detach_test

// State-machine tests: the engine on the production policy, an in-memory
// ECS (ecsfake) and a fake clock, so that minutes of polling run in
// microseconds and every call's time is exact. The ECS emulator and the
// real SDK client are exercised by the other tests of this package and by
// the handler, reliability and end-to-end suites.

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/eni-detach/eni-detach/eventschema"
	"github.com/eni-detach/eni-detach/internal/config"
	"github.com/eni-detach/eni-detach/internal/detach"
	"github.com/eni-detach/eni-detach/internal/ecsapi"
	"github.com/eni-detach/eni-detach/internal/ecsapi/ecsfake"
	"github.com/eni-detach/eni-detach/internal/testenv"
)

const (
	describe = "DescribeNetworkInterfaces"
	detachOp = "DetachNetworkInterface"
)

type machine struct {
	ecs  *ecsfake.Fake
	p    detach.Policy
	t0   time.Time
	seen int // ENIs put so far, for ids
}

// newMachine is the production policy on a fake clock, with an in-memory
// ECS whose detaches take delay.
func newMachine(delay time.Duration) *machine {
	clk := testenv.NewClock()
	p := detach.DefaultPolicy(config.Default())
	p.Clock = clk
	return &machine{ecs: ecsfake.New(clk.Now, delay), p: p, t0: clk.Now()}
}

// eni puts a tagged secondary ENI attached to i-a1 and returns its id.
func (m *machine) eni(edit func(*ecsfake.ENI)) string {
	m.seen++
	e := ecsfake.ENI{ENI: ecsapi.ENI{ID: fmt.Sprintf("eni-m%04d", m.seen), InstanceID: "i-a1", Tags: map[string]string{"team": "sre"}}}
	if edit != nil {
		edit(&e)
	}
	m.ecs.Put(e)
	return e.ID
}

func (m *machine) run(targets ...detach.Target) []detach.TargetReport {
	return (&detach.Engine{Policy: m.p}).Run(context.Background(), detach.Single(m.ecs), targets)
}

func (m *machine) one(t *testing.T, tg detach.Target) eventschema.Result {
	t.Helper()
	reps := m.run(tg)
	if len(reps) != 1 || len(reps[0].Results) != 1 {
		t.Fatalf("want one result, got %+v", reps)
	}
	return reps[0].Results[0]
}

// offsets are the times of the calls of action, from the first detach call.
func (m *machine) offsets(action string) []time.Duration {
	var out []time.Duration
	base := m.ecs.Calls(detachOp)[0].Time
	for _, c := range m.ecs.Calls(action) {
		out = append(out, c.Time.Sub(base))
	}
	return out
}

func named(id string) detach.Target {
	return detach.Target{RegionID: ecsfake.DefaultRegion, NetworkInterfaceID: id, Wait: true}
}

func secs(s ...float64) []time.Duration {
	out := make([]time.Duration, len(s))
	for i, x := range s {
		out[i] = time.Duration(x * float64(time.Second))
	}
	return out
}

// TestPollScheduleFollowsTheDetach: the production schedule polls 1 s after
// the detach, then at gaps growing by 0.2 s (README, "What it does"); a
// 2 s detach is seen at 2.2 s in 4 ECS calls, a 5 s one at 5.2 s in 6.
func TestPollScheduleFollowsTheDetach(t *testing.T) {
	for _, tc := range []struct {
		delay time.Duration
		polls []time.Duration // describes after the detach call
	}{
		{2 * time.Second, secs(1.0, 2.2)},
		{5 * time.Second, secs(1.0, 2.2, 3.6, 5.2)},
	} {
		t.Run(tc.delay.String(), func(t *testing.T) {
			m := newMachine(tc.delay)
			r := m.one(t, named(m.eni(nil)))
			if r.Outcome != eventschema.OutcomeDetached || r.DetachAttempts != 1 {
				t.Fatalf("result %+v", r)
			}
			want := append(secs(0), tc.polls...) // the first look is just before the detach
			if got := m.offsets(describe); !slices.Equal(got, want) {
				t.Fatalf("describes at %v, want %v", got, want)
			}
			if got, want := r.FinishedAt.Sub(m.t0), tc.polls[len(tc.polls)-1]; got != want || r.DurationMs != want.Milliseconds() {
				t.Fatalf("finished after %v (%d ms), want %v", got, r.DurationMs, want)
			}
			if n := len(m.ecs.Calls("")); n != len(want)+1 {
				t.Fatalf("%d ECS calls", n)
			}
		})
	}
}

// TestStuckDetachIsReissuedAfterRedetachAfter: still Detaching after
// REDETACH_AFTER, the ENI is looked at and the detach re-issued at once;
// polling then starts over.
func TestStuckDetachIsReissuedAfterRedetachAfter(t *testing.T) {
	m := newMachine(2 * time.Second)
	id := m.eni(func(e *ecsfake.ENI) { e.StuckReissues = 1 })
	r := m.one(t, named(id))
	if r.Outcome != eventschema.OutcomeDetached || r.DetachAttempts != 2 {
		t.Fatalf("result %+v", r)
	}
	redetach := config.DefaultRedetachAfter
	if got := m.offsets(detachOp); !slices.Equal(got, []time.Duration{0, redetach}) {
		t.Fatalf("detaches at %v, want 0 and %v", got, redetach)
	}
	d := m.offsets(describe)
	if !slices.Contains(d, redetach) {
		t.Fatalf("no look at the ENI when the re-issue fell due: describes at %v", d)
	}
	if got, want := d[len(d)-2:], []time.Duration{redetach + time.Second, redetach + 2200*time.Millisecond}; !slices.Equal(got, want) {
		t.Fatalf("polls after the re-issue at %v, want %v", got, want)
	}
}

// TestRevertedDetachIsReissuedThenFails: an ENI back InUse after every
// accepted detach is detached again at most MaxReissues times, then
// reported Failed (retryable) with Detach.Reverted.
func TestRevertedDetachIsReissuedThenFails(t *testing.T) {
	m := newMachine(time.Second)
	r := m.one(t, named(m.eni(func(e *ecsfake.ENI) { e.Reverts = true })))
	if r.Outcome != eventschema.OutcomeFailed || r.Error == nil || r.Error.Code != detach.CodeDetachReverted || !r.Error.Retryable {
		t.Fatalf("result %+v %+v", r, r.Error)
	}
	if n := len(m.ecs.Calls(detachOp)); n != 1+m.p.MaxReissues || r.DetachAttempts != n {
		t.Fatalf("%d detach calls, %d attempts; want %d", n, r.DetachAttempts, 1+m.p.MaxReissues)
	}
}

// TestStateRefusalIsRetriedAfterGrowingPauses: a detach refused for a
// passing state is retried after StateRetryDelay, then twice that, each
// time after a fresh look; nothing is polled (or spun on) in between.
func TestStateRefusalIsRetriedAfterGrowingPauses(t *testing.T) {
	m := newMachine(time.Second)
	id := m.eni(nil)
	refusal := &ecsapi.Error{Kind: ecsapi.KindServer, Code: "InvalidOperation.InvalidEcsState", HTTPStatus: 403}
	m.ecs.Fail(detachOp, refusal, refusal)
	r := m.one(t, named(id))
	if r.Outcome != eventschema.OutcomeDetached || r.DetachAttempts != 3 {
		t.Fatalf("result %+v", r)
	}
	first := m.p.StateRetryDelay
	if got, want := m.offsets(detachOp), []time.Duration{0, first, 3 * first}; !slices.Equal(got, want) {
		t.Fatalf("detaches at %v, want %v", got, want)
	}
	// One look before each retry, then the polls of the accepted detach.
	if got, want := m.offsets(describe), []time.Duration{0, 0, first, 3*first + time.Second}; !slices.Equal(got, want) {
		t.Fatalf("describes at %v, want %v", got, want)
	}
	// Every call about the ENI is in requestIds, refused ones included.
	var want []string
	for _, c := range m.ecs.Calls("") {
		want = append(want, c.RequestID)
	}
	if !slices.Equal(r.RequestIDs, want) {
		t.Fatalf("requestIds %v, want %v", r.RequestIDs, want)
	}
}

// TestDescribeBatchesByClientAndRegion: one describe per client, region and
// 100 ids, regions in order, whatever the order of the targets.
func TestDescribeBatchesByClientAndRegion(t *testing.T) {
	clk := testenv.NewClock()
	p := detach.DefaultPolicy(config.Default())
	p.Clock = clk
	x, y := ecsfake.New(clk.Now, time.Second), ecsfake.New(clk.Now, time.Second)
	var targets []detach.Target
	client := map[string]ecsapi.API{}
	add := func(f *ecsfake.Fake, name, region string, n int) {
		for i := 0; i < n; i++ {
			id := fmt.Sprintf("eni-%s%s%03d", name, region, i)
			f.Put(ecsfake.ENI{ENI: ecsapi.ENI{ID: id, InstanceID: "i-a1"}, Region: region})
			targets = append(targets, detach.Target{RegionID: region, NetworkInterfaceID: id, DryRun: true, Wait: true})
			client[id] = f
		}
	}
	add(x, "x", "cn-shanghai", 30)
	add(x, "x", "cn-beijing", 150)
	add(y, "y", "cn-beijing", 20)
	byClient := clientsByTarget(func(tg detach.Target) ecsapi.API { return client[tg.NetworkInterfaceID] })
	reps := (&detach.Engine{Policy: p}).Run(context.Background(), byClient, targets)
	for i, rep := range reps {
		if len(rep.Results) != 1 || rep.Results[0].Outcome != eventschema.OutcomeDryRun {
			t.Fatalf("target %d: %+v", i, rep)
		}
	}
	sizes := func(f *ecsfake.Fake) (out []string) {
		for _, c := range f.Calls(describe) {
			out = append(out, fmt.Sprint(len(c.IDs)))
		}
		return out
	}
	if got := sizes(x); !slices.Equal(got, []string{"100", "50", "30"}) {
		t.Fatalf("client x: describe sizes %v, want cn-beijing 100+50 then cn-shanghai 30", got)
	}
	if got := sizes(y); !slices.Equal(got, []string{"20"}) {
		t.Fatalf("client y: describe sizes %v", got)
	}
	if !x.Calls(describe)[1].Time.Equal(y.Calls(describe)[0].Time) {
		t.Fatal("the initial look waited")
	}
	if n := len(x.Calls(detachOp)) + len(y.Calls(detachOp)); n != 0 {
		t.Fatalf("%d detach calls in a dry run", n)
	}
}

type clientsByTarget func(detach.Target) ecsapi.API

func (f clientsByTarget) Client(_ context.Context, t detach.Target) ecsapi.API { return f(t) }

// TestSameENITwiceIsActedOnOnceReportedTwice: a batch naming one ENI twice
// detaches it once; each target's result carries its own trigger.
func TestSameENITwiceIsActedOnOnceReportedTwice(t *testing.T) {
	m := newMachine(time.Second)
	id := m.eni(nil)
	a, b := named(id), named(id)
	a.Trigger = eventschema.Trigger{Kind: eventschema.TriggerEventBridge, EventID: "ev-a"}
	b.Trigger = eventschema.Trigger{Kind: eventschema.TriggerEventBridge, EventID: "ev-b"}
	a.FCRequestID, b.FCRequestID = "fc-1", "fc-1"
	reps := m.run(a, b)
	ra, rb := reps[0].Results[0], reps[1].Results[0]
	if ra.Trigger.EventID != "ev-a" || rb.Trigger.EventID != "ev-b" || ra.FCRequestID != "fc-1" || rb.FCRequestID != "fc-1" {
		t.Fatalf("results %+v / %+v", ra, rb)
	}
	ra.Trigger, rb.Trigger = eventschema.Trigger{}, eventschema.Trigger{}
	if fmt.Sprint(ra) != fmt.Sprint(rb) || ra.Outcome != eventschema.OutcomeDetached {
		t.Fatalf("the two reports differ beyond the trigger: %+v / %+v", ra, rb)
	}
	if n := len(m.ecs.Calls(detachOp)); n != 1 {
		t.Fatalf("%d detach calls", n)
	}
}

// TestRefusedTargetIsReportedWithoutECS: a target the handler refused gets
// its InvalidRequest result from the engine, complete, with no ECS client
// asked for.
func TestRefusedTargetIsReportedWithoutECS(t *testing.T) {
	m := newMachine(time.Second)
	verr := &eventschema.ValidationError{Fields: []eventschema.FieldError{{Field: "RegionId", Problem: "must be a region id"}}}
	tg := detach.Target{RegionID: "moon", NetworkInterfaceID: "eni-x1", InstanceID: "i-x1", DryRun: true,
		Trigger: eventschema.Trigger{Kind: eventschema.TriggerDirect}, FCRequestID: "fc-9", Invalid: verr}
	noClient := clientsByTarget(func(detach.Target) ecsapi.API {
		t.Fatal("asked for an ECS client for a refused target")
		return nil
	})
	reps := (&detach.Engine{Policy: m.p}).Run(context.Background(), noClient, []detach.Target{tg})
	r := reps[0].Results[0]
	if r.Outcome != eventschema.OutcomeInvalidRequest || r.Error == nil || r.Error.Code != eventschema.CodeInvalidRequest ||
		r.Error.Message != verr.Error() || len(r.Error.Fields) != 1 {
		t.Fatalf("result %+v %+v", r, r.Error)
	}
	if r.RegionID != "moon" || r.NetworkInterfaceID != "eni-x1" || r.InstanceID != "i-x1" || !r.DryRun ||
		r.FCRequestID != "fc-9" || r.Trigger.Kind != eventschema.TriggerDirect {
		t.Fatalf("result fields %+v", r)
	}
	if r.RequestIDs == nil || len(r.RequestIDs) != 0 || r.DurationMs != 0 || !r.StartedAt.Equal(r.FinishedAt) {
		t.Fatalf("requestIds %#v, duration %d ms", r.RequestIDs, r.DurationMs)
	}
}

// TestInstanceListingPagesAndSkips: an instance-wide target lists the
// instance's secondary ENIs page by page, acts on the eligible ones and
// lists the rest as skipped; the listing's request ids are on no result.
func TestInstanceListingPagesAndSkips(t *testing.T) {
	m := newMachine(time.Second)
	m.p.PageSize = 2
	sel, err := config.ParseTagSelector("team=sre")
	if err != nil {
		t.Fatal(err)
	}
	m.p.TagSelector = sel
	good := []string{m.eni(nil), m.eni(nil), m.eni(nil)}
	managed := m.eni(func(e *ecsfake.ENI) { e.ServiceManaged = true })
	untagged := m.eni(func(e *ecsfake.ENI) { e.Tags = nil })
	m.eni(func(e *ecsfake.ENI) { e.Type = "Primary" }) // not listed: the listing asks for secondary ENIs
	reps := m.run(detach.Target{RegionID: ecsfake.DefaultRegion, InstanceID: "i-a1", Wait: true})
	var got []string
	for _, r := range reps[0].Results {
		if r.Outcome != eventschema.OutcomeDetached || r.InstanceID != "i-a1" {
			t.Fatalf("result %+v", r)
		}
		got = append(got, r.NetworkInterfaceID)
	}
	if !slices.Equal(got, good) {
		t.Fatalf("results for %v, want %v", got, good)
	}
	var skipped []string
	for _, s := range reps[0].Skipped {
		skipped = append(skipped, s.NetworkInterfaceID)
	}
	if !slices.Equal(skipped, []string{managed, untagged}) {
		t.Fatalf("skipped %+v", reps[0].Skipped)
	}
	var listings []string
	for _, c := range m.ecs.Calls(describe) {
		if c.InstanceID != "" {
			listings = append(listings, c.RequestID)
		}
	}
	if len(listings) != 3 {
		t.Fatalf("%d listing pages, want 3 of at most 2", len(listings))
	}
	for _, r := range reps[0].Results {
		for _, id := range listings {
			if slices.Contains(r.RequestIDs, id) {
				t.Fatalf("a listing's request id on %s", r.NetworkInterfaceID)
			}
		}
	}
}

// TestInstanceListingFailureIsOneResult: an instance whose ENIs cannot be
// listed is reported as one result naming the instance, with the request
// ids of the failed calls.
func TestInstanceListingFailureIsOneResult(t *testing.T) {
	m := newMachine(time.Second)
	m.ecs.Fail(describe, &ecsapi.Error{Kind: ecsapi.KindServer, Code: "Forbidden.RAM", HTTPStatus: 403})
	reps := m.run(detach.Target{RegionID: ecsfake.DefaultRegion, InstanceID: "i-a1", Wait: true, FCRequestID: "fc-2"})
	if len(reps[0].Results) != 1 {
		t.Fatalf("report %+v", reps[0])
	}
	r := reps[0].Results[0]
	calls := m.ecs.Calls("")
	if r.Outcome != eventschema.OutcomePermissionDenied || r.NetworkInterfaceID != "" || r.InstanceID != "i-a1" ||
		r.FCRequestID != "fc-2" || len(calls) != 1 || !slices.Equal(r.RequestIDs, []string{calls[0].RequestID}) {
		t.Fatalf("result %+v, calls %+v", r, calls)
	}
}

// TestInstanceListingFailureOnALaterPage: when a later page of an
// instance's listing fails, the ENIs of the earlier pages are still acted
// on and each keeps its result, and the failure is one more result naming
// the instance: nothing that was done goes unreported.
func TestInstanceListingFailureOnALaterPage(t *testing.T) {
	m := newMachine(time.Second)
	m.p.PageSize = 2
	first := []string{m.eni(nil), m.eni(nil)}
	m.eni(nil) // on the page that cannot be read
	m.ecs.Fail(describe, nil, &ecsapi.Error{Kind: ecsapi.KindServer, Code: "Forbidden.RAM", HTTPStatus: 403})
	reps := m.run(detach.Target{RegionID: ecsfake.DefaultRegion, InstanceID: "i-a1", Wait: true})
	res := reps[0].Results
	if len(res) != 3 {
		t.Fatalf("%d results, want 2 ENIs and the listing failure: %+v", len(res), res)
	}
	for i, id := range first {
		if res[i].NetworkInterfaceID != id || res[i].Outcome != eventschema.OutcomeDetached {
			t.Fatalf("result %d: %+v", i, res[i])
		}
		if e, _ := m.ecs.Get(id); e.Status != "Available" {
			t.Fatalf("%s is %s", id, e.Status)
		}
	}
	last := res[2]
	if last.NetworkInterfaceID != "" || last.InstanceID != "i-a1" || last.Outcome != eventschema.OutcomePermissionDenied ||
		last.Error == nil || last.Error.Code != "Forbidden.RAM" {
		t.Fatalf("listing failure %+v", last)
	}
	if reps[0].Ignored != "" {
		t.Fatalf("ignored %q", reps[0].Ignored)
	}
}

// TestLostLookWhileFollowingEndsPending: a poll that fails for good (the
// token expired mid-invocation) stops the following; the ENI is reported
// Pending, as last seen, with the error.
func TestLostLookWhileFollowingEndsPending(t *testing.T) {
	m := newMachine(10 * time.Second)
	id := m.eni(nil)
	m.ecs.Fail(describe, nil) // the first look succeeds
	m.ecs.Fail(describe, &ecsapi.Error{Kind: ecsapi.KindServer, Code: "InvalidSecurityToken.Expired", HTTPStatus: 403})
	r := m.one(t, named(id))
	if r.Outcome != eventschema.OutcomePending || r.Status != eventschema.StatusDetaching || r.Error == nil ||
		r.Error.Code != "InvalidSecurityToken.Expired" {
		t.Fatalf("result %+v %+v", r, r.Error)
	}
	if n := len(m.ecs.Calls(describe)); n != 2 {
		t.Fatalf("%d describes: looking went on after a permanent failure", n)
	}
}

// TestDeletedAfterDetachIsDetached: an ENI that vanished after ECS took
// the detach is off the instance.
func TestDeletedAfterDetachIsDetached(t *testing.T) {
	m := newMachine(2 * time.Second)
	r := m.one(t, named(m.eni(func(e *ecsfake.ENI) { e.Vanishes = true })))
	if r.Outcome != eventschema.OutcomeDetached || r.Status != eventschema.StatusNotFound || r.PreviousStatus != "InUse" || r.Error != nil {
		t.Fatalf("result %+v", r)
	}
}
