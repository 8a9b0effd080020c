package ecs

import (
	"net/http"
	"regexp"
	"time"
)

var (
	instanceIDPattern = regexp.MustCompile(`^i-[a-z0-9]+$`)
	eniIDPattern      = regexp.MustCompile(`^eni-[a-z0-9]+$`)
)

// hasAttachedMembers reports whether member ENIs still hang off trunk id.
func (s *Server) hasAttachedMembers(trunkID string, now time.Time) bool {
	for _, st := range s.enis {
		if st.Type != ENIMember || st.TrunkID != trunkID {
			continue
		}
		st.settle(now, s.detachDelay)
		if st.TrunkID == trunkID && st.Status != ENIAvailable {
			return true
		}
	}
	return false
}

// detachNetworkInterface checks the API page's error conditions from the
// cheapest (request syntax) to the most state-dependent, then starts or
// re-issues the detach.
func (s *Server) detachNetworkInterface(account string, p map[string]string, now time.Time) (any, *apiError) {
	for _, name := range []string{"RegionId", "NetworkInterfaceId", "InstanceId"} {
		if p[name] == "" {
			return nil, errMissing(name)
		}
	}
	region, eniID, instID, trunkParam := p["RegionId"], p["NetworkInterfaceId"], p["InstanceId"], p["TrunkNetworkInstanceId"]

	if !instanceIDPattern.MatchString(instID) {
		return nil, newErr(http.StatusBadRequest, "InvalidInstanceID.Malformed", "The specified InstanceId %q is invalid.", instID)
	}
	if !eniIDPattern.MatchString(eniID) {
		return nil, newErr(http.StatusBadRequest, "InvalidParams.EniId", "The specified EniId %q is invalid.", eniID)
	}
	if !s.regions[region] {
		return nil, newErr(http.StatusBadRequest, "InvalidOperation.InvalidRegion", "The specified RegionId %q is invalid.", region)
	}
	// Another account's ENI or instance does not exist for the caller.
	st, ok := s.enis[eniID]
	if !ok || st.Account != account || st.Region != region {
		return nil, errENINotFound(eniID)
	}
	in, ok := s.instances[instID]
	if !ok || in.Account != account || in.Region != region {
		return nil, errInstanceNotFound(instID)
	}
	st.settle(now, s.detachDelay)
	in.settle(now)

	switch {
	case st.Type == ENIPrimary:
		return nil, newErr(http.StatusBadRequest, "InvalidOperation.DetachPrimaryEniNotAllowed",
			"The primary ENI %s cannot be detached.", eniID)
	case st.ServiceManaged:
		return nil, newErr(http.StatusForbidden, "InvalidOperation.EniServiceManaged",
			"The ENI %s is managed by a cloud service.", eniID)
	case st.Linked:
		return nil, newErr(http.StatusForbidden, "InvalidOperation.EniLinked",
			"The ENI %s is associated with other ENIs.", eniID)
	case st.Type == ENITrunk && s.hasAttachedMembers(eniID, now):
		return nil, newErr(http.StatusForbidden, "InvalidOperation.HasMemberEniAttached",
			"Member ENIs are attached to the trunk ENI %s.", eniID)
	case st.Type == ENIMember && st.TrunkID != "" && st.TrunkID != trunkParam,
		st.Type != ENIMember && trunkParam != "":
		// A trunk id given for a non-member ENI is refused rather than
		// ignored: it means the caller has the wrong picture of the ENI.
		return nil, newErr(http.StatusForbidden, "InvalidParameter.EniNotBelongTrunk",
			"The ENI %s does not belong to the trunk ENI %q.", eniID, trunkParam)
	case st.Status != ENIInUse && st.Status != ENIDetaching:
		return nil, newErr(http.StatusBadRequest, "InvalidOperation.InvalidEniState",
			"The ENI %s is in the %s state.", eniID, st.Status)
	case st.InstanceID != instID:
		return nil, newErr(http.StatusBadRequest, "InvalidParameter.EniNotBelongEcs",
			"The ENI %s is not attached to the instance %s.", eniID, instID)
	case in.Status != InstanceRunning && in.Status != InstanceStopped:
		return nil, newErr(http.StatusBadRequest, "InvalidOperation.InvalidEcsState",
			"The instance %s is in the %s state.", instID, in.Status)
	case st.TrafficMode == TrafficHighPerformance && in.Status == InstanceRunning:
		return nil, newErr(http.StatusBadRequest, "InvalidOperation.EniHotPlugNotSupported",
			"The ENI with high-performance traffic mode cannot be hot-plugged. Please stop the ECS instance to which the ENI is attached, and try again.")
	case in.HotPlugUnsupported && in.Status == InstanceRunning:
		return nil, newErr(http.StatusForbidden, "InvalidOperation.HotPlugNotSupport",
			"The instance %s does not support hot plugging while Running.", instID)
	}
	st.acceptDetach(now)
	// A zero delay completes within this call.
	st.settle(now, s.detachDelay)
	return &detachResponse{}, nil
}
