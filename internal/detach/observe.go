package detach

import (
	"context"
	"sort"
	"time"

	"github.com/eni-detach/eni-detach/eventschema"
	"github.com/eni-detach/eni-detach/internal/ecsapi"
)

// scope is what one describe call can cover: ENIs of one region, seen
// through one client.
type scope struct {
	api    ecsapi.API
	region string
}

// describe looks at ENIs by id, ≤100 ids a call per scope, and decides
// what each needs next. It never describes by instance id: a detached ENI
// no longer carries one.
func (r *run) describe(es []*eni) {
	groups := map[scope][]*eni{}
	var scopes []scope
	for _, e := range es {
		s := scope{e.api, e.region}
		if _, ok := groups[s]; !ok {
			scopes = append(scopes, s)
		}
		groups[s] = append(groups[s], e)
	}
	sort.SliceStable(scopes, func(i, j int) bool { return scopes[i].region < scopes[j].region })
	for _, s := range scopes {
		group := groups[s]
		for len(group) > 0 {
			n := min(len(group), ecsapi.MaxIDsPerDescribe)
			r.describeChunk(s, group[:n])
			group = group[n:]
		}
	}
	r.lastPoll = r.clk.Now()
}

func (r *run) describeChunk(s scope, es []*eni) {
	ids := make([]string, len(es))
	for i, e := range es {
		ids[i] = e.id
	}
	var page ecsapi.DescribePage
	// A scope's client is one account's: its ENIs share their owner.
	res := r.call(actDescribe, es[0].account, s.region, func(ctx context.Context) (string, error) {
		var err error
		// MaxResults at least the id count keeps the answer on one page;
		// ECS's floor for it is 10.
		page, err = s.api.DescribeNetworkInterfaces(ctx, ecsapi.DescribeInput{RegionID: s.region, IDs: ids, MaxResults: max(len(ids), 10)})
		return page.RequestID, err
	})
	for _, e := range es {
		e.requestIDs = res.appendRequestIDs(e.requestIDs)
	}
	if err := res.err(); err != nil {
		r.describeFailed(es, res.rule, err)
		return
	}
	found := make(map[string]ecsapi.ENI, len(page.ENIs))
	for _, x := range page.ENIs {
		found[x.ID] = x
	}
	now := r.clk.Now()
	for _, e := range es {
		if x, ok := found[e.id]; ok {
			r.decide(e, &x, now)
		} else {
			r.decide(e, nil, now)
		}
	}
}

// describeFailed handles a describe that failed for good. Before any
// detach, the ENIs end with the error's outcome. While following a detach,
// a transient failure just skips this look; a permanent one (the token
// expired mid-invocation, say) ends the following: the ENIs stay as last
// seen and are reported Pending with the error.
func (r *run) describeFailed(es []*eni, rule Rule, err error) {
	r.log.Warn().Err(err).Int("eni_count", len(es)).Str("class", string(rule.Class)).Msg("describe failed")
	for _, e := range es {
		switch {
		case e.phase == phaseNew:
			r.fail(e, rule, err)
		case rule.Class == ClassRetryable:
			e.lastErr, e.lastErrRule = errorInfo(rule, err), rule
		default:
			e.lastErr, e.lastErrRule = errorInfo(rule, err), rule
			r.stopPoll = true
		}
	}
}

// decide moves an ENI on from what Describe showed (nil: no such ENI).
func (r *run) decide(e *eni, x *ecsapi.ENI, now time.Time) {
	if x == nil {
		e.status = eventschema.StatusNotFound
		if e.previousStatus == "" {
			e.previousStatus = eventschema.StatusNotFound
		}
		if e.accepted > 0 {
			r.done(e, eventschema.OutcomeDetached, nil) // deleted after our detach: it is off the instance
			return
		}
		r.done(e, eventschema.OutcomeNotFound, &eventschema.ErrorInfo{Code: CodeNotFound, Message: "no ENI " + e.id + " in " + e.region})
		return
	}
	if e.previousStatus == "" {
		e.previousStatus = x.Status
	}
	e.status = x.Status
	if e.resultInstance == "" {
		e.resultInstance = x.InstanceID
	}
	if x.InstanceID != "" {
		e.instanceID = x.InstanceID
	}
	if e.accepted == 0 {
		if ref := guard(*x, e.namedInstance, e.trunkID, r.p.TagSelector); ref != nil {
			r.done(e, ref.outcome, &eventschema.ErrorInfo{Code: ref.code, Message: ref.reason})
			return
		}
	}
	switch x.Status {
	case eventschema.StatusAvailable:
		// Seen Detaching first (a duplicate delivery following the first
		// one's detach) counts as Detached too: both deliveries then
		// report the same outcome. So does a detach whose answer was lost
		// and whose retry found the ENI already Available: it was InUse
		// before that call, so AlreadyDetached ("Available before any
		// detach call", README "Outcomes") would be wrong.
		if e.accepted > 0 || e.followed || e.unanswered {
			r.done(e, eventschema.OutcomeDetached, nil)
		} else {
			r.done(e, eventschema.OutcomeAlreadyDetached, nil)
		}
	case eventschema.StatusDeleting:
		r.done(e, eventschema.OutcomeConflict, &eventschema.ErrorInfo{Code: CodeGuardDeleting, Message: "the ENI is being deleted"})
	case eventschema.StatusAttaching:
		if e.dryRun {
			r.done(e, eventschema.OutcomeDryRun, nil)
			return
		}
		e.phase = phaseAttachWait
	case eventschema.StatusDetaching:
		if e.dryRun {
			r.done(e, eventschema.OutcomeDryRun, nil)
			return
		}
		if e.phase != phaseDetaching {
			// Someone (an earlier delivery, an operator) already
			// asked: follow it, and count re-issue time from now.
			e.phase, e.lastDetach, e.followed = phaseDetaching, now, true
		}
		if !e.wait {
			r.done(e, eventschema.OutcomePending, nil)
		}
	case eventschema.StatusInUse:
		r.inUse(e, now)
	default:
		r.done(e, eventschema.OutcomeFailed, &eventschema.ErrorInfo{Code: "UnknownStatus", Message: "unexpected ENI status " + x.Status})
	}
}

// inUse decides the detach call for an ENI seen InUse.
func (r *run) inUse(e *eni, now time.Time) {
	switch {
	case e.dryRun:
		r.done(e, eventschema.OutcomeDryRun, nil)
	case e.lastErr != nil && e.lastErrRule.Class == ClassStateConditional:
		// ECS refused for a state that passes (instance Stopping): try
		// again after a growing pause, within the wait budget.
		delay := r.p.StateRetryDelay << min(e.stateTries, 10)
		if delay > r.p.StateRetryMax || delay <= 0 {
			delay = r.p.StateRetryMax
		}
		e.stateTries++
		e.phase, e.dueAt = phaseDetachDue, now.Add(delay)
	case e.accepted > 0:
		// ECS took the detach but the ENI is back InUse: the detach was
		// rolled back (the guest OS refused it). Re-issue if allowed.
		if e.reissues < r.p.MaxReissues {
			e.reissues++
			e.phase, e.dueAt = phaseDetachDue, now
			return
		}
		r.done(e, eventschema.OutcomeFailed, &eventschema.ErrorInfo{Code: CodeDetachReverted, Retryable: true,
			Message: "the ENI returned to InUse after every detach; restart the instance or detach it while stopped"})
	default:
		e.phase, e.dueAt = phaseDetachDue, now
	}
}
