package detach

import (
	"errors"
	"net/http"
	"strings"

	"github.com/eni-detach/eni-detach/eventschema"
	"github.com/eni-detach/eni-detach/internal/acssdk"
	"github.com/eni-detach/eni-detach/internal/ecsapi"
)

// Class is what an ECS error means for the detach (README, "What it
// does": the class table).
type Class string

// Error classes.
const (
	// ClassRetryable: try the same call again after a backoff
	// (throttling, 5xx, conflicting concurrent requests, network).
	ClassRetryable Class = "retryable"
	// ClassStateConditional: the ENI or instance is not in a state that
	// allows the call; re-describe and decide again.
	ClassStateConditional Class = "state-conditional"
	// ClassAlreadyDone: the ENI is gone; after an accepted detach that is
	// success.
	ClassAlreadyDone Class = "already-done"
	// ClassNeedsInstanceStop: ECS detaches this ENI only from a stopped
	// instance.
	ClassNeedsInstanceStop Class = "needs-instance-stop"
	// ClassConflict: the ENI cannot be detached as asked.
	ClassConflict Class = "conflict"
	// ClassPermission: RAM, credential, signature or account problems.
	ClassPermission Class = "permission"
	// ClassInvalidInput: ECS rejected a parameter; retrying cannot help.
	ClassInvalidInput Class = "invalid-input"
	// ClassUnknown: a code this table does not know; reported, not retried.
	ClassUnknown Class = "unknown"
)

// Rule is one row of the table: the class, the outcome it leads to when it
// is final, and whether a later invocation could succeed.
type Rule struct {
	Class     Class
	Outcome   eventschema.Outcome
	Retryable bool
	// Throttled marks ECS flow control: the process's limiter for the
	// call's quota learns from it (flowcontrol.Ticket.Done).
	Throttled bool
}

var (
	retryable      = Rule{Class: ClassRetryable, Outcome: eventschema.OutcomeFailed, Retryable: true}
	throttled      = Rule{Class: ClassRetryable, Outcome: eventschema.OutcomeFailed, Retryable: true, Throttled: true}
	stateCond      = Rule{Class: ClassStateConditional, Outcome: eventschema.OutcomeFailed, Retryable: true}
	alreadyDone    = Rule{Class: ClassAlreadyDone, Outcome: eventschema.OutcomeNotFound}
	needsStop      = Rule{Class: ClassNeedsInstanceStop, Outcome: eventschema.OutcomeNeedsInstanceStop}
	conflict       = Rule{Class: ClassConflict, Outcome: eventschema.OutcomeConflict}
	permission     = Rule{Class: ClassPermission, Outcome: eventschema.OutcomePermissionDenied}
	invalidInput   = Rule{Class: ClassInvalidInput, Outcome: eventschema.OutcomeInvalidRequest}
	unknownFailure = Rule{Class: ClassUnknown, Outcome: eventschema.OutcomeFailed}
)

// CodeTable classifies every error code on the DetachNetworkInterface API
// page, the ECS gateway's common codes, and the adapter's transport codes.
// It is the one place to look when asking "what happens if ECS says X".
var CodeTable = map[string]Rule{
	// The API page, in its order.
	"MissingParameter":                                   invalidInput,
	"UnsupportedParameter":                               invalidInput,
	"InvalidParameter":                                   invalidInput,
	"InvalidInstanceID.Malformed":                        invalidInput,
	"InvalidOperation.InvalidRegion":                     invalidInput,
	"InvalidOperation.InvalidEcsState":                   stateCond, // e.g. instance Stopping: wait, retry
	"InvalidOperation.InvalidEniState":                   stateCond, // Attaching/Detaching/Available: look again
	"InvalidOperation.DetachPrimaryEniNotAllowed":        conflict,
	"Forbidden.RegionId":                                 permission,
	"InvalidParams.EniId":                                invalidInput,
	"InvalidParameter.EniNotBelongEcs":                   stateCond, // detached meanwhile, or attached elsewhere
	"InvalidOperation.EniHotPlugNotSupported":            needsStop,
	"InvalidUserType.NotSupported":                       permission,
	"Abs.InvalidAccount.NotFound":                        permission,
	"Forbidden.NotSupportRAM":                            permission,
	"Forbidden.SubUser":                                  permission,
	"MaxEniCountExceeded":                                conflict,
	"EniPerInstanceLimitExceeded":                        conflict,
	"InvalidOperation.AvailabilityZoneMismatch":          conflict,
	"InvalidOperation.VpcMismatch":                       conflict,
	"SecurityGroupInstanceLimitExceed":                   conflict,
	"InvalidSecurityGroupId.NotVpc":                      conflict,
	"InvalidOperation.InvalidEniType":                    conflict,
	"InvalidOperation.EniServiceManaged":                 conflict,
	"InvalidOperation.EniLinked":                         conflict,
	"InvalidInstanceId.NotFound":                         stateCond, // instance released: the ENI may be Available now
	"InvalidOperation.HotPlugNotSupport":                 needsStop,
	"InvalidOperation.InvalidTrunkEniStatus":             stateCond,
	"InvalidOperation.TrunkingIsNotAllowed":              conflict,
	"InvalidOperation.InstanceTypeNotSupportEniTrunking": conflict,
	"InvalidParameter.EniNotBelongTrunk":                 conflict,
	"InvalidOperation.EniTypeNotSupportTrunking":         conflict,
	"InvalidOperation.HasMemberEniAttached":              conflict,
	"InvalidEcsId.NotFound":                              stateCond,
	"InvalidEniId.NotFound":                              alreadyDone,
	"InvalidVSwitchId.NotFound":                          invalidInput,
	"InvalidSecurityGroupId.NotFound":                    invalidInput,

	// ECS gateway codes every API can return.
	"InvalidRegionId.NotFound":                   invalidInput,
	"Throttling":                                 throttled,
	"Throttling.User":                            throttled,
	"Throttling.Api":                             throttled,
	"Throttling.Resource":                        throttled,
	"ServiceUnavailable":                         retryable,
	"InternalError":                              retryable,
	"UnknownError":                               retryable,
	"OperationConflict":                          retryable, // another request on the same resource is running
	"LastTokenProcessing":                        retryable,
	"IdempotenceProcessing":                      retryable,
	"SignatureNonceUsed":                         retryable, // the next attempt is signed with a new nonce
	"SignatureDoesNotMatch":                      permission,
	"IncompleteSignature":                        permission,
	"InvalidAccessKeyId.NotFound":                permission,
	"InvalidAccessKeyId.Inactive":                permission,
	"InvalidSecurityToken.Expired":               permission,
	"InvalidSecurityToken.Malformed":             permission,
	"InvalidSecurityToken.MismatchWithAccessKey": permission,
	"InvalidTimeStamp.Expired":                   permission, // clock skew: the function's clock is wrong
	"Forbidden":                                  permission,
	"Forbidden.RAM":                              permission,
	"NoPermission":                               permission,

	// The limiter held the call back: the quota is spent past the deadline.
	CodeQuotaExhausted: throttled,

	// The adapter's own codes (no usable answer from ECS).
	ecsapi.CodeTimeout:      retryable,
	ecsapi.CodeNetwork:      retryable,
	ecsapi.CodeBadResponse:  retryable,
	ecsapi.CodeClient:       invalidInput,
	ecsapi.CodeNoCredential: permission,
}

