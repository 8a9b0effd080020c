package ecs

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"
)

// Instance states (ECS spelling).
const (
	InstancePending  = "Pending"
	InstanceStarting = "Starting"
	InstanceRunning  = "Running"
	InstanceStopping = "Stopping"
	InstanceStopped  = "Stopped"
)

// ENI states.
const (
	ENIAvailable = "Available"
	ENIAttaching = "Attaching"
	ENIInUse     = "InUse"
	ENIDetaching = "Detaching"
	ENIDeleting  = "Deleting"
)

// ENI types.
const (
	ENIPrimary   = "Primary"
	ENISecondary = "Secondary"
	ENITrunk     = "Trunk"
	ENIMember    = "Member"
)

// Traffic modes.
const (
	TrafficStandard        = "Standard"
	TrafficHighPerformance = "HighPerformance"
)

// DefaultRegion exists in every new server.
const DefaultRegion = "cn-hangzhou"

// Instance is an ECS instance as far as ENI detaching cares.
type Instance struct {
	ID string
	// Account owns the instance; "" means the registry's default account.
	// Only that account's callers see it.
	Account string
	Region  string // "" → DefaultRegion
	Status  string // "" → Running
	// HotPlugUnsupported makes detaching from the Running instance fail with
	// InvalidOperation.HotPlugNotSupport (instance types without hot plug).
	HotPlugUnsupported bool
}

// ENI is an elastic network interface. Fields marked output-only are
// ignored by AddENI and filled in by snapshots.
type ENI struct {
	ID string
	// Account owns the ENI; "" means the registry's default account. Only
	// that account's callers see it: to others it does not exist.
	Account string
	Region  string // "" → DefaultRegion
	Type    string // "" → Secondary
	Status  string // "" → InUse when InstanceID is set, else Available
	// InstanceID is the instance the ENI is attached to. For Member ENIs it
	// is reported as Attachment.InstanceId (the top-level InstanceId stays
	// empty, as ECS does). Cleared when a detach completes.
	InstanceID string
	// TrunkID is the trunk ENI a Member ENI hangs off
	// (Attachment.TrunkNetworkInterfaceId). Cleared when a detach completes.
	TrunkID        string
	ServiceManaged bool
	Linked         bool   // associated with other ENIs: InvalidOperation.EniLinked
	TrafficMode    string // "" → Standard
	Tags           map[string]string
	VpcID          string
	VSwitchID      string
	ZoneID         string
	// DetachDelay overrides the server's detach delay for this ENI when
	// positive; negative means the detach completes immediately.
	DetachDelay time.Duration
	// StuckReissues > 0 makes a detach stick in Detaching until the ENI has
	// received that many further DetachNetworkInterface calls after the
	// first; the call that unsticks it restarts the delay.
	StuckReissues int
	// DetachCalls counts accepted DetachNetworkInterface calls (output only).
	DetachCalls int
}

type scheduledStatus struct {
	at     time.Time
	status string
	seq    int // keeps equal-time schedules in call order
}

type instanceState struct {
	Instance
	schedule []scheduledStatus
}

type eniState struct {
	ENI
	// detachStart is when the current detach delay began; meaningful only
	// while Detaching and not stuck.
	detachStart time.Time
	// cycleCalls counts detach calls in the current Detaching episode,
	// counting the one that started it.
	cycleCalls int
	schedule   []scheduledStatus
}

var (
	instanceStatuses = []string{InstancePending, InstanceStarting, InstanceRunning, InstanceStopping, InstanceStopped}
	eniStatuses      = []string{ENIAvailable, ENIAttaching, ENIInUse, ENIDetaching, ENIDeleting}
	eniTypes         = []string{ENIPrimary, ENISecondary, ENITrunk, ENIMember}
	trafficModes     = []string{TrafficStandard, TrafficHighPerformance}
)

func oneOf(what, v string, allowed []string) error {
	if slices.Contains(allowed, v) {
		return nil
	}
	return fmt.Errorf("ecs emulator: %s %q is not one of %v", what, v, allowed)
}

