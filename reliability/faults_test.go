package reliability_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eni-detach/eni-detach/eventschema"
	"github.com/eni-detach/eni-detach/handler"
	"github.com/eni-detach/eni-detach/internal/detach"
	ecsemu "github.com/eni-detach/eni-detach/internal/emulator/ecs"
	ebemu "github.com/eni-detach/eni-detach/internal/emulator/eventbridge"
)

const (
	cellInstance = "i-cell"
	skip         = -1 // a want field not checked by the cell
	// deadlineTimeout is the FC timeout of the cells where the deadline
	// is the point: long enough for a few calls, short enough that a
	// backoff, a throttling window or a hung call outlasts it.
	deadlineTimeout = 2 * time.Second
)

// want is what one cell must produce, for every result of the invocation.
type want struct {
	outcome   eventschema.Outcome
	status    string // ENI status last observed
	code      string // result error code; "" means no error
	retryable bool   // result error.retryable
	attempts  int    // detachAttempts (skip: varies)
	accepted  int    // detaches the emulator accepted per ENI (skip: varies)
	// event is the type of the follow-up event per result; onBus is how
	// many EventBridge stored (skip: one per result).
	event      string
	onBus      int
	publishErr string // substring of publishError; "" means none
	retErr     bool   // a *handler.RetryableError is returned to FC
	httpStatus int    // for HTTP cells
}

// cell is one fault of the matrix.
type cell struct {
	name    string
	o       opts
	enis    int           // secondaries of the instance; 0 means 1
	timeout time.Duration // FC timeout; 0 means 5 s
	// arm injects the fault before the invocation.
	arm func(t *testing.T, e *env, enis []string)
	// during runs alongside the invocation until stop is closed.
	during func(e *env, enis []string, stop <-chan struct{})
	// payload defaults to the ENI and instance by name (one ENI) or the
	// instance alone.
	payload func(enis []string) string
	// looseIDs: a call answered after the client gave up (InjectLatency)
	// is in the emulator's log but not in the result's requestIds.
	looseIDs bool
	// http sends the payload as the body of an HTTP trigger POST: the
	// answer is then an HTTP response and never an error.
	http  bool
	want  want
	check func(t *testing.T, e *env, o outcome, enis []string)
}

func deadlinePolicy(p *detach.Policy) {
	// The production order of the reserves: a hung call ends before
	// waiting stops, and both leave the publisher its 300 ms.
	p.DeadlineMargin = 800 * time.Millisecond
	p.CallReserve = 600 * time.Millisecond
}

func policy(fs ...func(*detach.Policy)) func(*detach.Policy) {
	return func(p *detach.Policy) {
		for _, f := range fs {
			f(p)
		}
	}
}

func editENI(t *testing.T, e *env, id string, edit func(*ecsemu.ENI)) {
	t.Helper()
	mustOK(t, e.ecs.Srv.UpdateENI(id, edit))
}

