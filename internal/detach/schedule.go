package detach

import "time"

// loop issues due detaches and polls until nothing is left to wait for,
// or the wait budget ends.
func (r *run) loop() {
	for {
		r.detachDue()
		if r.stopPoll || len(r.active(phaseRecheck, phaseAttachWait, phaseDetachDue, phaseDetaching)) == 0 {
			return
		}
		now := r.clk.Now()
		if !now.Before(r.waitUntil) {
			return
		}
		wake := r.nextWake(now)
		if wake.After(r.waitUntil) {
			wake = r.waitUntil
		}
		if r.clk.Sleep(r.ctx, wake.Sub(now)) != nil {
			return
		}
		now = r.clk.Now()
		if !now.Before(r.waitUntil) {
			return
		}
		// A re-issue is decided on a fresh look: the ENI may have become
		// Available since the last poll.
		if !now.Before(r.nextPoll()) || len(r.active(phaseRecheck)) > 0 || r.anyReissueDue(now) {
			if es := r.active(phaseRecheck, phaseAttachWait, phaseDetaching); len(es) > 0 {
				r.describe(es)
				r.pollN++
			}
		}
		r.markStuck(r.clk.Now())
	}
}

// active returns the ENIs in one of the phases, in creation order.
func (r *run) active(phases ...phase) []*eni {
	var out []*eni
	for _, e := range r.order {
		for _, p := range phases {
			if e.phase == p {
				out = append(out, e)
				break
			}
		}
	}
	return out
}

func (r *run) nextPoll() time.Time { return r.lastPoll.Add(r.p.Poll.gap(r.pollN)) }

// nextWake is the earliest of: the next poll, a due detach, a re-issue.
// The poll counts only when there is something to poll: an ENI waiting
// for its (state-retry) detach alone must not make the loop spin from the
// moment the poll fell due.
func (r *run) nextWake(now time.Time) time.Time {
	if len(r.active(phaseRecheck)) > 0 {
		return now
	}
	var wake time.Time
	if len(r.active(phaseAttachWait, phaseDetaching)) > 0 {
		wake = r.nextPoll()
	}
	earlier := func(at time.Time) {
		if wake.IsZero() || at.Before(wake) {
			wake = at
		}
	}
	for _, e := range r.active(phaseDetachDue) {
		earlier(e.dueAt)
	}
	for _, e := range r.active(phaseDetaching) {
		if at, ok := r.reissueAt(e); ok {
			earlier(at)
		}
	}
	if wake.IsZero() {
		return r.waitUntil
	}
	return wake
}

// reissueAt is when an ENI still Detaching gets its detach re-issued (the
// API page's remedy for a detach the guest OS did not answer); ok is false
// once the re-issues are used up.
func (r *run) reissueAt(e *eni) (at time.Time, ok bool) {
	return e.lastDetach.Add(r.p.RedetachAfter), e.reissues < r.p.MaxReissues
}

func (r *run) reissueDue(e *eni, now time.Time) bool {
	at, ok := r.reissueAt(e)
	return ok && !now.Before(at)
}

func (r *run) anyReissueDue(now time.Time) bool {
	for _, e := range r.active(phaseDetaching) {
		if r.reissueDue(e, now) {
			return true
		}
	}
	return false
}

// markStuck schedules the re-issue of every ENI whose time has come.
func (r *run) markStuck(now time.Time) {
	for _, e := range r.active(phaseDetaching) {
		if r.reissueDue(e, now) {
			e.reissues++
			e.phase, e.dueAt = phaseDetachDue, now
			r.log.Info().Str("eni_id", e.id).Int("reissue", e.reissues).Msg("re-issuing a detach still Detaching")
		}
	}
}
