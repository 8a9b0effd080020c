package reliability_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/eni-detach/eni-detach/eventschema"
	"github.com/eni-detach/eni-detach/handler"
	"github.com/eni-detach/eni-detach/internal/config"
	"github.com/eni-detach/eni-detach/internal/detach"
	"github.com/eni-detach/eni-detach/internal/ecsapi"
	ecsemu "github.com/eni-detach/eni-detach/internal/emulator/ecs"
	"github.com/eni-detach/eni-detach/internal/testenv"
)

const (
	guardInstance = "i-guard"
	otherInstance = "i-other"
	guardENI      = "eni-guarded"
	trunkENI      = "eni-trunk"
	selector      = "eni-detach=enabled"
)

// guardCase is one never-detach rule. The guarded invocation must make no
// detach call; then either ECS is shown to answer the call the product
// would have made differently (ecsWould), and the same ENI with the guard
// condition lifted is detached through the same product path (lift). A
// guard that were removed would make the first invocation call detach:
// ECS would then accept it (foreign instance, tag selector, dry run) or
// refuse it with its own code instead of the Guard.* one.
type guardCase struct {
	name string
	eni  ecsemu.ENI // the guarded ENI (on guardInstance unless it says)
	// o is the handler of the guarded invocation; request its payload.
	o       opts
	request string
	outcome eventschema.Outcome
	code    string // Guard.* code; "" for a dry run
	// ecsWould is the ECS code for the detach call the product would have
	// made ("" when ECS would have accepted it: not called, lift shows it).
	ecsWould string
	// lift removes the guard condition: an edit of the ENI, a handler, a
	// request; the invocation then detaches the same ENI.
	liftENI     func(*ecsemu.ENI)
	liftOpts    *opts
	liftRequest string
}

func tagged() map[string]string { return map[string]string{"eni-detach": "enabled", "team": "sre"} }

func withSelector(p *detach.Policy) {
	sel, err := config.ParseTagSelector(selector)
	if err != nil {
		panic(err)
	}
	p.TagSelector = sel
}

func guardCases() []guardCase {
	named := eniRequest(guardENI, guardInstance)
	return []guardCase{
		{
			name: "primary", eni: ecsemu.ENI{Type: ecsemu.ENIPrimary, Tags: tagged()},
			request: named, outcome: eventschema.OutcomeConflict, code: detach.CodeGuardPrimary,
			ecsWould: "InvalidOperation.DetachPrimaryEniNotAllowed",
			liftENI:  func(x *ecsemu.ENI) { x.Type = ecsemu.ENISecondary },
		},
		{
			name: "service-managed", eni: ecsemu.ENI{ServiceManaged: true, Tags: tagged()},
			request: named, outcome: eventschema.OutcomeConflict, code: detach.CodeGuardServiceManaged,
			ecsWould: "InvalidOperation.EniServiceManaged",
			liftENI:  func(x *ecsemu.ENI) { x.ServiceManaged = false },
		},
		{
			// The product detaches from the instance Describe shows, so
			// without the guard it would detach the ENI from i-other.
			name: "foreign-instance", eni: ecsemu.ENI{InstanceID: otherInstance, Tags: tagged()},
			request: named, outcome: eventschema.OutcomeConflict, code: detach.CodeGuardOtherInstance,
			liftRequest: eniRequest(guardENI, otherInstance),
		},
		{
			name: "tag-selector", eni: ecsemu.ENI{Tags: map[string]string{"team": "sre"}},
			o:       opts{policy: withSelector},
			request: named, outcome: eventschema.OutcomeRefused, code: detach.CodeGuardTagSelector,
			liftENI: func(x *ecsemu.ENI) { x.Tags = tagged() },
		},
		{
			name: "dry-run/DRY_RUN-in-the-handler-config", eni: ecsemu.ENI{Tags: tagged()},
			o:       opts{deps: func(d *handler.Deps) { d.Config.DryRun = true }},
			request: named, outcome: eventschema.OutcomeDryRun,
			liftOpts: &opts{},
		},
		{
			name: "dry-run/request", eni: ecsemu.ENI{Tags: tagged()},
			request:     `{"NetworkInterfaceId":"` + guardENI + `","InstanceId":"` + guardInstance + `","DryRun":true}`,
			outcome:     eventschema.OutcomeDryRun,
			liftRequest: named,
		},
		{
			name: "member-without-trunk", eni: ecsemu.ENI{Type: ecsemu.ENIMember, TrunkID: trunkENI, Tags: tagged()},
			request: named, outcome: eventschema.OutcomeConflict, code: detach.CodeGuardTrunk,
			ecsWould:    "InvalidParameter.EniNotBelongTrunk",
			liftRequest: `{"NetworkInterfaceId":"` + guardENI + `","InstanceId":"` + guardInstance + `","TrunkNetworkInstanceId":"` + trunkENI + `"}`,
		},
	}
}