func (in *Instance) normalise() error {
	if in.ID == "" {
		return fmt.Errorf("ecs emulator: instance without ID")
	}
	if in.Region == "" {
		in.Region = DefaultRegion
	}
	if in.Status == "" {
		in.Status = InstanceRunning
	}
	return oneOf("instance status", in.Status, instanceStatuses)
}

func (e *ENI) normalise() error {
	if e.ID == "" {
		return fmt.Errorf("ecs emulator: ENI without ID")
	}
	if e.Region == "" {
		e.Region = DefaultRegion
	}
	if e.Type == "" {
		e.Type = ENISecondary
	}
	if e.Status == "" {
		e.Status = ENIAvailable
		if e.InstanceID != "" {
			e.Status = ENIInUse
		}
	}
	if e.TrafficMode == "" {
		e.TrafficMode = TrafficStandard
	}
	if e.StuckReissues < 0 {
		return fmt.Errorf("ecs emulator: ENI %s: negative StuckReissues", e.ID)
	}
	e.Tags = maps.Clone(e.Tags)
	e.DetachCalls = 0
	for _, err := range []error{
		oneOf("ENI type", e.Type, eniTypes),
		oneOf("ENI status", e.Status, eniStatuses),
		oneOf("ENI traffic mode", e.TrafficMode, trafficModes),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

func (e ENI) clone() ENI {
	e.Tags = maps.Clone(e.Tags)
	return e
}

// stuckRemaining is how many more detach calls the current episode needs
// before its delay may run.
func (e *eniState) stuckRemaining() int {
	return max(0, e.StuckReissues-(e.cycleCalls-1))
}

func (e *eniState) delay(serverDefault time.Duration) time.Duration {
	switch {
	case e.DetachDelay > 0:
		return e.DetachDelay
	case e.DetachDelay < 0:
		return 0
	}
	return serverDefault
}

// setStatus applies a status change that happened at time at.
func (e *eniState) setStatus(status string, at time.Time) {
	if status == ENIDetaching && e.Status != ENIDetaching {
		// As if a detach had been issued elsewhere at that moment.
		e.detachStart = at
		e.cycleCalls = 1
	}
	if status == ENIAvailable {
		e.InstanceID = ""
		e.TrunkID = ""
	}
	e.Status = status
}

// acceptDetach records an accepted DetachNetworkInterface call.
func (e *eniState) acceptDetach(now time.Time) {
	e.DetachCalls++
	if e.Status != ENIDetaching {
		e.Status = ENIDetaching
		e.detachStart = now
		e.cycleCalls = 1
		return
	}
	before := e.stuckRemaining()
	e.cycleCalls++
	if before > 0 && e.stuckRemaining() == 0 {
		e.detachStart = now
	}
}

// settle advances the ENI to time now: scheduled status changes and detach
// completions are applied in the order they happened. Computing transitions
// lazily from timestamps (instead of timers) keeps the model deterministic
// under an injected clock.
func (e *eniState) settle(now time.Time, serverDelay time.Duration) {
	for {
		var next time.Time
		kind := ""
		if e.Status == ENIDetaching && e.stuckRemaining() == 0 {
			next, kind = e.detachStart.Add(e.delay(serverDelay)), "detach"
		}
		if len(e.schedule) > 0 && (kind == "" || e.schedule[0].at.Before(next)) {
			next, kind = e.schedule[0].at, "schedule"
		}
		if kind == "" || next.After(now) {
			return
		}
		if kind == "detach" {
			e.setStatus(ENIAvailable, next)
			continue
		}
		s := e.schedule[0]
		e.schedule = e.schedule[1:]
		e.setStatus(s.status, s.at)
	}
}

func (in *instanceState) settle(now time.Time) {
	for len(in.schedule) > 0 && !in.schedule[0].at.After(now) {
		in.Status = in.schedule[0].status
		in.schedule = in.schedule[1:]
	}
}

func insertSchedule(list []scheduledStatus, s scheduledStatus) []scheduledStatus {
	list = append(list, s)
	sort.SliceStable(list, func(i, j int) bool {
		if list[i].at.Equal(list[j].at) {
			return list[i].seq < list[j].seq
		}
		return list[i].at.Before(list[j].at)
	})
	return list
}
