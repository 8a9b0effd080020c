package detach_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/eni-detach/eni-detach/eventschema"
	"github.com/eni-detach/eni-detach/internal/config"
	"github.com/eni-detach/eni-detach/internal/detach"
	ecsemu "github.com/eni-detach/eni-detach/internal/emulator/ecs"
	"github.com/eni-detach/eni-detach/internal/testenv"
)

const region = testenv.Region

func runOne(t *testing.T, env *testenv.ECS, p detach.Policy, tg detach.Target) eventschema.Result {
	t.Helper()
	reps := detach.NewEngine(p).Run(context.Background(), detach.Single(env.API()), []detach.Target{tg})
	if len(reps) != 1 || len(reps[0].Results) != 1 {
		t.Fatalf("want one result, got %+v", reps)
	}
	return reps[0].Results[0]
}

// virtualECS starts the ECS emulator on a fake clock and returns
// testenv.FastPolicy on the same clock: the engine's waits (polls,
// re-issues, backoff, the wait budget) and the emulator's detach delays
// and quota windows then cost no wall time, while every call still goes
// through the real SDK client to the emulator.
func virtualECS(t *testing.T, opts ...ecsemu.Option) (*testenv.ECS, detach.Policy, *testenv.Clock) {
	t.Helper()
	clk := testenv.NewClock()
	env := testenv.StartECS(t, append(opts, ecsemu.WithClock(clk.Now))...)
	p := testenv.FastPolicy()
	p.Clock = clk
	return env, p, clk
}

func detachCalls(env *testenv.ECS) int { return len(env.Srv.CallsFor("DetachNetworkInterface")) }

func TestDetachAndWait(t *testing.T) {
	env, p, _ := virtualECS(t)
	enis := env.Instance(t, "i-a1", 1)
	r := runOne(t, env, p, detach.Target{RegionID: region, NetworkInterfaceID: enis[0], InstanceID: "i-a1", Wait: true})
	if r.Outcome != eventschema.OutcomeDetached || r.Status != "Available" || r.PreviousStatus != "InUse" || r.DetachAttempts != 1 {
		t.Fatalf("result %+v", r)
	}
	if got, _ := env.Srv.GetENI(enis[0]); got.Status != "Available" || got.InstanceID != "" {
		t.Fatalf("emulator ENI %+v", got)
	}
	// Every ECS call about the ENI is in requestIds, in order.
	var want []string
	for _, c := range env.Srv.Calls() {
		want = append(want, c.RequestID)
	}
	if !slices.Equal(r.RequestIDs, want) {
		t.Fatalf("requestIds %v, emulator saw %v", r.RequestIDs, want)
	}
	if r.InstanceID != "i-a1" || r.FinishedAt.Before(r.StartedAt) || r.DurationMs < 0 {
		t.Fatalf("result fields %+v", r)
	}
}

func TestNoWaitReturnsPending(t *testing.T) {
	env, p, _ := virtualECS(t)
	enis := env.Instance(t, "i-a1", 1)
	r := runOne(t, env, p, detach.Target{RegionID: region, NetworkInterfaceID: enis[0], Wait: false})
	if r.Outcome != eventschema.OutcomePending || r.Status != "Detaching" || detachCalls(env) != 1 {
		t.Fatalf("result %+v, %d detach calls", r, detachCalls(env))
	}
	if n := len(env.Srv.CallsFor("DescribeNetworkInterfaces")); n != 1 {
		t.Fatalf("Wait=false must not poll: %d describes", n)
	}
}

