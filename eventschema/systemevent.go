package eventschema

import (
	"slices"
	"strings"
	"time"
)

// System event types that take the instance down (reboot, redeploy, stop,
// release). They are the only ECS system events acted on; the shipped
// EventBridge rules list exactly these (deploy tests hold the two together).
const (
	TypeECSMaintenanceReboot                    = "ecs:Instance:SystemMaintenance.Reboot"
	TypeECSMaintenanceRedeploy                  = "ecs:Instance:SystemMaintenance.Redeploy"
	TypeECSMaintenanceStop                      = "ecs:Instance:SystemMaintenance.Stop"
	TypeECSMaintenanceRebootAndIsolateErrorDisk = "ecs:Instance:SystemMaintenance.RebootAndIsolateErrorDisk"
	TypeECSMaintenanceRebootAndReInitErrorDisk  = "ecs:Instance:SystemMaintenance.RebootAndReInitErrorDisk"
	TypeECSFailureReboot                        = "ecs:Instance:SystemFailure.Reboot"
	TypeECSFailureRedeploy                      = "ecs:Instance:SystemFailure.Redeploy"
	TypeECSFailureStop                          = "ecs:Instance:SystemFailure.Stop"
	TypeECSFailureDelete                        = "ecs:Instance:SystemFailure.Delete"
	TypeECSInstanceFailureReboot                = "ecs:Instance:InstanceFailure.Reboot"
)

// Disk-only system events: ECS repairs or cleans a disk while the instance
// keeps running, so its ENIs must stay where they are.
const (
	TypeECSMaintenanceIsolateErrorDisk   = "ecs:Instance:SystemMaintenance.IsolateErrorDisk"
	TypeECSMaintenanceReInitErrorDisk    = "ecs:Instance:SystemMaintenance.ReInitErrorDisk"
	TypeECSMaintenanceCleanReleasedDisks = "ecs:Instance:SystemMaintenance.CleanReleasedDisks"
)

// System event statuses (data.eventStatus).
const (
	EventStatusScheduled = "Scheduled"
	EventStatusInquiring = "Inquiring"
	EventStatusExecuting = "Executing"
	EventStatusExecuted  = "Executed"
	EventStatusAvoided   = "Avoided"
	EventStatusCanceled  = "Canceled"
	EventStatusFailed    = "Failed"
)

// The tables behind the exported lists. Read-only: the functions below hand
// out copies.
var (
	instanceDownTypes = []string{
		TypeECSMaintenanceReboot, TypeECSMaintenanceRedeploy, TypeECSMaintenanceStop,
		TypeECSMaintenanceRebootAndIsolateErrorDisk, TypeECSMaintenanceRebootAndReInitErrorDisk,
		TypeECSFailureReboot, TypeECSFailureRedeploy, TypeECSFailureStop, TypeECSFailureDelete,
		TypeECSInstanceFailureReboot,
	}
	diskOnlyTypes = []string{
		TypeECSMaintenanceIsolateErrorDisk, TypeECSMaintenanceReInitErrorDisk, TypeECSMaintenanceCleanReleasedDisks,
	}
)

// SystemEventTypes lists the system event types that take the instance down:
// the ones acted on (subject to their status).
func SystemEventTypes() []string { return slices.Clone(instanceDownTypes) }

// DiskOnlySystemEventTypes lists the system event types that touch only a
// disk. They are never acted on.
func DiskOnlySystemEventTypes() []string { return slices.Clone(diskOnlyTypes) }

// ActedOnTypes lists every ECS event type (source acs.ecs) the recogniser
// may act on: the preemption notice, the state change, then
// SystemEventTypes. Every other type is ignored.
func ActedOnTypes() []string {
	return slices.Concat([]string{TypeECSPreemptibleInterruption, TypeECSStateChange}, instanceDownTypes)
}

// systemEventDecision decides on a system event of an instance-down type:
// "" means act, anything else is the reason not to.
//
// Executing always acts: the work has started. A Scheduled or Inquiring
// event arrives up to days before its notBefore, and ECS notifies again
// when the work starts, so it acts only when the work is due within lead
// (MAINTENANCE_LEAD) — or when notBefore cannot tell (absent or
// unparsable) or has passed, since then the next notification may be the
// instance already going down. lead <= 0 acts on Executing only.
func systemEventDecision(typ string, d ECSSystemEventData, now time.Time, lead time.Duration) string {
	switch d.EventStatus {
	case EventStatusExecuting:
		return ""
	case EventStatusScheduled, EventStatusInquiring:
	default:
		return "system event " + quote(typ) + " has status " + quote(d.EventStatus) +
			": only Executing, or Scheduled/Inquiring due within MAINTENANCE_LEAD, is acted on"
	}
	if lead <= 0 {
		return "system event " + quote(typ) + " is " + d.EventStatus + notBeforePhrase(d.NotBefore) +
			" and MAINTENANCE_LEAD is 0 (only Executing is acted on): acting when it executes"
	}
	at, ok := parseNotBefore(d.NotBefore)
	if !ok || !at.After(now.Add(lead)) {
		return ""
	}
	return "system event " + quote(typ) + " is " + d.EventStatus + notBeforePhrase(d.NotBefore) +
		", more than MAINTENANCE_LEAD " + lead.String() + " ahead: acting when it executes"
}

func notBeforePhrase(nb string) string {
	if strings.TrimSpace(nb) == "" {
		return ""
	}
	return " with notBefore " + quote(nb)
}

// notBeforeLayouts are the forms ECS and EventBridge are seen to write
// times in: RFC 3339 (with or without fractions), minute precision as the
// ECS API's own filters take it, and EventBridge's "…PRC" (UTC+8).
var notBeforeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00"}

var prc = time.FixedZone("PRC", 8*60*60)

func parseNotBefore(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	if local, ok := strings.CutSuffix(s, "PRC"); ok {
		t, err := time.ParseInLocation("2006-01-02T15:04:05.999999999", local, prc)
		return t, err == nil
	}
	for _, layout := range notBeforeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
