package detach

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/eni-detach/eni-detach/eventschema"
	"github.com/eni-detach/eni-detach/internal/ecsapi"
	"github.com/eni-detach/eni-detach/internal/flowcontrol"
)

// Target is one thing to detach: a named ENI, or every eligible secondary
// ENI of an instance (NetworkInterfaceID empty).
type Target struct {
	// AccountID owns the resources: the function's own account or a
	// member account (README, "One function for an organisation"). The
	// Clients give the engine a client for it; every result carries it.
	AccountID          string
	RegionID           string
	NetworkInterfaceID string
	InstanceID         string
	TrunkID            string
	// DryRun: look and decide, never call detach (the request's DryRun or
	// DRY_RUN).
	DryRun bool
	Wait   bool

	// Trigger and FCRequestID are what asked; every result of the target
	// carries them, so results leave the engine complete.
	Trigger     eventschema.Trigger
	FCRequestID string

	// Invalid, when set, is why the request behind the target was refused
	// before the engine: the target gets one InvalidRequest result and no
	// ECS call.
	Invalid *eventschema.ValidationError
	// Refused, when set, is why the function's configuration forbids the
	// target before any call (an account it may not act in): the target
	// gets one Refused result with this error, and no STS or ECS call.
	// Unlike an invalid request, it is published.
	Refused *eventschema.ErrorInfo
}

// TargetReport is what became of one target.
type TargetReport struct {
	Results []eventschema.Result
	Skipped []eventschema.Skipped
	Ignored string
}

// Clients gives the engine the ECS client that may act on a target's
// resources. The engine asks once per target that needs ECS, and batches
// the describes of targets that got the same client (so a client must be a
// comparable value, such as a pointer). A client that cannot be had (no
// credentials for the target's account, say) is best returned as an
// ecsapi.API whose calls fail with an *ecsapi.Error: the engine then
// classifies and reports it like any other ECS refusal.
type Clients interface {
	Client(ctx context.Context, t Target) ecsapi.API
}

// Single serves every target with one client: one invocation, one set of
// credentials.
func Single(api ecsapi.API) Clients { return single{api} }

type single struct{ api ecsapi.API }

var _ Clients = single{}

func (s single) Client(context.Context, Target) ecsapi.API { return s.api }

// Engine runs detaches. It holds no per-invocation state and is safe for
// concurrent use; the ECS clients (with the invocation's credentials) are
// passed to Run.
type Engine struct {
	Policy Policy
	// Quotas paces every ECS call of the process against ECS's flow
	// control, one limiter per quota; nil means no limit (tests of the
	// state machine).
	Quotas *flowcontrol.Set
}

// NewEngine returns the production engine: the policy, and one limiter
// per ECS quota for the whole process, with the policy's window and clock.
func NewEngine(p Policy) *Engine {
	return &Engine{Policy: p, Quotas: flowcontrol.NewSet(flowcontrol.DefaultConfig(p.QuotaWindow, p.Clock))}
}

// Run carries out the targets together: one describe per client, region
// and 100 ENIs, one poll loop for all of them. It always returns one report
// per target, in order, and returns before ctx's deadline.
func (e *Engine) Run(ctx context.Context, clients Clients, targets []Target) []TargetReport {
	r := newRun(ctx, e)
	defer r.cancel()
	plans := r.plan(clients, targets)
	r.loop()
	r.finish()
	return r.reports(plans)
}

// run is the state of one Run: the ENIs and the poll schedule.
type run struct {
	ctx       context.Context
	callCtx   context.Context // ends CallReserve before ctx's deadline
	cancel    context.CancelFunc
	e         *Engine
	p         Policy
	clk       Clock
	log       *zerolog.Logger
	start     time.Time
	waitUntil time.Time
	enis      map[string]*eni // by account + "/" + region + "/" + ENI id
	order     []*eni

	pollN    int       // polls since the last detach call
	lastPoll time.Time // last poll or detach call
	stopPoll bool      // a poll failed for good (permissions): stop looking
}

func newRun(ctx context.Context, e *Engine) *run {
	p := e.Policy
	clk := p.Clock
	if clk == nil {
		clk = realClock{}
	}
	now := clk.Now()
	r := &run{ctx: ctx, e: e, p: p, clk: clk, log: zerolog.Ctx(ctx), start: now, enis: map[string]*eni{}}
	r.waitUntil = now.Add(p.DetachTimeout)
	r.callCtx, r.cancel = ctx, func() {}
	if dl, ok := ctx.Deadline(); ok {
		if w := dl.Add(-p.DeadlineMargin); w.Before(r.waitUntil) {
			r.waitUntil = w
		}
		r.callCtx, r.cancel = context.WithDeadline(ctx, dl.Add(-p.CallReserve))
	}
	return r
}