// expireOnceDetached expires the invocation's key in ECS (and, with eb,
// in EventBridge) as soon as the emulator has accepted a detach: the STS
// token runs out in the middle of the invocation.
func expireOnceDetached(eb bool) func(e *env, enis []string, stop <-chan struct{}) {
	return func(e *env, _ []string, stop <-chan struct{}) {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			for _, c := range e.ecs.Srv.CallsFor("DetachNetworkInterface") {
				if c.Code == "" && c.HTTPStatus == http.StatusOK {
					e.ecs.Srv.ExpireCredentials(e.creds.AccessKeyID)
					if eb {
						e.eb.Srv.ExpireCredentials(e.creds.AccessKeyID)
					}
					return
				}
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}
}

func faultCells() []cell {
	slowDetach := func(d time.Duration) func(t *testing.T, e *env, enis []string) {
		return func(t *testing.T, e *env, enis []string) {
			editENI(t, e, enis[0], func(x *ecsemu.ENI) { x.DetachDelay = d })
		}
	}
	detached := want{outcome: eventschema.OutcomeDetached, status: eventschema.StatusAvailable,
		attempts: 1, accepted: 1, event: eventschema.TypeDetached, onBus: skip}
	with := func(w want, f func(*want)) want { f(&w); return w }
	failed := func(code string, attempts, accepted int, status string) want {
		return want{outcome: eventschema.OutcomeFailed, status: status, code: code, retryable: true,
			attempts: attempts, accepted: accepted, event: eventschema.TypeDetachFailed, onBus: skip, retErr: true}
	}
	return []cell{
		// ECS throttling.
		{
			name: "ecs/throttle/burst-across-windows",
			// 5 ENIs at once against 2 detaches per 300 ms window: the
			// engine must wait for the next window after two throttles.
			o: opts{policy: func(p *detach.Policy) {
				p.QuotaWindow, p.Retry.MaxAttempts = 300*time.Millisecond, 6
			}},
			enis: 5,
			arm: func(_ *testing.T, e *env, _ []string) {
				e.ecs.Srv.SetQuota("DetachNetworkInterface", 2, 300*time.Millisecond)
			},
			want: with(detached, func(w *want) { w.attempts = skip }),
			check: func(t *testing.T, e *env, _ outcome, _ []string) {
				throttled := map[string]map[time.Time]int{} // ENI → window → throttled calls
				quota := 0
				for _, c := range e.ecs.Srv.CallsFor("DetachNetworkInterface") {
					if c.Fault != ecsemu.FaultQuota {
						continue
					}
					quota++
					eni := c.Params["NetworkInterfaceId"]
					if throttled[eni] == nil {
						throttled[eni] = map[time.Time]int{}
					}
					throttled[eni][c.Time.Truncate(300*time.Millisecond)]++
				}
				if quota == 0 {
					t.Fatal("no call was throttled: the cell did not exercise the quota")
				}
				for eni, windows := range throttled {
					for w, n := range windows {
						if n > 2 {
							t.Errorf("%s was throttled %d times in the window at %s: the engine did not wait for the next window", eni, n, w.Format(time.StampMilli))
						}
					}
				}
			},
		},
		{
			name: "ecs/throttle/describe-twice",
			arm:  func(_ *testing.T, e *env, _ []string) { e.ecs.Srv.Throttle("DescribeNetworkInterfaces", 2) },
			want: detached,
		},
		{
			name: "ecs/throttle/detach-always",
			o: opts{policy: func(p *detach.Policy) {
				p.QuotaWindow, p.Retry.MaxAttempts = 200*time.Millisecond, 3
			}},
			arm:  func(_ *testing.T, e *env, _ []string) { e.ecs.Srv.Throttle("DetachNetworkInterface", -1) },
			want: failed("Throttling.User", 3, 0, eventschema.StatusInUse),
		},
		// ECS 5xx.
		{
			name: "ecs/5xx/500-twice-then-ok",
			arm: func(_ *testing.T, e *env, _ []string) {
				e.ecs.Srv.InjectError("DetachNetworkInterface", "InternalError", http.StatusInternalServerError, 2)
			},
			want: with(detached, func(w *want) { w.attempts = 3 }),
		},
		{
			name: "ecs/5xx/503-detach-always",
			arm: func(_ *testing.T, e *env, _ []string) {
				e.ecs.Srv.InjectError("DetachNetworkInterface", "ServiceUnavailable", http.StatusServiceUnavailable, -1)
			},
			want: failed("ServiceUnavailable", 4, 0, eventschema.StatusInUse),
		},
		{
			name: "ecs/5xx/503-describe-always",
			arm: func(_ *testing.T, e *env, _ []string) {
				e.ecs.Srv.InjectError("DescribeNetworkInterfaces", "ServiceUnavailable", http.StatusServiceUnavailable, -1)
			},
			want: failed("ServiceUnavailable", 0, 0, ""),
		},
		{
			name: "ecs/5xx/500-on-a-poll",
			// A poll failing after the detach was accepted skips one
			// look; the next poll sees Available.
			arm: func(t *testing.T, e *env, enis []string) {
				editENI(t, e, enis[0], func(x *ecsemu.ENI) { x.DetachDelay = 150 * time.Millisecond })
			},
			during: func(e *env, _ []string, stop <-chan struct{}) {
				for {
					for _, c := range e.ecs.Srv.CallsFor("DetachNetworkInterface") {
						if c.Code == "" {
							e.ecs.Srv.InjectError("DescribeNetworkInterfaces", "InternalError", http.StatusInternalServerError, 1)
							return
						}
					}
					select {
					case <-stop:
						return
					case <-time.After(time.Millisecond):
					}
				}
			},
			want: detached,
			check: func(t *testing.T, e *env, _ outcome, _ []string) {
				for _, c := range e.ecs.Srv.CallsFor("DescribeNetworkInterfaces") {
					if c.Code == "InternalError" {
						return
					}
				}
				t.Fatal("no poll failed: the cell did not exercise the fault")
			},
		},
		{
			name: "ecs/4xx/unknown-code",
			// Not in the code table and not a 5xx: reported, not
			// retried, and FC is not asked to retry.
			arm: func(_ *testing.T, e *env, _ []string) {
				e.ecs.Srv.InjectError("DetachNetworkInterface", "Brand.NewCode", http.StatusBadRequest, -1)
			},
			want: want{outcome: eventschema.OutcomeFailed, status: eventschema.StatusInUse, code: "Brand.NewCode",
				attempts: 1, accepted: 0, event: eventschema.TypeDetachFailed, onBus: skip},
		},
		// Slow answers, against a 400 ms per-call budget.
		{
			name: "ecs/slow/below-budget",
			o:    opts{maxCall: 400 * time.Millisecond},
			arm: func(_ *testing.T, e *env, _ []string) {
				e.ecs.Srv.InjectLatency(ecsemu.AnyAction, 100*time.Millisecond, -1)
			},
			looseIDs: true,
			want:     detached,
		},
		{
			name: "ecs/slow/detach-above-budget",
			// The detach took effect but its answer came after the
			// budget: the retry finds the ENI Detaching and ECS accepts it
			// again.
			o: opts{maxCall: 250 * time.Millisecond, policy: func(p *detach.Policy) { p.RedetachAfter = 5 * time.Second }},
			arm: func(t *testing.T, e *env, enis []string) {
				slowDetach(700*time.Millisecond)(t, e, enis)
				e.ecs.Srv.InjectLatency("DetachNetworkInterface", time.Second, 1)
			},
			looseIDs: true,
			want:     with(detached, func(w *want) { w.attempts, w.accepted = 2, 2 }),
		},
		{
			name: "ecs/slow/detach-above-budget-completes-meanwhile",
			// The lost answer's detach completed before the retry: ECS
			// refuses the retry (InvalidEniState) and the ENI is
			// Available. This invocation detached it (README "Outcomes": Detached,
			// not AlreadyDetached, which means Available before any call).
			o: opts{maxCall: 250 * time.Millisecond},
			arm: func(_ *testing.T, e *env, _ []string) {
				e.ecs.Srv.InjectLatency("DetachNetworkInterface", time.Second, 1)
			},
			looseIDs: true,
			want:     with(detached, func(w *want) { w.attempts = 2 }),
			check: func(t *testing.T, e *env, _ outcome, _ []string) {
				calls := e.ecs.Srv.CallsFor("DetachNetworkInterface")
				if len(calls) != 2 || calls[1].Code != "InvalidOperation.InvalidEniState" {
					t.Fatalf("the retry was not refused for the ENI's state: %+v", calls)
				}
			},
		},
		{
			name: "ecs/slow/describe-above-budget",
			o:    opts{maxCall: 250 * time.Millisecond},
			arm: func(_ *testing.T, e *env, _ []string) {
				e.ecs.Srv.InjectLatency("DescribeNetworkInterfaces", time.Second, 1)
			},
			looseIDs: true,
			want:     detached,
		},
		// Hanging answers.
		{
			name: "ecs/hang/describe-once",
			o:    opts{maxCall: 250 * time.Millisecond},
			arm:  func(_ *testing.T, e *env, _ []string) { e.ecs.Srv.InjectHang("DescribeNetworkInterfaces", 1) },
			want: detached,
		},
		{
			name: "ecs/hang/detach-once",
			o:    opts{maxCall: 250 * time.Millisecond},
			arm:  func(_ *testing.T, e *env, _ []string) { e.ecs.Srv.InjectHang("DetachNetworkInterface", 1) },
			want: with(detached, func(w *want) { w.attempts = 2 }),
		},
		{
			name: "ecs/hang/detach-always-until-the-deadline",
			// The production 10 s per-call budget: only the deadline
			// ends the hung call.
			o:       opts{policy: deadlinePolicy},
			timeout: deadlineTimeout,
			arm:     func(_ *testing.T, e *env, _ []string) { e.ecs.Srv.InjectHang("DetachNetworkInterface", -1) },
			want:    failed("Transport.Timeout", 1, 0, eventschema.StatusInUse),
		},
		{
			name:    "ecs/hang/everything-until-the-deadline",
			o:       opts{policy: deadlinePolicy},
			timeout: deadlineTimeout,
			arm:     func(_ *testing.T, e *env, _ []string) { e.ecs.Srv.InjectHang(ecsemu.AnyAction, -1) },
			want:    failed("Transport.Timeout", 0, 0, ""),
		},
		// Connection resets.
		{
			name: "ecs/reset/detach-twice",
			arm:  func(_ *testing.T, e *env, _ []string) { e.ecs.Srv.InjectReset("DetachNetworkInterface", 2) },
			want: with(detached, func(w *want) { w.attempts = 3 }),
		},
		{
			name: "ecs/reset/describe-always",
			arm:  func(_ *testing.T, e *env, _ []string) { e.ecs.Srv.InjectReset("DescribeNetworkInterfaces", -1) },
			want: failed("Transport.Network", 0, 0, ""),
		},
		// STS token expiring mid-invocation.
		{
			name: "sts/expires-after-the-detach-was-accepted",
			// The polls are refused from then on: the ENI is reported as
			// last seen (Detaching), Pending, with the permission error.
			o:      opts{policy: func(p *detach.Policy) { p.Poll.First = 150 * time.Millisecond }},
			arm:    slowDetach(1500 * time.Millisecond),
			during: expireOnceDetached(false),
			want: want{outcome: eventschema.OutcomePending, status: eventschema.StatusDetaching,
				code: "InvalidSecurityToken.Expired", attempts: 1, accepted: 1,
				event: eventschema.TypeDetachPending, onBus: skip},
		},
		{
			name:   "sts/expires-for-ecs-and-eventbridge",
			o:      opts{policy: func(p *detach.Policy) { p.Poll.First = 150 * time.Millisecond }},
			arm:    slowDetach(1500 * time.Millisecond),
			during: expireOnceDetached(true),
			want: want{outcome: eventschema.OutcomePending, status: eventschema.StatusDetaching,
				code: "InvalidSecurityToken.Expired", attempts: 1, accepted: 1,
				event: eventschema.TypeDetachPending, onBus: 0, publishErr: ebemu.CodeStsAccessIDExpired, retErr: true},
		},
		{
			name: "sts/expired-before-the-invocation",
			arm: func(_ *testing.T, e *env, _ []string) {
				e.ecs.Srv.ExpireCredentials(e.creds.AccessKeyID)
			},
			want: want{outcome: eventschema.OutcomePermissionDenied, code: "InvalidSecurityToken.Expired",
				attempts: 0, accepted: 0, event: eventschema.TypeDetachFailed, onBus: skip},
		},
		// Stuck detaches (RedetachAfter 80 ms).
		{
			name: "stuck/beyond-three-reissues",
			o: opts{policy: func(p *detach.Policy) {
				p.RedetachAfter, p.DetachTimeout = 80*time.Millisecond, 900*time.Millisecond
			}},
			arm: func(t *testing.T, e *env, enis []string) {
				editENI(t, e, enis[0], func(x *ecsemu.ENI) { x.StuckReissues = 10 })
			},
			want: want{outcome: eventschema.OutcomePending, status: eventschema.StatusDetaching,
				attempts: 4, accepted: 4, event: eventschema.TypeDetachPending, onBus: skip},
		},
		{
			name: "stuck/freed-by-the-second-reissue",
			// Once freed, the detach completes within RedetachAfter.
			o: opts{policy: func(p *detach.Policy) { p.RedetachAfter = 80 * time.Millisecond }},
			arm: func(t *testing.T, e *env, enis []string) {
				editENI(t, e, enis[0], func(x *ecsemu.ENI) { x.StuckReissues, x.DetachDelay = 2, 20*time.Millisecond })
			},
			want: with(detached, func(w *want) { w.attempts, w.accepted = 3, 3 }),
		},
		// EventBridge.
		{
			name: "eventbridge/partial-failure-transient",
			enis: 3,
			arm:  func(_ *testing.T, e *env, _ []string) { e.eb.Srv.FailEntries(1, ebemu.CodeInternalError) },
			want: detached,
			check: func(t *testing.T, e *env, _ outcome, _ []string) {
				failed := 0
				for _, c := range e.eb.Srv.Calls() {
					failed += c.FailedEntries
				}
				if failed != 1 {
					t.Fatalf("%d entries failed, want the one injected", failed)
				}
			},
		},
		{
			name: "eventbridge/partial-failure-permanent",
			enis: 3,
			arm:  func(_ *testing.T, e *env, _ []string) { e.eb.Srv.FailEntries(1, ebemu.CodeInvalidArgument) },
			want: with(detached, func(w *want) {
				w.onBus, w.publishErr, w.retErr = 2, "1 event(s) rejected", true
			}),
		},
		{
			name: "eventbridge/outage-500-always",
			arm: func(_ *testing.T, e *env, _ []string) {
				e.eb.Srv.InjectError(http.StatusInternalServerError, ebemu.CodeInternalError, 1000)
			},
			want: with(detached, func(w *want) { w.onBus, w.publishErr, w.retErr = 0, ebemu.CodeInternalError, true }),
		},
		{
			name: "eventbridge/outage-reset-always",
			arm:  func(_ *testing.T, e *env, _ []string) { e.eb.Srv.InjectReset(1000) },
			want: with(detached, func(w *want) { w.onBus, w.publishErr, w.retErr = 0, "NetworkError", true }),
		},
		{
			name: "eventbridge/reset-once",
			arm:  func(_ *testing.T, e *env, _ []string) { e.eb.Srv.InjectReset(1) },
			want: detached,
		},
		{
			name:    "eventbridge/slower-than-the-deadline",
			timeout: deadlineTimeout,
			arm:     func(_ *testing.T, e *env, _ []string) { e.eb.Srv.InjectLatency(10*time.Second, 1000) },
			want:    with(detached, func(w *want) { w.onBus, w.publishErr, w.retErr = 0, "not published", true }),
		},
		// Faults seen through the HTTP trigger.
		{
			name: "http/ecs-503-always",
			http: true,
			arm: func(_ *testing.T, e *env, _ []string) {
				e.ecs.Srv.InjectError("DetachNetworkInterface", "ServiceUnavailable", http.StatusServiceUnavailable, -1)
			},
			want: with(failed("ServiceUnavailable", 4, 0, eventschema.StatusInUse), func(w *want) { w.httpStatus = 503 }),
		},
		{
			name: "http/ecs-hang-until-the-deadline",
			http: true, o: opts{policy: deadlinePolicy}, timeout: deadlineTimeout,
			arm:  func(_ *testing.T, e *env, _ []string) { e.ecs.Srv.InjectHang(ecsemu.AnyAction, -1) },
			want: with(failed("Transport.Timeout", 0, 0, ""), func(w *want) { w.httpStatus = 503 }),
		},
		{
			name: "http/eventbridge-outage",
			http: true,
			arm: func(_ *testing.T, e *env, _ []string) {
				e.eb.Srv.InjectError(http.StatusServiceUnavailable, ebemu.CodeServiceUnavailable, 1000)
			},
			want: with(detached, func(w *want) {
				w.onBus, w.publishErr, w.httpStatus = 0, ebemu.CodeServiceUnavailable, 200
			}),
		},
		{
			name: "http/stuck-until-the-deadline",
			http: true, timeout: deadlineTimeout,
			o:   opts{policy: policy(deadlinePolicy, func(p *detach.Policy) { p.RedetachAfter = 200 * time.Millisecond })},
			arm: slowDetach(10 * time.Second),
			want: want{outcome: eventschema.OutcomePending, status: eventschema.StatusDetaching,
				attempts: 4, accepted: 4, event: eventschema.TypeDetachPending, onBus: skip, httpStatus: 202},
		},
		// The FC deadline arriving during a retry.
		{
			name: "deadline/backoff-longer-than-the-time-left",
			o: opts{policy: policy(deadlinePolicy, func(p *detach.Policy) {
				p.Retry.BaseDelay, p.Retry.MaxDelay = 3*time.Second, 3*time.Second
			})},
			timeout: deadlineTimeout,
			arm: func(_ *testing.T, e *env, _ []string) {
				e.ecs.Srv.InjectError("DetachNetworkInterface", "ServiceUnavailable", http.StatusServiceUnavailable, -1)
			},
			want: failed("ServiceUnavailable", 1, 0, eventschema.StatusInUse),
		},
		{
			name: "deadline/throttling-window-beyond-the-deadline",
			o: opts{policy: policy(deadlinePolicy, func(p *detach.Policy) {
				// Windows are aligned to the clock: a day-long one makes
				// a boundary inside this 2 s invocation (which would allow
				// a second call) a 1-in-40000 event.
				p.QuotaWindow = 24 * time.Hour
			})},
			timeout: deadlineTimeout,
			arm:     func(_ *testing.T, e *env, _ []string) { e.ecs.Srv.Throttle("DetachNetworkInterface", -1) },
			// One call, throttled; the limiter then answers at once that
			// the quota returns only after the deadline.
			want: failed(detach.CodeQuotaExhausted, 1, 0, eventschema.StatusInUse),
		},
		{
			name: "deadline/still-detaching",
			o: opts{policy: policy(deadlinePolicy, func(p *detach.Policy) {
				p.RedetachAfter = time.Minute
			})},
			timeout: deadlineTimeout,
			arm:     slowDetach(10 * time.Second),
			want: want{outcome: eventschema.OutcomePending, status: eventschema.StatusDetaching,
				attempts: 1, accepted: 1, event: eventschema.TypeDetachPending, onBus: skip},
		},
		{
			name:    "deadline/instance-stopping-throughout",
			o:       opts{policy: deadlinePolicy},
			timeout: deadlineTimeout,
			arm: func(t *testing.T, e *env, _ []string) {
				mustOK(t, e.ecs.Srv.SetInstanceStatus(cellInstance, ecsemu.InstanceStopping))
			},
			want: failed("InvalidOperation.InvalidEcsState", skip, 0, eventschema.StatusInUse),
		},
	}
}

// TestFaultMatrix runs every fault through the handler with the production
// ECS adapter and publisher against the emulators, and checks in each cell
// the results, the follow-up events, the error returned to FC and that
// the answer came before the deadline.
func TestFaultMatrix(t *testing.T) {
	for _, c := range faultCells() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			runCell(t, c)
		})
	}
}