// STSCodeTable classifies what STS answers when the engine asks for a
// member account's credentials (AssumeRole). Nothing is called in the
// member account after any of these; when the retries end, the ENI's
// result carries STS's code and RequestId. Throttling is retried like
// any other passing failure, but not on ECS's one-minute windows: STS
// counts calls per second.
var STSCodeTable = map[string]Rule{
	"Throttling":         retryable,
	"Throttling.User":    retryable,
	"Throttling.Api":     retryable,
	"InternalError":      retryable,
	"ServiceUnavailable": retryable,
	"UnknownError":       retryable,
	"SignatureNonceUsed": retryable,

	// The member role does not exist, does not trust the function's role
	// (or wants another ExternalId), or the function's role may not
	// assume it: a deployment problem, the same on every retry.
	"NoPermission":                     permission,
	"EntityNotExist.Role":              permission,
	"InvalidParameter.RoleArn":         permission,
	"InvalidParameter.ExternalId":      permission,
	"InvalidParameter.RoleSessionName": permission,
	"InvalidParameter.DurationSeconds": permission, // the member role's MaxSessionDuration
	"InvalidParameter.PolicyGrammar":   permission,
	"InvalidParameter.PolicySize":      permission,
	"MissingParameter":                 permission,
	// The function's own credentials were refused.
	"SignatureDoesNotMatch":    permission,
	"IncompleteSignature":      permission,
	"InvalidTimeStamp.Expired": permission,

	ecsapi.CodeTimeout:      retryable,
	ecsapi.CodeNetwork:      retryable,
	ecsapi.CodeBadResponse:  retryable,
	ecsapi.CodeClient:       permission,
	ecsapi.CodeNoCredential: permission,
}

// stsPrefixRules catch STS code families; any other STS refusal (4xx)
// means no credentials for the account: PermissionDenied.
var stsPrefixRules = []prefixRule{
	{"Throttling.", retryable},
	{"InvalidParameter.", permission},
	{"InvalidSecurityToken.", permission},
	{"InvalidAccessKeyId.", permission},
	{"EntityNotExist.", permission},
}

// prefixRules catch code families ECS grows over time.
var prefixRules = []prefixRule{
	{"Throttling.", throttled},
	{"Forbidden.", permission},
	{"InvalidSecurityToken.", permission},
	{"InvalidAccessKeyId.", permission},
}

// prefixRule classifies every code that starts with prefix.
type prefixRule struct {
	prefix string
	rule   Rule
}

// classifier is one service's classification: its codes, its code
// families, and the rule of a refusal (4xx) that neither knows.
type classifier struct {
	codes    map[string]Rule
	prefixes []prefixRule
	unknown  Rule
}

var (
	ecsClassifier = classifier{CodeTable, prefixRules, unknownFailure}
	stsClassifier = classifier{STSCodeTable, stsPrefixRules, permission}
)

// Classify returns the rule for err: by the table of the service that
// answered (ECS, or STS asked for a member account's credentials).
// Unknown server codes are retried only when the HTTP status says the
// server failed (5xx).
func Classify(err error) Rule {
	var e *ecsapi.Error
	if !errors.As(err, &e) {
		return unknownFailure
	}
	if e.Service == acssdk.ServiceSTS {
		return stsClassifier.classify(e)
	}
	return ecsClassifier.classify(e)
}

func (c classifier) classify(e *ecsapi.Error) Rule {
	if r, ok := c.codes[e.Code]; ok {
		return r
	}
	for _, p := range c.prefixes {
		if strings.HasPrefix(e.Code, p.prefix) {
			return p.rule
		}
	}
	if e.HTTPStatus >= http.StatusInternalServerError || e.Kind == ecsapi.KindTransport {
		return retryable
	}
	return c.unknown
}