func TestGuardsMakeNoDetachCall(t *testing.T) {
	sel, _ := config.ParseTagSelector("failover=yes")
	tests := []struct {
		name    string
		eni     ecsemu.ENI
		tg      detach.Target
		policy  func(*detach.Policy)
		outcome eventschema.Outcome
		code    string
	}{
		{"already available", ecsemu.ENI{ID: "eni-x1"}, detach.Target{NetworkInterfaceID: "eni-x1"}, nil, eventschema.OutcomeAlreadyDetached, ""},
		{"primary", ecsemu.ENI{ID: "eni-x1", Type: ecsemu.ENIPrimary, InstanceID: "i-a1"}, detach.Target{NetworkInterfaceID: "eni-x1"}, nil, eventschema.OutcomeConflict, detach.CodeGuardPrimary},
		{"service managed", ecsemu.ENI{ID: "eni-x1", ServiceManaged: true, InstanceID: "i-a1"}, detach.Target{NetworkInterfaceID: "eni-x1"}, nil, eventschema.OutcomeConflict, detach.CodeGuardServiceManaged},
		{"other instance", ecsemu.ENI{ID: "eni-x1", InstanceID: "i-b2"}, detach.Target{NetworkInterfaceID: "eni-x1", InstanceID: "i-a1"}, nil, eventschema.OutcomeConflict, detach.CodeGuardOtherInstance},
		{"tag selector", ecsemu.ENI{ID: "eni-x1", InstanceID: "i-a1", Tags: map[string]string{"failover": "no"}}, detach.Target{NetworkInterfaceID: "eni-x1"},
			func(p *detach.Policy) { p.TagSelector = sel }, eventschema.OutcomeRefused, detach.CodeGuardTagSelector},
		{"deleting", ecsemu.ENI{ID: "eni-x1", Status: ecsemu.ENIDeleting}, detach.Target{NetworkInterfaceID: "eni-x1"}, nil, eventschema.OutcomeConflict, detach.CodeGuardDeleting},
		{"not found", ecsemu.ENI{ID: "eni-other"}, detach.Target{NetworkInterfaceID: "eni-x1"}, nil, eventschema.OutcomeNotFound, detach.CodeNotFound},
		{"dry run", ecsemu.ENI{ID: "eni-x1", InstanceID: "i-a1"}, detach.Target{NetworkInterfaceID: "eni-x1", DryRun: true}, nil, eventschema.OutcomeDryRun, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := testenv.StartECS(t)
			for _, id := range []string{"i-a1", "i-b2"} {
				if err := env.Srv.AddInstance(ecsemu.Instance{ID: id}); err != nil {
					t.Fatal(err)
				}
			}
			if err := env.Srv.AddENI(tc.eni); err != nil {
				t.Fatal(err)
			}
			p := testenv.FastPolicy()
			if tc.policy != nil {
				tc.policy(&p)
			}
			tc.tg.RegionID, tc.tg.Wait = region, true
			r := runOne(t, env, p, tc.tg)
			if r.Outcome != tc.outcome {
				t.Fatalf("outcome %s, want %s (%+v)", r.Outcome, tc.outcome, r.Error)
			}
			if tc.code != "" && (r.Error == nil || r.Error.Code != tc.code) {
				t.Fatalf("error %+v, want code %s", r.Error, tc.code)
			}
			if n := detachCalls(env); n != 0 {
				t.Fatalf("%d detach calls, want 0", n)
			}
			if r.DetachAttempts != 0 {
				t.Fatalf("detachAttempts %d", r.DetachAttempts)
			}
		})
	}
}

func TestStuckDetachIsReissued(t *testing.T) {
	env, p, _ := virtualECS(t)
	enis := env.Instance(t, "i-a1", 1)
	if err := env.Srv.UpdateENI(enis[0], func(e *ecsemu.ENI) { e.StuckReissues = 2 }); err != nil {
		t.Fatal(err)
	}
	r := runOne(t, env, p, detach.Target{RegionID: region, NetworkInterfaceID: enis[0], Wait: true})
	if r.Outcome != eventschema.OutcomeDetached || r.DetachAttempts != 3 {
		t.Fatalf("result %+v", r)
	}
	if got, _ := env.Srv.GetENI(enis[0]); got.DetachCalls != 3 {
		t.Fatalf("emulator counted %d detaches", got.DetachCalls)
	}
}