func runCell(t *testing.T, c cell) {
	e := newEnv(t, c.o)
	n := max(c.enis, 1)
	enis := e.ecs.Instance(t, cellInstance, n)
	if c.arm != nil {
		c.arm(t, e, enis)
	}
	payload := `{"InstanceId":"` + cellInstance + `"}`
	if n == 1 {
		payload = eniRequest(enis[0], cellInstance)
	}
	if c.payload != nil {
		payload = c.payload(enis)
	}
	timeout := c.timeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	stop, done := make(chan struct{}), make(chan struct{})
	if c.during != nil {
		go func() { defer close(done); c.during(e, enis, stop) }()
	} else {
		close(done)
	}
	const reqID = "req-fault"
	trigger, kind := reqID, eventschema.TriggerDirect
	if c.http {
		trigger, kind = "http-req-fault", eventschema.TriggerHTTP
		payload = httpEvent("POST", trigger, payload, false)
	}
	o := e.invoke(t, reqID, payload, timeout)
	close(stop)
	<-done

	if o.returned.After(o.deadline) {
		t.Errorf("answered %s after the deadline", o.returned.Sub(o.deadline))
	}
	w := c.want
	if len(o.resp.Results) != n {
		t.Fatalf("%d results for %d ENIs: %+v", len(o.resp.Results), n, o.resp)
	}
	for _, r := range o.resp.Results {
		checkResult(t, r, w, reqID)
		if r.Trigger.Kind != kind || (c.http && r.Trigger.EventID != trigger) {
			t.Errorf("trigger %+v, want %s %s", r.Trigger, kind, trigger)
		}
		if w.accepted != skip {
			if got := e.accepted(t, r.NetworkInterfaceID); got != w.accepted {
				t.Errorf("%s: the emulator accepted %d detaches, want %d", r.NetworkInterfaceID, got, w.accepted)
			}
		}
		if !c.looseIDs {
			if want := emulatorRequestIDs(e, r.NetworkInterfaceID); !slices.Equal(r.RequestIDs, want) {
				t.Errorf("%s: requestIds %v, want every answered call about it %v", r.NetworkInterfaceID, r.RequestIDs, want)
			}
		}
	}
	checkEvents(t, e, o, w, trigger)
	if c.http {
		checkStatus(t, o, w.httpStatus)
	} else {
		checkReturnedError(t, o, w)
	}
	checkLogLines(t, e.logs.String(), reqID)
	if c.check != nil {
		c.check(t, e, o, enis)
	}
}

