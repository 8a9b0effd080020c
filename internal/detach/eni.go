package detach

import (
	"time"

	"github.com/eni-detach/eni-detach/eventschema"
	"github.com/eni-detach/eni-detach/internal/ecsapi"
)

// phase is where an ENI stands in the engine's state machine.
type phase int

const (
	phaseNew        phase = iota // not yet described
	phaseRecheck                 // describe again, then decide (after a state error)
	phaseAttachWait              // Attaching: wait for InUse
	phaseDetachDue               // a detach call is due at dueAt
	phaseDetaching               // detach accepted or seen Detaching: poll
	phaseDone
)

// eni is the engine's state of one ENI in one run: what was asked, what
// ECS showed, what the engine did and how it ended. The wire result is
// built from it once, by result, when the run is over.
type eni struct {
	// What was asked.
	account       string // owner of the ENI (Target.AccountID)
	region        string
	id            string // "" for a failure about a whole instance
	namedInstance string // instance named by the request, "" for none
	trunkID       string
	dryRun        bool
	wait          bool
	api           ecsapi.API

	// What ECS showed.
	status         string
	previousStatus string
	instanceID     string // instance to detach from (observed)
	resultInstance string // the instance the result names: the request's, else the first seen

	// What the engine did.
	phase          phase
	accepted       int  // detach calls ECS accepted
	detachAttempts int  // detach calls made, retried and refused ones included
	followed       bool // seen Detaching before any detach of ours
	unanswered     bool // a detach call got no answer (timeout, reset): ECS may have applied it
	reissues       int
	lastDetach     time.Time // last accepted detach, or first seen Detaching
	dueAt          time.Time
	stateTries     int
	lastErr        *eventschema.ErrorInfo
	lastErrRule    Rule
	requestIDs     []string // of every ECS call about this ENI, in order

	// How it ended.
	started  time.Time
	finished time.Time
	outcome  eventschema.Outcome
	err      *eventschema.ErrorInfo
}

// result is the ENI's wire result for one target: the data object of the
// follow-up event (README, "Follow-up events"). An ENI named by two
// targets of one batch is acted on once and reported to each, with each
// target's trigger.
func (e *eni) result(tg *Target) eventschema.Result {
	return eventschema.Result{
		AccountID:              e.account,
		RegionID:               e.region,
		NetworkInterfaceID:     e.id,
		InstanceID:             e.resultInstance,
		TrunkNetworkInstanceID: e.trunkID,
		Outcome:                e.outcome,
		Status:                 e.status,
		PreviousStatus:         e.previousStatus,
		Error:                  e.err,
		DetachAttempts:         e.detachAttempts,
		RequestIDs:             e.requestIDs,
		StartedAt:              e.started,
		FinishedAt:             e.finished,
		DurationMs:             e.finished.Sub(e.started).Milliseconds(),
		DryRun:                 e.dryRun,
		Trigger:                tg.Trigger,
		FCRequestID:            tg.FCRequestID,
	}
}
