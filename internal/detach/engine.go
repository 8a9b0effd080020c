package detach

import (
	"context"
	"errors"
	"sort"
	"time"

	"github.com/rs/zerolog"

	"github.com/eni-detach/eni-detach/eventschema"
	"github.com/eni-detach/eni-detach/internal/ecsapi"
)

// Target is one thing to detach: a named ENI, or every eligible secondary
// ENI of an instance (NetworkInterfaceID empty).
type Target struct {
	RegionID           string
	NetworkInterfaceID string
	InstanceID         string
	TrunkID            string
	DryRun             bool
	Wait               bool
}

// TargetReport is what became of one target.
type TargetReport struct {
	Results []eventschema.Result
	Skipped []eventschema.Skipped
	Ignored string
}

// Engine runs detaches. It holds no per-invocation state and is safe for
// concurrent use; the ECS client (with the invocation's credentials) is
// passed to Run.
type Engine struct {
	Policy Policy
	// Limiter spaces detach calls across invocations; nil means no limit.
	Limiter *Limiter
}

// Run carries out the targets together: one describe per region and 100
// ENIs, one poll loop for all of them. It always returns one report per
// target, in order, and returns before ctx's deadline.
func (e *Engine) Run(ctx context.Context, api ecsapi.API, targets []Target) []TargetReport {
	r := newRun(ctx, e, api)
	reports := r.plan(targets)
	r.loop()
	r.finish()
	for i := range reports {
		for _, t := range reports[i].tracks {
			reports[i].out.Results = append(reports[i].out.Results, t.res)
		}
	}
	out := make([]TargetReport, len(reports))
	for i, rep := range reports {
		out[i] = rep.out
	}
	return out
}

type phase int

const (
	phaseNew        phase = iota // not yet described
	phaseRecheck                 // describe again, then decide (after a state error)
	phaseAttachWait              // Attaching: wait for InUse
	phaseDetachDue               // a detach call is due at dueAt
	phaseDetaching               // detach accepted or seen Detaching: poll
	phaseDone
)

// track follows one ENI through the run.
type track struct {
	region        string
	eniID         string
	namedInstance string // instance named by the request, "" for none
	trunkID       string
	named         bool // the request named this ENI
	dryRun        bool
	wait          bool

	phase       phase
	instanceID  string // instance to detach from (observed)
	accepted    int    // detach calls ECS accepted
	followed    bool   // seen Detaching before any detach of ours
	unanswered  bool   // a detach call got no answer (timeout, reset): ECS may have applied it
	reissues    int
	lastDetach  time.Time // last accepted detach, or first seen Detaching
	dueAt       time.Time
	stateTries  int
	lastErr     *eventschema.ErrorInfo
	lastErrRule Rule

	res eventschema.Result
}

type report struct {
	tracks []*track
	out    TargetReport
}

type run struct {
	ctx       context.Context
	callCtx   context.Context
	cancel    context.CancelFunc
	e         *Engine
	p         Policy
	api       ecsapi.API
	log       *zerolog.Logger
	start     time.Time
	waitUntil time.Time
	tracks    map[string]*track // by region + "/" + ENI id
	order     []*track

	pollN    int       // polls since the last detach call
	lastPoll time.Time // last poll or detach call
	stopPoll bool      // a poll failed for good (permissions): stop looking
}

