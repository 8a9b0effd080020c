package detach

import (
	"context"
	"errors"

	"github.com/eni-detach/eni-detach/eventschema"
	"github.com/eni-detach/eni-detach/internal/ecsapi"
)

type detachDone struct {
	e   *eni
	res callResult
}

// detachDue makes every due detach call, a bounded number at a time, and
// applies the answers in this goroutine (ENI state is not shared).
func (r *run) detachDue() {
	now := r.clk.Now()
	var due []*eni
	for _, e := range r.active(phaseDetachDue) {
		if !e.dueAt.After(now) {
			due = append(due, e)
		}
	}
	if len(due) == 0 {
		return
	}
	results := make(chan detachDone, len(due))
	sem := make(chan struct{}, max(r.p.DetachConcurrency, 1))
	for _, e := range due {
		sem <- struct{}{}
		go func(e *eni) {
			defer func() { <-sem }()
			results <- r.callDetach(e)
		}(e)
	}
	for range due {
		r.applyDetach(<-results)
	}
	r.pollN, r.lastPoll = 0, r.clk.Now()
}

// callDetach runs one detach with retries. It reads the ENI's state but
// never writes it: applyDetach does, in the run's goroutine. With the wait
// budget spent (less than DeadlineMargin left), the first call is still
// made once: answering Pending with the detach under way beats answering
// with nothing done.
func (r *run) callDetach(e *eni) detachDone {
	in := ecsapi.DetachInput{RegionID: e.region, ENIID: e.id, InstanceID: e.instanceID, TrunkID: e.trunkID}
	res := r.call(actDetach, e.account, e.region, func(ctx context.Context) (string, error) {
		return e.api.DetachNetworkInterface(ctx, in)
	})
	return detachDone{e: e, res: res}
}

func (r *run) applyDetach(d detachDone) {
	e := d.e
	now := r.clk.Now()
	for _, a := range d.res.attempts {
		if a.sent {
			e.detachAttempts++
		}
	}
	e.requestIDs = d.res.appendRequestIDs(e.requestIDs)
	for _, a := range d.res.attempts {
		var ee *ecsapi.Error
		if errors.As(a.err, &ee) && ee.Kind == ecsapi.KindTransport {
			e.unanswered = true
		}
	}
	last := d.res.attempts[len(d.res.attempts)-1]
	lg := r.log.With().Str("eni_id", e.id).Str("instance_id", e.instanceID).Logger()
	if last.err == nil {
		e.accepted++
		e.lastErr = nil
		e.phase, e.lastDetach = phaseDetaching, now
		e.status = eventschema.StatusDetaching
		lg.Info().Str("ecs_request_id", last.requestID).Int("accepted", e.accepted).Msg("detach accepted")
		if !e.wait {
			r.done(e, eventschema.OutcomePending, nil)
		}
		return
	}
	rule := d.res.rule
	lg.Warn().Err(last.err).Str("class", string(rule.Class)).Msg("detach refused")
	switch rule.Class {
	case ClassAlreadyDone:
		e.status = eventschema.StatusNotFound
		if e.accepted > 0 {
			r.done(e, eventschema.OutcomeDetached, nil)
			return
		}
		r.fail(e, rule, last.err)
	case ClassStateConditional:
		e.lastErr, e.lastErrRule = errorInfo(rule, last.err), rule
		e.phase = phaseRecheck
	case ClassRetryable:
		if e.accepted > 0 {
			// A re-issue failed; the first detach still stands.
			e.phase = phaseDetaching
			e.lastErr, e.lastErrRule = errorInfo(rule, last.err), rule
			return
		}
		r.fail(e, rule, last.err)
	default:
		r.fail(e, rule, last.err)
	}
}