func TestStuckBeyondReissuesEndsPending(t *testing.T) {
	env, p, _ := virtualECS(t)
	enis := env.Instance(t, "i-a1", 1)
	if err := env.Srv.UpdateENI(enis[0], func(e *ecsemu.ENI) { e.StuckReissues = 10 }); err != nil {
		t.Fatal(err)
	}
	p.DetachTimeout = 2 * time.Second
	r := runOne(t, env, p, detach.Target{RegionID: region, NetworkInterfaceID: enis[0], Wait: true})
	if r.Outcome != eventschema.OutcomePending || r.Status != "Detaching" {
		t.Fatalf("result %+v", r)
	}
	if n := detachCalls(env); n != 4 {
		t.Fatalf("%d detach calls, want 4 (1 + 3 re-issues)", n)
	}
}

func TestThrottlingIsRetried(t *testing.T) {
	env, p, _ := virtualECS(t)
	enis := env.Instance(t, "i-a1", 1)
	env.Srv.Throttle("DetachNetworkInterface", 2)
	r := runOne(t, env, p, detach.Target{RegionID: region, NetworkInterfaceID: enis[0], Wait: true})
	if r.Outcome != eventschema.OutcomeDetached || r.DetachAttempts != 3 {
		t.Fatalf("result %+v", r)
	}
	calls := env.Srv.CallsFor("DetachNetworkInterface")
	if len(calls) != 3 || calls[0].Code != "Throttling.User" || calls[2].Code != "" {
		t.Fatalf("calls %+v", calls)
	}
	// The throttled calls' request ids are kept too.
	for _, c := range calls {
		if !slices.Contains(r.RequestIDs, c.RequestID) {
			t.Fatalf("requestIds %v lack %s", r.RequestIDs, c.RequestID)
		}
	}
}

func TestThrottlingWaitsForTheNextWindow(t *testing.T) {
	env, p, _ := virtualECS(t)
	enis := env.Instance(t, "i-a1", 1)
	p.QuotaWindow = 400 * time.Millisecond
	p.Retry.MaxAttempts = 6
	// One detach per window: the second call in a window is throttled.
	env.Srv.SetQuota("DetachNetworkInterface", 1, p.QuotaWindow)
	env.Srv.Throttle("DetachNetworkInterface", 2) // spend attempts 1–2 in the window
	r := runOne(t, env, p, detach.Target{RegionID: region, NetworkInterfaceID: enis[0], Wait: true})
	if r.Outcome != eventschema.OutcomeDetached {
		t.Fatalf("result %+v", r)
	}
	calls := env.Srv.CallsFor("DetachNetworkInterface")
	last := calls[len(calls)-1]
	if last.Code != "" {
		t.Fatalf("last call %+v", last)
	}
	// After a throttle the limiter held the retry until the next window.
	prev := calls[len(calls)-2]
	if last.Time.Truncate(p.QuotaWindow).Equal(prev.Time.Truncate(p.QuotaWindow)) {
		t.Fatalf("retry at %v stayed in the window of %v", last.Time, prev.Time)
	}
}

func TestDeadlineGivesPendingBeforeIt(t *testing.T) {
	env, p, clk := virtualECS(t, ecsemu.WithDetachDelay(time.Minute))
	enis := env.Instance(t, "i-a1", 1)
	p.DetachTimeout = time.Minute
	p.RedetachAfter = time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	dl, _ := ctx.Deadline()
	reps := (&detach.Engine{Policy: p}).Run(ctx, detach.Single(env.API()), []detach.Target{{RegionID: region, NetworkInterfaceID: enis[0], Wait: true}})
	if !clk.Now().Before(dl) || !time.Now().Before(dl) {
		t.Fatal("the engine returned after the deadline")
	}
	// It waited for the detach as long as the margin allowed.
	if waited := clk.Now().Sub(dl.Add(-p.DeadlineMargin)); waited < 0 {
		t.Fatalf("the engine stopped %v before the margin", -waited)
	}
	r := reps[0].Results[0]
	if r.Outcome != eventschema.OutcomePending || r.Status != "Detaching" || r.DetachAttempts != 1 {
		t.Fatalf("result %+v", r)
	}
}

