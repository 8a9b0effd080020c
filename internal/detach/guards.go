package detach

import (
	"github.com/eni-detach/eni-detach/eventschema"
	"github.com/eni-detach/eni-detach/internal/config"
	"github.com/eni-detach/eni-detach/internal/ecsapi"
)

// Product error codes for refusals the function decides by itself, before
// any detach call. They sit in the result's error.code next to ECS codes.
const (
	CodeGuardPrimary        = "Guard.PrimaryNetworkInterface"
	CodeGuardServiceManaged = "Guard.ServiceManaged"
	CodeGuardOtherInstance  = "Guard.AttachedToAnotherInstance"
	CodeGuardTagSelector    = "Guard.TagSelector"
	CodeGuardTrunk          = "Guard.TrunkOrMember"
	CodeGuardDeleting       = "Guard.Deleting"
	// The account guards (README, "One function for an organisation"):
	// the owner account is not one the function may act in, or a custom
	// request names another account than its event's.
	CodeGuardAccountNotAllowed = "Guard.AccountNotAllowed"
	CodeGuardAccountMismatch   = "Guard.AccountMismatch"
	CodeNotFound               = "InvalidEniId.NotFound"
	CodeDetachReverted         = "Detach.Reverted"
	CodeNotStarted             = "Detach.NotStarted"
	CodeQuotaExhausted         = "FlowControl.QuotaExhausted"
)

// refusal is why an ENI must not be detached; nil means it may be.
type refusal struct {
	outcome eventschema.Outcome
	code    string
	reason  string
}

// guard applies the never-detach rules (README, "What it does", step 1)
// to an ENI seen by Describe. namedInstance is the instance the request
// named ("" if none); trunkID is the request's TrunkNetworkInstanceId.
func guard(e ecsapi.ENI, namedInstance, trunkID string, sel config.TagSelector) *refusal {
	switch {
	case e.Type == "Primary":
		return &refusal{eventschema.OutcomeConflict, CodeGuardPrimary, "the primary ENI of an instance is never detached"}
	case e.ServiceManaged:
		return &refusal{eventschema.OutcomeConflict, CodeGuardServiceManaged, "the ENI is managed by a cloud service"}
	case !sel.Matches(e.Tags):
		return &refusal{eventschema.OutcomeRefused, CodeGuardTagSelector, "ENI_TAG_SELECTOR forbids it: " + sel.Missing(e.Tags)}
	case e.Status == eventschema.StatusDeleting:
		return &refusal{eventschema.OutcomeConflict, CodeGuardDeleting, "the ENI is being deleted"}
	case e.Status == eventschema.StatusAvailable:
		return nil // nothing to detach; not a refusal
	case namedInstance != "" && e.InstanceID != "" && e.InstanceID != namedInstance:
		return &refusal{eventschema.OutcomeConflict, CodeGuardOtherInstance, "the ENI is attached to " + e.InstanceID + ", not " + namedInstance}
	case e.Type == "Member" && trunkID == "":
		return &refusal{eventschema.OutcomeConflict, CodeGuardTrunk, "a member ENI is detached from its trunk ENI: name it in TrunkNetworkInstanceId"}
	}
	return nil
}

// eligibleForInstanceWide says whether an ENI listed for an instance-only
// request is acted on; the reason goes to the response's skipped list.
// Trunk and member ENIs belong to whoever built the trunk (terway, ACK):
// an instance-wide sweep leaves them alone.
func eligibleForInstanceWide(e ecsapi.ENI, sel config.TagSelector) (bool, string) {
	switch {
	case e.Type == "Primary":
		return false, "primary ENI"
	case e.Type == "Trunk" || e.Type == "Member":
		return false, "trunk or member ENI"
	case e.ServiceManaged:
		return false, "service-managed ENI"
	case !sel.Matches(e.Tags):
		return false, "ENI_TAG_SELECTOR: " + sel.Missing(e.Tags)
	case e.Status != eventschema.StatusInUse && e.Status != eventschema.StatusDetaching && e.Status != eventschema.StatusAttaching:
		return false, "status " + e.Status
	}
	return true, ""
}