func checkResult(t *testing.T, r eventschema.Result, w want, reqID string) {
	t.Helper()
	code := ""
	if r.Error != nil {
		code = r.Error.Code
	}
	if r.Outcome != w.outcome || r.Status != w.status || code != w.code {
		t.Errorf("%s: outcome %s status %q code %q, want %s %q %q (result %+v, error %+v)",
			r.NetworkInterfaceID, r.Outcome, r.Status, code, w.outcome, w.status, w.code, r, r.Error)
	}
	if r.Error != nil && r.Error.Retryable != w.retryable {
		t.Errorf("%s: error.retryable %t, want %t", r.NetworkInterfaceID, r.Error.Retryable, w.retryable)
	}
	if w.attempts != skip && r.DetachAttempts != w.attempts {
		t.Errorf("%s: detachAttempts %d, want %d", r.NetworkInterfaceID, r.DetachAttempts, w.attempts)
	}
	if r.FCRequestID != reqID || r.RegionID == "" ||
		r.FinishedAt.Before(r.StartedAt) || r.DryRun {
		t.Errorf("result envelope %+v", r)
	}
}

// emulatorRequestIDs is what the README says requestIds holds: the RequestId
// of every ECS call about the ENI that got an answer, rejected ones
// included, in order; instance-wide listings excluded.
func emulatorRequestIDs(e *env, eni string) []string {
	out := []string{}
	for _, c := range e.ecs.Srv.Calls() {
		if c.HTTPStatus == 0 || !aboutENI(c, eni) {
			continue
		}
		out = append(out, c.RequestID)
	}
	return out
}

