package detach

import (
	"errors"

	"github.com/eni-detach/eni-detach/eventschema"
	"github.com/eni-detach/eni-detach/internal/ecsapi"
)

// finish ends every ENI still open when waiting stopped.
func (r *run) finish() {
	for _, e := range r.order {
		switch e.phase {
		case phaseDone:
			continue
		case phaseDetachDue, phaseRecheck:
			switch {
			case e.accepted > 0:
				r.done(e, eventschema.OutcomePending, e.lastErr)
			case e.lastErr != nil:
				// Still refused for a passing state (instance Stopping)
				// when time ran out: the rule marks it retryable, so an
				// async retry of the invocation can finish the job.
				r.done(e, e.lastErrRule.Outcome, e.lastErr)
			default:
				r.done(e, eventschema.OutcomeFailed, &eventschema.ErrorInfo{Code: CodeNotStarted, Retryable: true,
					Message: "no time was left to make the detach call"})
			}
		default:
			r.done(e, eventschema.OutcomePending, e.lastErr)
		}
	}
}

func (r *run) fail(e *eni, rule Rule, err error) {
	r.done(e, rule.Outcome, errorInfo(rule, err))
}

// done ends an ENI with its outcome and logs it.
func (r *run) done(e *eni, o eventschema.Outcome, info *eventschema.ErrorInfo) {
	e.phase = phaseDone
	e.outcome, e.err, e.finished = o, info, r.clk.Now()
	ev := r.log.Info()
	if info != nil && o != eventschema.OutcomePending {
		ev = r.log.Warn().Str("error_code", info.Code)
	}
	ev.Str("eni_id", e.id).Str("instance_id", e.resultInstance).Str("outcome", string(o)).
		Str("status", e.status).Int("detach_attempts", e.detachAttempts).Msg("eni outcome")
}

// reports builds each target's report: the results, built here and only
// here, once every ENI is done.
func (r *run) reports(plans []plan) []TargetReport {
	out := make([]TargetReport, len(plans))
	for i, p := range plans {
		out[i] = TargetReport{Skipped: p.skipped, Ignored: p.ignored}
		for _, e := range p.enis {
			out[i].Results = append(out[i].Results, e.result(p.target))
		}
	}
	return out
}

func errorInfo(rule Rule, err error) *eventschema.ErrorInfo {
	info := &eventschema.ErrorInfo{Code: "Unknown", Message: err.Error(), Retryable: rule.Retryable}
	var e *ecsapi.Error
	if errors.As(err, &e) {
		info.Code, info.Message, info.RequestID = e.Code, e.Message, e.RequestID
	}
	return info
}
