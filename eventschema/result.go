package eventschema

import "time"

// Outcome is the end state of one ENI in one invocation (README "Outcomes").
type Outcome string

// The outcomes. Each maps to one follow-up event type and one HTTP status.
const (
	OutcomeDetached          Outcome = "Detached"
	OutcomeAlreadyDetached   Outcome = "AlreadyDetached"
	OutcomeDryRun            Outcome = "DryRun"
	OutcomePending           Outcome = "Pending"
	OutcomeNotFound          Outcome = "NotFound"
	OutcomeConflict          Outcome = "Conflict"
	OutcomeNeedsInstanceStop Outcome = "NeedsInstanceStop"
	OutcomeRefused           Outcome = "Refused"
	OutcomePermissionDenied  Outcome = "PermissionDenied"
	OutcomeInvalidRequest    Outcome = "InvalidRequest"
	OutcomeFailed            Outcome = "Failed"
)

// Outcomes lists every outcome, for exhaustive tests and the schema check.
var Outcomes = []Outcome{
	OutcomeDetached, OutcomeAlreadyDetached, OutcomeDryRun, OutcomePending, OutcomeNotFound, OutcomeConflict,
	OutcomeNeedsInstanceStop, OutcomeRefused, OutcomePermissionDenied, OutcomeInvalidRequest, OutcomeFailed,
}

// EventType returns the follow-up event type for o; "" for DryRun, which
// publishes nothing.
func (o Outcome) EventType() string {
	switch o {
	case OutcomeDetached, OutcomeAlreadyDetached:
		return TypeDetached
	case OutcomePending:
		return TypeDetachPending
	case OutcomeDryRun:
		return ""
	default:
		return TypeDetachFailed
	}
}

// HTTPStatus returns the HTTP status for o; retryable only matters for
// Failed (503 when retries were exhausted, 502 for an unclassified error).
func (o Outcome) HTTPStatus(retryable bool) int {
	switch o {
	case OutcomeDetached, OutcomeAlreadyDetached, OutcomeDryRun:
		return 200
	case OutcomePending:
		return 202
	case OutcomeNotFound:
		return 404
	case OutcomeConflict, OutcomeNeedsInstanceStop:
		return 409
	case OutcomeRefused, OutcomePermissionDenied:
		return 403
	case OutcomeInvalidRequest:
		return 400
	default:
		if retryable {
			return 503
		}
		return 502
	}
}

// ENI statuses as ECS reports them, plus NotFound for an ENI that does not
// exist (or no longer does).
const (
	StatusAvailable = "Available"
	StatusAttaching = "Attaching"
	StatusInUse     = "InUse"
	StatusDetaching = "Detaching"
	StatusDeleting  = "Deleting"
	StatusNotFound  = "NotFound"
)

// TriggerKind says how the invocation reached the function.
type TriggerKind string

// Trigger kinds.
const (
	TriggerEventBridge TriggerKind = "eventbridge"
	TriggerHTTP        TriggerKind = "http"
	TriggerDirect      TriggerKind = "direct"
)

// Trigger identifies what asked for the detach.
type Trigger struct {
	Kind        TriggerKind `json:"kind"`
	EventID     string      `json:"eventId,omitempty"`
	EventType   string      `json:"eventType,omitempty"`
	EventSource string      `json:"eventSource,omitempty"`
}

// ErrorInfo explains an outcome other than success. Code is the ECS error
// code when ECS refused, or one of the product's own codes (Guard.*,
// InvalidRequest, …) when the function decided by itself.
type ErrorInfo struct {
	Code      string       `json:"code"`
	Message   string       `json:"message"`
	RequestID string       `json:"requestId,omitempty"`
	Retryable bool         `json:"retryable"`
	Fields    []FieldError `json:"fields,omitempty"`
}

// Result is the data object of the README ("`data`"): one per ENI, returned to the
// caller and carried as the follow-up event's data.
type Result struct {
	// AccountID is the account that owns the ENI: the function's own, or
	// the member account it acted in. Empty only when the function's own
	// account is unknown (the detach CLI without FC_ACCOUNT_ID).
	AccountID              string     `json:"accountId"`
	RegionID               string     `json:"regionId"`
	NetworkInterfaceID     string     `json:"networkInterfaceId,omitempty"`
	InstanceID             string     `json:"instanceId,omitempty"`
	TrunkNetworkInstanceID string     `json:"trunkNetworkInstanceId,omitempty"`
	Outcome                Outcome    `json:"outcome"`
	Status                 string     `json:"status,omitempty"`
	PreviousStatus         string     `json:"previousStatus,omitempty"`
	Error                  *ErrorInfo `json:"error,omitempty"`
	DetachAttempts         int        `json:"detachAttempts"`
	RequestIDs             []string   `json:"requestIds"`
	StartedAt              time.Time  `json:"startedAt"`
	FinishedAt             time.Time  `json:"finishedAt"`
	DurationMs             int64      `json:"durationMs"`
	DryRun                 bool       `json:"dryRun"`
	Trigger                Trigger    `json:"trigger"`
	FCRequestID            string     `json:"fcRequestId,omitempty"`
}

// Retryable reports whether the result asks for the invocation to be
// retried: a Failed outcome whose error is retryable.
func (r Result) Retryable() bool {
	return r.Outcome == OutcomeFailed && r.Error != nil && r.Error.Retryable
}

// Skipped is an ENI of an instance-wide request that was not eligible.
type Skipped struct {
	NetworkInterfaceID string `json:"networkInterfaceId"`
	InstanceID         string `json:"instanceId,omitempty"`
	Reason             string `json:"reason"`
}

// TopError is the response's top-level error: the payload as a whole was
// unusable (InvalidRequest) or the function is misconfigured
// (InvalidConfiguration).
type TopError struct {
	Code    string       `json:"code"`
	Message string       `json:"message"`
	Fields  []FieldError `json:"fields,omitempty"`
}

// Top-level error codes.
const (
	CodeInvalidRequest       = "InvalidRequest"
	CodeInvalidConfiguration = "InvalidConfiguration"
)

// Response is what the function returns for a non-HTTP invocation and the
// body of its HTTP responses.
type Response struct {
	Results      []Result  `json:"results,omitempty"`
	Skipped      []Skipped `json:"skipped,omitempty"`
	Ignored      string    `json:"ignored,omitempty"`
	Error        *TopError `json:"error,omitempty"`
	Published    int       `json:"published,omitempty"`
	PublishError string    `json:"publishError,omitempty"`
}