func TestLessThanMarginLeftStillDetachesOnce(t *testing.T) {
	env := testenv.StartECS(t)
	enis := env.Instance(t, "i-a1", 1)
	p := testenv.FastPolicy()
	p.DeadlineMargin = 3 * time.Second // more than the whole budget
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	reps := (&detach.Engine{Policy: p}).Run(ctx, detach.Single(env.API()), []detach.Target{{RegionID: region, NetworkInterfaceID: enis[0], Wait: true}})
	r := reps[0].Results[0]
	if r.Outcome != eventschema.OutcomePending || detachCalls(env) != 1 {
		t.Fatalf("result %+v, %d detach calls", r, detachCalls(env))
	}
	if n := len(env.Srv.CallsFor("DescribeNetworkInterfaces")); n != 1 {
		t.Fatalf("%d describes: must not wait", n)
	}
}

// TestHungECSDoesNotPassTheDeadline runs on the real clock: the hung call
// ends at the real deadline of its HTTP request.
func TestHungECSDoesNotPassTheDeadline(t *testing.T) {
	t.Parallel()
	env := testenv.StartECS(t)
	enis := env.Instance(t, "i-a1", 1)
	env.Srv.InjectHang("DetachNetworkInterface", -1)
	p := testenv.FastPolicy()
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	dl, _ := ctx.Deadline()
	reps := (&detach.Engine{Policy: p}).Run(ctx, detach.Single(env.API()), []detach.Target{{RegionID: region, NetworkInterfaceID: enis[0], Wait: true}})
	if !time.Now().Before(dl) {
		t.Fatal("returned after the deadline")
	}
	r := reps[0].Results[0]
	if r.Outcome != eventschema.OutcomeFailed || r.Error == nil || !r.Error.Retryable {
		t.Fatalf("result %+v %+v", r, r.Error)
	}
}

func TestAlreadyDetachingIsFollowedNotDetachedAgain(t *testing.T) {
	env, p, _ := virtualECS(t)
	enis := env.Instance(t, "i-a1", 1)
	if err := env.Srv.SetENIStatus(enis[0], ecsemu.ENIDetaching); err != nil {
		t.Fatal(err)
	}
	r := runOne(t, env, p, detach.Target{RegionID: region, NetworkInterfaceID: enis[0], Wait: true})
	if r.Outcome != eventschema.OutcomeDetached || r.PreviousStatus != "Detaching" || r.DetachAttempts != 0 {
		t.Fatalf("result %+v", r)
	}
	if n := detachCalls(env); n != 0 {
		t.Fatalf("%d detach calls for an ENI already Detaching", n)
	}
}