func aboutENI(c ecsemu.Call, eni string) bool {
	for k, v := range c.Params {
		if v == eni && (k == "NetworkInterfaceId" || strings.HasPrefix(k, "NetworkInterfaceId.")) {
			return true
		}
	}
	return false
}

func checkEvents(t *testing.T, e *env, o outcome, w want, reqID string) {
	t.Helper()
	evs := e.busEvents(t)
	onBus := w.onBus
	if onBus == skip {
		onBus = len(o.resp.Results)
	}
	if len(evs) != onBus || o.resp.Published != onBus {
		t.Fatalf("%d events on the bus, %d published, want %d", len(evs), o.resp.Published, onBus)
	}
	byENI := map[string]eventschema.Result{}
	for _, r := range o.resp.Results {
		byENI[r.NetworkInterfaceID] = r
	}
	for _, ev := range evs {
		r, ok := byENI[ev.ev.Data.NetworkInterfaceID]
		if !ok {
			t.Fatalf("event for an ENI without a result: %s", ev.raw)
		}
		if ev.ev.Type != w.event || ev.ev.ID != eventschema.EventID(reqID, r.NetworkInterfaceID, r.Outcome) ||
			ev.ev.Data.Outcome != r.Outcome || ev.ev.Data.DetachAttempts != r.DetachAttempts {
			t.Errorf("event %s for result %+v", ev.raw, r)
		}
	}
	if w.publishErr == "" && o.resp.PublishError != "" {
		t.Errorf("publishError %q", o.resp.PublishError)
	}
	if w.publishErr != "" && !strings.Contains(o.resp.PublishError, w.publishErr) {
		t.Errorf("publishError %q, want it to name %q", o.resp.PublishError, w.publishErr)
	}
}