func seedGuard(t *testing.T, e *env, eni ecsemu.ENI) {
	t.Helper()
	for _, id := range []string{guardInstance, otherInstance} {
		mustOK(t, e.ecs.Srv.AddInstance(ecsemu.Instance{ID: id, Status: ecsemu.InstanceRunning}))
	}
	mustOK(t, e.ecs.Srv.AddENI(ecsemu.ENI{ID: trunkENI, Type: ecsemu.ENITrunk, InstanceID: guardInstance}))
	eni.ID = guardENI
	if eni.InstanceID == "" {
		eni.InstanceID = guardInstance
	}
	mustOK(t, e.ecs.Srv.AddENI(eni))
}

// TestGuardsStopTheDetach proves each guard by showing that it, not ECS,
// is what kept the ENI attached.
func TestGuardsStopTheDetach(t *testing.T) {
	for _, gc := range guardCases() {
		t.Run(gc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, gc.o)
			seedGuard(t, e, gc.eni)

			o := e.invoke(t, "req-guarded", gc.request, 5*time.Second)
			if o.err != nil {
				t.Fatalf("returned %v", o.err)
			}
			if n := e.detachCalls(); n != 0 {
				t.Fatalf("%d DetachNetworkInterface calls reached ECS: the guard did not stop it", n)
			}
			if len(o.resp.Results) != 1 {
				t.Fatalf("response %+v", o.resp)
			}
			r := o.resp.Results[0]
			code := ""
			if r.Error != nil {
				code = r.Error.Code
			}
			if r.Outcome != gc.outcome || code != gc.code || r.DetachAttempts != 0 || r.Status != eventschema.StatusInUse {
				t.Fatalf("result %+v error %+v, want %s %q", r, r.Error, gc.outcome, gc.code)
			}
			wantEvents := 1
			if gc.outcome == eventschema.OutcomeDryRun {
				wantEvents = 0 // a dry run publishes nothing
				if !r.DryRun {
					t.Fatal("a dry run result without dryRun true")
				}
			}
			if n := len(e.eb.Srv.Events()); n != wantEvents {
				t.Fatalf("%d events published, want %d", n, wantEvents)
			}

			if gc.ecsWould != "" {
				// The call the product would have made without the guard:
				// the ENI's observed instance, the request's trunk.
				eni, _ := e.ecs.Srv.GetENI(guardENI)
				_, err := e.ecs.API().DetachNetworkInterface(context.Background(), ecsapi.DetachInput{
					RegionID: testenv.Region, ENIID: guardENI, InstanceID: eni.InstanceID})
				var ee *ecsapi.Error
				if !errors.As(err, &ee) || ee.Code != gc.ecsWould {
					t.Fatalf("ECS would have answered %v, want %s", err, gc.ecsWould)
				}
				if ee.Code == gc.code {
					t.Fatal("the guard's code is ECS's: the test cannot tell them apart")
				}
			}

			// Lift the guard condition on the same ENI: the same product
			// path now detaches it.
			h, req := e.h, gc.request
			if gc.liftENI != nil {
				editENI(t, e, guardENI, gc.liftENI)
			}
			if gc.liftOpts != nil {
				h = e.handler(*gc.liftOpts)
			}
			if gc.liftRequest != "" {
				req = gc.liftRequest
			}
			e.h = h
			lifted := e.invoke(t, "req-lifted", req, 5*time.Second)
			if lifted.err != nil || len(lifted.resp.Results) != 1 || lifted.resp.Results[0].Outcome != eventschema.OutcomeDetached {
				t.Fatalf("with the guard condition lifted: %+v %v", lifted.resp, lifted.err)
			}
			if got := e.accepted(t, guardENI); got != 1 {
				t.Fatalf("the emulator accepted %d detaches of the lifted ENI, want 1", got)
			}
		})
	}
}