func TestAttachingWaitsThenDetaches(t *testing.T) {
	env, p, _ := virtualECS(t)
	enis := env.Instance(t, "i-a1", 1)
	if err := env.Srv.SetENIStatus(enis[0], ecsemu.ENIAttaching); err != nil {
		t.Fatal(err)
	}
	if err := env.Srv.ScheduleENIStatus(enis[0], ecsemu.ENIInUse, 150*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	r := runOne(t, env, p, detach.Target{RegionID: region, NetworkInterfaceID: enis[0], Wait: true})
	if r.Outcome != eventschema.OutcomeDetached || r.PreviousStatus != "Attaching" || r.DetachAttempts != 1 {
		t.Fatalf("result %+v", r)
	}
}

// TestReissueLooksFirst: when a re-issue falls due together with a poll,
// the ENI is described first; one that became Available meanwhile is not
// detached again (which ECS would refuse with InvalidEniState).
func TestReissueLooksFirst(t *testing.T) {
	env, p, _ := virtualECS(t, ecsemu.WithDetachDelay(250*time.Millisecond))
	enis := env.Instance(t, "i-a1", 1)
	p.Poll = detach.PollSchedule{First: 100 * time.Millisecond, Step: 100 * time.Millisecond, Max: time.Second}
	p.RedetachAfter = 300 * time.Millisecond // due with the second poll (100 ms + 200 ms)
	r := runOne(t, env, p, detach.Target{RegionID: region, NetworkInterfaceID: enis[0], Wait: true})
	if r.Outcome != eventschema.OutcomeDetached || r.DetachAttempts != 1 {
		t.Fatalf("result %+v %+v", r, r.Error)
	}
	for _, c := range env.Srv.CallsFor("DetachNetworkInterface") {
		if c.Code != "" {
			t.Fatalf("a refused detach: %+v", c)
		}
	}
}

// TestInstanceWideDecidesFromTheListing: the listing of an instance's
// secondary ENIs is the look before acting; no describe by id comes
// between it and the detaches (every describe counts against the quota).
func TestInstanceWideDecidesFromTheListing(t *testing.T) {
	env, p, _ := virtualECS(t)
	env.Instance(t, "i-a1", 2)
	reps := detach.NewEngine(p).Run(context.Background(), detach.Single(env.API()),
		[]detach.Target{{RegionID: region, InstanceID: "i-a1", Wait: true}})
	for _, r := range reps[0].Results {
		if r.Outcome != eventschema.OutcomeDetached {
			t.Fatalf("result %+v", r)
		}
	}
	var describes int
	for _, c := range env.Srv.Calls() {
		if c.Action == "DetachNetworkInterface" {
			break
		}
		describes++
		if c.Params["InstanceId"] != "i-a1" {
			t.Fatalf("a describe by id before the detach: %v", c.Params)
		}
	}
	if describes != 1 {
		t.Fatalf("%d describes before the first detach, want the listing only", describes)
	}
}

// TestQuotaSpentPastTheBudgetFailsRetryable: when ECS's quota comes back
// only after the wait budget, the limiter answers at once: the ENI ends
// Failed with a retryable error (FC's async retry takes over), not Pending
// and not after waiting out the budget.
func TestQuotaSpentPastTheBudgetFailsRetryable(t *testing.T) {
	env, p, clk := virtualECS(t)
	p.QuotaWindow = 20 * time.Second // the budget (5 s) ends inside the window
	now := clk.Now()
	clk.Advance(now.Truncate(p.QuotaWindow).Add(p.QuotaWindow + time.Second).Sub(now))
	env.Srv.SetQuota("DetachNetworkInterface", 1, p.QuotaWindow)
	env.Instance(t, "i-a1", 2)
	start := clk.Now()
	reps := detach.NewEngine(p).Run(context.Background(), detach.Single(env.API()),
		[]detach.Target{{RegionID: region, InstanceID: "i-a1", Wait: true}})
	outcomes := map[eventschema.Outcome]int{}
	for _, r := range reps[0].Results {
		outcomes[r.Outcome]++
		if r.Outcome != eventschema.OutcomeFailed {
			continue
		}
		if r.Error == nil || r.Error.Code != detach.CodeQuotaExhausted || !r.Error.Retryable || r.DetachAttempts != 1 {
			t.Errorf("failed result %+v, error %+v: want %s, retryable, one detach call", r, r.Error, detach.CodeQuotaExhausted)
		}
		if len(r.RequestIDs) == 0 {
			t.Errorf("the throttled call's RequestId is missing: %+v", r)
		}
	}
	if outcomes[eventschema.OutcomeDetached] != 1 || outcomes[eventschema.OutcomeFailed] != 1 {
		t.Fatalf("outcomes %v, want one Detached and one Failed", outcomes)
	}
	if waited := clk.Now().Sub(start); waited >= p.DetachTimeout {
		t.Fatalf("the engine waited %v, the whole budget", waited)
	}
	if n := detachCalls(env); n != 2 {
		t.Fatalf("%d detach calls, want 2 (one accepted, one throttled)", n)
	}
}