func newRun(ctx context.Context, e *Engine, api ecsapi.API) *run {
	now := time.Now()
	p := e.Policy
	r := &run{ctx: ctx, e: e, p: p, api: api, log: zerolog.Ctx(ctx), start: now, tracks: map[string]*track{}}
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

func (r *run) key(region, eni string) string { return region + "/" + eni }

// newTrack returns the track for an ENI, creating it once: a batch naming
// the same ENI twice acts on it once and reports it twice.
func (r *run) newTrack(tg Target, eniID string, named bool) *track {
	k := r.key(tg.RegionID, eniID)
	if t, ok := r.tracks[k]; ok {
		t.named = t.named || named
		return t
	}
	t := &track{
		region: tg.RegionID, eniID: eniID, namedInstance: tg.InstanceID, trunkID: tg.TrunkID,
		named: named, dryRun: tg.DryRun || r.p.DryRun, wait: tg.Wait,
		res: eventschema.Result{
			RegionID: tg.RegionID, NetworkInterfaceID: eniID, InstanceID: tg.InstanceID,
			TrunkNetworkInstanceID: tg.TrunkID, RequestIDs: []string{}, StartedAt: r.start,
		},
	}
	t.res.DryRun = t.dryRun
	r.tracks[k] = t
	r.order = append(r.order, t)
	return t
}

// plan turns targets into tracks: named ENIs directly, instances through
// a paged listing of their secondary ENIs. Named ENIs are then described
// in batches.
func (r *run) plan(targets []Target) []report {
	reports := make([]report, len(targets))
	for i, tg := range targets {
		if tg.NetworkInterfaceID != "" {
			reports[i].tracks = append(reports[i].tracks, r.newTrack(tg, tg.NetworkInterfaceID, true))
			continue
		}
		reports[i].tracks, reports[i].out = r.planInstance(tg)
	}
	r.describe(r.active(phaseNew))
	return reports
}

// planInstance lists an instance's secondary ENIs and keeps the eligible
// ones. The listing is not "about" any one ENI, so its request ids are not
// put on the results (README "`data`").
func (r *run) planInstance(tg Target) ([]*track, TargetReport) {
	var (
		out    TargetReport
		tracks []*track
		token  string
		seen   = map[string]bool{}
	)
	for {
		var page ecsapi.DescribePage
		attempts, rule := r.p.Retry.retry(r.callCtx, r.waitUntil, func(ctx context.Context) attempt {
			var err error
			page, err = r.api.DescribeNetworkInterfaces(ctx, ecsapi.DescribeInput{
				RegionID: tg.RegionID, InstanceID: tg.InstanceID, Type: "Secondary",
				MaxResults: r.p.PageSize, NextToken: token,
			})
			return attempt{err: err, requestID: requestIDOf(err)}
		})
		if last := attempts[len(attempts)-1]; last.err != nil {
			// The instance could not be listed: report it as one result
			// so the failure is returned and published, not lost.
			t := &track{region: tg.RegionID, res: eventschema.Result{
				RegionID: tg.RegionID, InstanceID: tg.InstanceID, RequestIDs: []string{},
				StartedAt: r.start, DryRun: tg.DryRun || r.p.DryRun,
			}}
			r.fail(t, rule, last.err)
			for _, a := range attempts {
				if a.requestID != "" {
					t.res.RequestIDs = append(t.res.RequestIDs, a.requestID)
				}
			}
			return []*track{t}, out
		}
		for _, eni := range page.ENIs {
			if seen[eni.ID] {
				continue // paging over a changing set can repeat an ENI
			}
			seen[eni.ID] = true
			if ok, why := eligibleForInstanceWide(eni, r.p.TagSelector); !ok {
				out.Skipped = append(out.Skipped, eventschema.Skipped{NetworkInterfaceID: eni.ID, InstanceID: tg.InstanceID, Reason: why})
				continue
			}
			tracks = append(tracks, r.newTrack(tg, eni.ID, false))
		}
		if page.NextToken == "" || page.NextToken == token {
			break
		}
		token = page.NextToken
	}
	if len(tracks) == 0 {
		out.Ignored = "instance " + tg.InstanceID + " has no eligible secondary ENI"
	}
	return tracks, out
}

// active returns the tracks in one of the phases, in creation order.
func (r *run) active(phases ...phase) []*track {
	var out []*track
	for _, t := range r.order {
		for _, p := range phases {
			if t.phase == p && t.eniID != "" {
				out = append(out, t)
				break
			}
		}
	}
	return out
}

// describe looks at tracks by ENI id, ≤100 ids a call per region, and
// decides what each needs next. It never describes by instance id: a
// detached ENI no longer carries one.
func (r *run) describe(ts []*track) {
	byRegion := map[string][]*track{}
	var regions []string
	for _, t := range ts {
		if _, ok := byRegion[t.region]; !ok {
			regions = append(regions, t.region)
		}
		byRegion[t.region] = append(byRegion[t.region], t)
	}
	sort.Strings(regions)
	for _, region := range regions {
		group := byRegion[region]
		for len(group) > 0 {
			n := min(len(group), ecsapi.MaxIDsPerDescribe)
			r.describeChunk(region, group[:n])
			group = group[n:]
		}
	}
	r.lastPoll = time.Now()
}

func (r *run) describeChunk(region string, ts []*track) {
	ids := make([]string, len(ts))
	for i, t := range ts {
		ids[i] = t.eniID
	}
	var page ecsapi.DescribePage
	attempts, rule := r.p.Retry.retry(r.callCtx, r.waitUntil, func(ctx context.Context) attempt {
		var err error
		// MaxResults at least the id count keeps the answer on one page;
		// ECS's floor for it is 10.
		page, err = r.api.DescribeNetworkInterfaces(ctx, ecsapi.DescribeInput{RegionID: region, IDs: ids, MaxResults: max(len(ids), 10)})
		return attempt{err: err, requestID: requestIDOf(err)}
	})
	last := attempts[len(attempts)-1]
	for _, t := range ts {
		for _, a := range attempts {
			if id := a.requestID; id != "" {
				t.res.RequestIDs = append(t.res.RequestIDs, id)
			}
		}
		if last.err == nil {
			t.res.RequestIDs = append(t.res.RequestIDs, page.RequestID)
		}
	}
	if last.err != nil {
		r.describeFailed(ts, rule, last.err)
		return
	}
	found := make(map[string]ecsapi.ENI, len(page.ENIs))
	for _, e := range page.ENIs {
		found[e.ID] = e
	}
	now := time.Now()
	for _, t := range ts {
		if e, ok := found[t.eniID]; ok {
			r.decide(t, &e, now)
		} else {
			r.decide(t, nil, now)
		}
	}
}

// describeFailed handles a describe that failed for good. Before any
// detach, the ENIs end with the error's outcome. While following a detach,
// a transient failure just skips this look; a permanent one (the token
// expired mid-invocation, say) ends the following: the ENIs stay as last
// seen and are reported Pending with the error.
func (r *run) describeFailed(ts []*track, rule Rule, err error) {
	r.log.Warn().Err(err).Int("eni_count", len(ts)).Str("class", string(rule.Class)).Msg("describe failed")
	for _, t := range ts {
		switch {
		case t.phase == phaseNew:
			r.fail(t, rule, err)
		case rule.Class == ClassRetryable:
			t.lastErr, t.lastErrRule = errorInfo(rule, err), rule
		default:
			t.lastErr, t.lastErrRule = errorInfo(rule, err), rule
			r.stopPoll = true
		}
	}
}

// decide moves a track on from what Describe showed (nil: no such ENI).
func (r *run) decide(t *track, e *ecsapi.ENI, now time.Time) {
	if e == nil {
		t.res.Status = eventschema.StatusNotFound
		if t.res.PreviousStatus == "" {
			t.res.PreviousStatus = eventschema.StatusNotFound
		}
		if t.accepted > 0 {
			r.done(t, eventschema.OutcomeDetached, nil) // deleted after our detach: it is off the instance
			return
		}
		r.done(t, eventschema.OutcomeNotFound, &eventschema.ErrorInfo{Code: CodeNotFound, Message: "no ENI " + t.eniID + " in " + t.region})
		return
	}
	if t.res.PreviousStatus == "" {
		t.res.PreviousStatus = e.Status
	}
	t.res.Status = e.Status
	if t.res.InstanceID == "" {
		t.res.InstanceID = e.InstanceID
	}
	if e.InstanceID != "" {
		t.instanceID = e.InstanceID
	}
	if t.accepted == 0 {
		if ref := guard(*e, t.namedInstance, t.trunkID, r.p.TagSelector); ref != nil {
			r.done(t, ref.outcome, &eventschema.ErrorInfo{Code: ref.code, Message: ref.reason})
			return
		}
	}
	switch e.Status {
	case eventschema.StatusAvailable:
		// Seen Detaching first (a duplicate delivery following the first
		// one's detach) counts as Detached too: both deliveries then
		// report the same outcome. So does a detach whose answer was lost
		// and whose retry found the ENI already Available: it was InUse
		// before that call, so AlreadyDetached would be wrong (README "Outcomes").
		if t.accepted > 0 || t.followed || t.unanswered {
			r.done(t, eventschema.OutcomeDetached, nil)
		} else {
			r.done(t, eventschema.OutcomeAlreadyDetached, nil)
		}
	case eventschema.StatusDeleting:
		r.done(t, eventschema.OutcomeConflict, &eventschema.ErrorInfo{Code: CodeGuardDeleting, Message: "the ENI is being deleted"})
	case eventschema.StatusAttaching:
		if t.dryRun {
			r.done(t, eventschema.OutcomeDryRun, nil)
			return
		}
		t.phase = phaseAttachWait
	case eventschema.StatusDetaching:
		if t.dryRun {
			r.done(t, eventschema.OutcomeDryRun, nil)
			return
		}
		if t.phase != phaseDetaching {
			// Someone (an earlier delivery, an operator) already
			// asked: follow it, and count re-issue time from now.
			t.phase, t.lastDetach, t.followed = phaseDetaching, now, true
		}
		if !t.wait {
			r.done(t, eventschema.OutcomePending, nil)
		}
	case eventschema.StatusInUse:
		r.inUse(t, now)
	default:
		r.done(t, eventschema.OutcomeFailed, &eventschema.ErrorInfo{Code: "UnknownStatus", Message: "unexpected ENI status " + e.Status})
	}
}

// inUse decides the detach call for an ENI seen InUse.
func (r *run) inUse(t *track, now time.Time) {
	switch {
	case t.dryRun:
		r.done(t, eventschema.OutcomeDryRun, nil)
	case t.lastErr != nil && t.lastErrRule.Class == ClassStateConditional:
		// ECS refused for a state that passes (instance Stopping): try
		// again after a growing pause, within the wait budget.
		delay := r.p.StateRetryDelay << min(t.stateTries, 10)
		if delay > r.p.StateRetryMax || delay <= 0 {
			delay = r.p.StateRetryMax
		}
		t.stateTries++
		t.phase, t.dueAt = phaseDetachDue, now.Add(delay)
	case t.accepted > 0:
		// ECS took the detach but the ENI is back InUse: the detach was
		// rolled back (the guest OS refused it). Re-issue if allowed.
		if t.reissues < r.p.MaxReissues {
			t.reissues++
			t.phase, t.dueAt = phaseDetachDue, now
			return
		}
		r.done(t, eventschema.OutcomeFailed, &eventschema.ErrorInfo{Code: CodeDetachReverted, Retryable: true,
			Message: "the ENI returned to InUse after every detach; restart the instance or detach it while stopped"})
	default:
		t.phase, t.dueAt = phaseDetachDue, now
	}
}

// loop issues due detaches and polls until nothing is left to wait for,
// or the wait budget ends.
func (r *run) loop() {
	for {
		r.detachDue()
		if r.stopPoll || len(r.active(phaseRecheck, phaseAttachWait, phaseDetachDue, phaseDetaching)) == 0 {
			return
		}
		now := time.Now()
		if !now.Before(r.waitUntil) {
			return
		}
		wake := r.nextWake(now)
		if wake.After(r.waitUntil) {
			wake = r.waitUntil
		}
		if sleep(r.ctx, wake.Sub(now)) != nil {
			return
		}
		now = time.Now()
		if !now.Before(r.waitUntil) {
			return
		}
		// A re-issue is decided on a fresh look: the ENI may have become
		// Available since the last poll.
		if !now.Before(r.nextPoll()) || len(r.active(phaseRecheck)) > 0 || r.reissueDue(now) {
			if ts := r.active(phaseRecheck, phaseAttachWait, phaseDetaching); len(ts) > 0 {
				r.describe(ts)
				r.pollN++
			}
		}
		r.markStuck(time.Now())
	}
}

func (r *run) nextPoll() time.Time { return r.lastPoll.Add(r.p.Poll.gap(r.pollN)) }

// nextWake is the earliest of: the next poll, a due detach, a re-issue.
func (r *run) nextWake(now time.Time) time.Time {
	wake := r.nextPoll()
	if len(r.active(phaseRecheck)) > 0 {
		return now
	}
	for _, t := range r.active(phaseDetachDue) {
		if t.dueAt.Before(wake) {
			wake = t.dueAt
		}
	}
	for _, t := range r.active(phaseDetaching) {
		if t.reissues < r.p.MaxReissues {
			if at := t.lastDetach.Add(r.p.RedetachAfter); at.Before(wake) {
				wake = at
			}
		}
	}
	return wake
}

// reissueDue reports whether some ENI has been Detaching for RedetachAfter
// and may still be re-issued.
func (r *run) reissueDue(now time.Time) bool {
	for _, t := range r.active(phaseDetaching) {
		if t.reissues < r.p.MaxReissues && !now.Before(t.lastDetach.Add(r.p.RedetachAfter)) {
			return true
		}
	}
	return false
}

// markStuck schedules a re-issue for ENIs Detaching for RedetachAfter: the
// API page's remedy for a detach the guest OS did not answer.
func (r *run) markStuck(now time.Time) {
	for _, t := range r.active(phaseDetaching) {
		if t.reissues < r.p.MaxReissues && !now.Before(t.lastDetach.Add(r.p.RedetachAfter)) {
			t.reissues++
			t.phase, t.dueAt = phaseDetachDue, now
			r.log.Info().Str("eni_id", t.eniID).Int("reissue", t.reissues).Msg("re-issuing a detach still Detaching")
		}
	}
}

type detachDone struct {
	t        *track
	attempts []attempt
	rule     Rule
}

// detachDue makes every due detach call, a bounded number at a time, and
// applies the answers in this goroutine (tracks are not shared).
func (r *run) detachDue() {
	now := time.Now()
	var due []*track
	for _, t := range r.active(phaseDetachDue) {
		if !t.dueAt.After(now) {
			due = append(due, t)
		}
	}
	if len(due) == 0 {
		return
	}
	results := make(chan detachDone, len(due))
	sem := make(chan struct{}, max(r.p.DetachConcurrency, 1))
	for _, t := range due {
		sem <- struct{}{}
		go func(t *track) {
			defer func() { <-sem }()
			results <- r.callDetach(t)
		}(t)
	}
	for range due {
		r.applyDetach(<-results)
	}
	r.pollN, r.lastPoll = 0, time.Now()
}

// callDetach runs one detach with retries. It reads the track but never
// writes it: applyDetach does, in the run's goroutine.
func (r *run) callDetach(t *track) detachDone {
	in := ecsapi.DetachInput{RegionID: t.region, ENIID: t.eniID, InstanceID: t.instanceID, TrunkID: t.trunkID}
	// With the wait budget spent (less than DeadlineMargin left), the
	// first call is still made once: answering Pending with the detach
	// under way beats answering with nothing done.
	until := r.waitUntil
	attempts, rule := r.p.Retry.retry(r.callCtx, until, func(ctx context.Context) attempt {
		if err := r.e.Limiter.Wait(ctx); err != nil {
			return attempt{err: &ecsapi.Error{Kind: ecsapi.KindTransport, Code: ecsapi.CodeTimeout, Message: "no time left to make the detach call"}}
		}
		id, err := r.api.DetachNetworkInterface(ctx, in)
		if err != nil {
			return attempt{err: err, requestID: requestIDOf(err)}
		}
		return attempt{requestID: id}
	})
	return detachDone{t: t, attempts: attempts, rule: rule}
}

func (r *run) applyDetach(d detachDone) {
	t := d.t
	now := time.Now()
	for _, a := range d.attempts {
		t.res.DetachAttempts++
		if a.requestID != "" {
			t.res.RequestIDs = append(t.res.RequestIDs, a.requestID)
		}
		var e *ecsapi.Error
		if errors.As(a.err, &e) && e.Kind == ecsapi.KindTransport {
			t.unanswered = true
		}
	}
	last := d.attempts[len(d.attempts)-1]
	lg := r.log.With().Str("eni_id", t.eniID).Str("instance_id", t.instanceID).Logger()
	if last.err == nil {
		t.accepted++
		t.lastErr = nil
		t.phase, t.lastDetach = phaseDetaching, now
		t.res.Status = eventschema.StatusDetaching
		lg.Info().Str("ecs_request_id", last.requestID).Int("accepted", t.accepted).Msg("detach accepted")
		if !t.wait {
			r.done(t, eventschema.OutcomePending, nil)
		}
		return
	}
	lg.Warn().Err(last.err).Str("class", string(d.rule.Class)).Msg("detach refused")
	switch d.rule.Class {
	case ClassAlreadyDone:
		if t.accepted > 0 {
			t.res.Status = eventschema.StatusNotFound
			r.done(t, eventschema.OutcomeDetached, nil)
			return
		}
		t.res.Status = eventschema.StatusNotFound
		r.fail(t, d.rule, last.err)
	case ClassStateConditional:
		t.lastErr, t.lastErrRule = errorInfo(d.rule, last.err), d.rule
		t.phase = phaseRecheck
	case ClassRetryable:
		if t.accepted > 0 {
			// A re-issue failed; the first detach still stands.
			t.phase = phaseDetaching
			t.lastErr, t.lastErrRule = errorInfo(d.rule, last.err), d.rule
			return
		}
		r.fail(t, d.rule, last.err)
	default:
		r.fail(t, d.rule, last.err)
	}
}

// finish ends every track still open when waiting stopped.
func (r *run) finish() {
	defer r.cancel()
	for _, t := range r.order {
		switch t.phase {
		case phaseDone:
			continue
		case phaseDetachDue, phaseRecheck:
			switch {
			case t.accepted > 0:
				r.done(t, eventschema.OutcomePending, t.lastErr)
			case t.lastErr != nil:
				// Still refused for a passing state (instance Stopping)
				// when time ran out: the rule marks it retryable, so an
				// async retry of the invocation can finish the job.
				r.done(t, t.lastErrRule.Outcome, t.lastErr)
			default:
				r.done(t, eventschema.OutcomeFailed, &eventschema.ErrorInfo{Code: CodeNotStarted, Retryable: true,
					Message: "no time was left to make the detach call"})
			}
		default:
			r.done(t, eventschema.OutcomePending, t.lastErr)
		}
	}
}

func (r *run) fail(t *track, rule Rule, err error) {
	r.done(t, rule.Outcome, errorInfo(rule, err))
}

func (r *run) done(t *track, o eventschema.Outcome, e *eventschema.ErrorInfo) {
	now := time.Now()
	t.phase = phaseDone
	t.res.Outcome = o
	t.res.Error = e
	t.res.FinishedAt = now
	t.res.DurationMs = now.Sub(t.res.StartedAt).Milliseconds()
	ev := r.log.Info()
	if e != nil && o != eventschema.OutcomePending {
		ev = r.log.Warn().Str("error_code", e.Code)
	}
	ev.Str("eni_id", t.eniID).Str("instance_id", t.res.InstanceID).Str("outcome", string(o)).
		Str("status", t.res.Status).Int("detach_attempts", t.res.DetachAttempts).Msg("eni outcome")
}

func errorInfo(rule Rule, err error) *eventschema.ErrorInfo {
	info := &eventschema.ErrorInfo{Code: "Unknown", Message: err.Error(), Retryable: rule.Retryable}
	var e *ecsapi.Error
	if errors.As(err, &e) {
		info.Code, info.Message, info.RequestID = e.Code, e.Message, e.RequestID
	}
	return info
}

func requestIDOf(err error) string {
	var e *ecsapi.Error
	if errors.As(err, &e) {
		return e.RequestID
	}
	return ""
}