// TestInstanceWideGuardsSkip: an instance-only request acts on eligible
// secondaries only; the others are skipped with a reason and never get a
// detach call. Without the selector the untagged ENI is detached by the
// same request, so the selector is what skipped it.
func TestInstanceWideGuardsSkip(t *testing.T) {
	t.Parallel()
	e := newEnv(t, opts{policy: withSelector})
	mustOK(t, e.ecs.Srv.AddInstance(ecsemu.Instance{ID: guardInstance}))
	for _, x := range []ecsemu.ENI{
		{ID: "eni-primary", Type: ecsemu.ENIPrimary, Tags: tagged()},
		{ID: "eni-managed", ServiceManaged: true, Tags: tagged()},
		{ID: trunkENI, Type: ecsemu.ENITrunk, Tags: tagged()},
		{ID: "eni-member", Type: ecsemu.ENIMember, TrunkID: trunkENI, Tags: tagged()},
		{ID: "eni-untagged", Tags: map[string]string{"team": "sre"}},
		{ID: "eni-eligible", Tags: tagged()},
	} {
		x.InstanceID = guardInstance
		mustOK(t, e.ecs.Srv.AddENI(x))
	}
	request := `{"InstanceId":"` + guardInstance + `"}`
	o := e.invoke(t, "req-wide", request, 5*time.Second)
	if o.err != nil || len(o.resp.Results) != 1 || o.resp.Results[0].NetworkInterfaceID != "eni-eligible" ||
		o.resp.Results[0].Outcome != eventschema.OutcomeDetached {
		t.Fatalf("response %+v %v", o.resp, o.err)
	}
	var skipped []string
	for _, s := range o.resp.Skipped {
		if s.Reason == "" {
			t.Fatalf("skipped without a reason: %+v", s)
		}
		skipped = append(skipped, s.NetworkInterfaceID)
	}
	slices.Sort(skipped)
	// The listing asks ECS for Type=Secondary: primary, trunk and member
	// ENIs are not even listed.
	if want := []string{"eni-managed", "eni-untagged"}; !slices.Equal(skipped, want) {
		t.Fatalf("skipped %v, want %v", skipped, want)
	}
	for _, c := range e.ecs.Srv.CallsFor("DetachNetworkInterface") {
		if id := c.Params["NetworkInterfaceId"]; id != "eni-eligible" {
			t.Fatalf("detach called for %s", id)
		}
	}
	e.h = e.handler(opts{})
	o = e.invoke(t, "req-wide-no-selector", request, 5*time.Second)
	if o.err != nil || len(o.resp.Results) != 1 || o.resp.Results[0].NetworkInterfaceID != "eni-untagged" ||
		o.resp.Results[0].Outcome != eventschema.OutcomeDetached {
		t.Fatalf("without the selector: %+v %v", o.resp, o.err)
	}
	for _, id := range []string{"eni-primary", "eni-managed", trunkENI, "eni-member"} {
		if n := e.accepted(t, id); n != 0 {
			t.Fatalf("%s was detached", id)
		}
	}
}
