package eventschema

import (
	"encoding/json"
	"strings"
)

// ECS system event types this product acts on (README "ECS system events").
const (
	TypeECSPreemptibleInterruption = "ecs:Instance:PreemptibleInstanceInterruption"
	TypeECSStateChange             = "ecs:Instance:StateChange"
	TypePrefixECSMaintenance       = "ecs:Instance:SystemMaintenance."
	TypePrefixECSFailure           = "ecs:Instance:SystemFailure."
)

// ECSStateChangeData is the data of ecs:Instance:StateChange.
type ECSStateChangeData struct {
	ResourceID   string `json:"resourceId"`
	ResourceType string `json:"resourceType,omitempty"`
	State        string `json:"state"`
}

// ECSPreemptibleData is the data of ecs:Instance:PreemptibleInstanceInterruption.
type ECSPreemptibleData struct {
	InstanceID string `json:"instanceId"`
	Action     string `json:"action,omitempty"`
}

// ECSSystemEventData is the data of SystemMaintenance.* / SystemFailure.*.
type ECSSystemEventData struct {
	EventID           string `json:"eventId,omitempty"`
	PublishTime       string `json:"publishTime,omitempty"`
	NotBefore         string `json:"notBefore,omitempty"`
	InstanceID        string `json:"instanceId"`
	EventType         string `json:"eventType,omitempty"`
	EventStatus       string `json:"eventStatus"`
	ExecuteStartTime  string `json:"executeStartTime,omitempty"`
	ExecuteFinishTime string `json:"executeFinishTime,omitempty"`
}

// ecsDecision is what an ECS system event asks for: an instance to clear, or
// a reason to leave it alone. A malformed event of a type we act on is an
// invalid request (err set), not an ignored one: a rule delivered it to us
// on purpose, and silence would hide a broken producer.
type ecsDecision struct {
	instanceID string
	ignored    string
	err        *ValidationError
}

func decideECS(ev CloudEvent) ecsDecision {
	switch {
	case ev.Type == TypeECSPreemptibleInterruption:
		var d ECSPreemptibleData
		if err := decodeData(ev.Data, &d); err != nil {
			return ecsDecision{err: invalid("data", err.Error())}
		}
		return requireInstance(d.InstanceID, "data.instanceId")
	case ev.Type == TypeECSStateChange:
		var d ECSStateChangeData
		if err := decodeData(ev.Data, &d); err != nil {
			return ecsDecision{err: invalid("data", err.Error())}
		}
		switch d.State {
		case "Stopping", "Stopped":
			return requireInstance(d.ResourceID, "data.resourceId")
		default:
			return ecsDecision{ignored: "instance state " + quote(d.State) + " is not Stopping or Stopped"}
		}
	case strings.HasPrefix(ev.Type, TypePrefixECSMaintenance), strings.HasPrefix(ev.Type, TypePrefixECSFailure):
		var d ECSSystemEventData
		if err := decodeData(ev.Data, &d); err != nil {
			return ecsDecision{err: invalid("data", err.Error())}
		}
		switch d.EventStatus {
		case "Scheduled", "Executing":
			return requireInstance(d.InstanceID, "data.instanceId")
		default:
			return ecsDecision{ignored: "system event status " + quote(d.EventStatus) + " is not Scheduled or Executing"}
		}
	default:
		return ecsDecision{ignored: "ECS event type " + quote(ev.Type) + " is not one this function acts on"}
	}
}

func requireInstance(id, field string) ecsDecision {
	switch {
	case id == "":
		return ecsDecision{err: invalid(field, "is required")}
	case !ValidInstanceID(id):
		return ecsDecision{err: invalid(field, "must be an instance id: \"i-\" followed by lower-case letters and digits, got "+quote(id))}
	}
	return ecsDecision{instanceID: id}
}

// decodeData accepts data as an object or as a string holding one: some
// producers put JSON text in data, and EventBridge passes it on unchanged.
func decodeData(raw json.RawMessage, into any) error {
	raw = unwrapJSONString(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return errDataNotObject
	}
	if err := json.Unmarshal(raw, into); err != nil {
		return dataError{jsonProblem(err)}
	}
	return nil
}

type dataError struct{ msg string }

func (e dataError) Error() string { return e.msg }

var errDataNotObject = dataError{"must be a JSON object"}