// checkStatus: an HTTP answer has the status of the README's outcome
// table and is never an error, whatever failed.
func checkStatus(t *testing.T, o outcome, status int) {
	t.Helper()
	if o.err != nil {
		t.Errorf("an HTTP invocation returned the error %v", o.err)
	}
	b, err := json.Marshal(o.out)
	mustOK(t, err)
	var hr struct {
		StatusCode int `json:"statusCode"`
	}
	mustOK(t, json.Unmarshal(b, &hr))
	if hr.StatusCode != status {
		t.Errorf("HTTP %d, want %d", hr.StatusCode, status)
	}
}

func checkReturnedError(t *testing.T, o outcome, w want) {
	t.Helper()
	if !w.retErr {
		if o.err != nil {
			t.Errorf("returned error %v, want nil", o.err)
		}
		return
	}
	var re *handler.RetryableError
	if !errors.As(o.err, &re) {
		t.Fatalf("returned %v (%T), want a *handler.RetryableError", o.err, o.err)
	}
	if !reflect.DeepEqual(re.Response, o.out) {
		t.Errorf("the error carries %+v, not the response returned", re.Response)
	}
	for _, r := range o.resp.Results {
		if r.Retryable() && !strings.Contains(re.Reason, r.NetworkInterfaceID) {
			t.Errorf("the reason %q does not name %s", re.Reason, r.NetworkInterfaceID)
		}
	}
	if o.resp.PublishError != "" && !strings.Contains(re.Reason, "follow-up events not published") {
		t.Errorf("the reason %q does not mention the publish failure", re.Reason)
	}
}

// checkLogLines: every line is JSON and carries the invocation's id.
func checkLogLines(t *testing.T, logs, reqID string) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var rec struct {
			RequestID string `json:"request_id"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.RequestID != reqID {
			t.Errorf("log line without request_id %s: %s", reqID, line)
		}
	}
}
