// Package ecsapi is the only place that talks to ECS. It adapts
// alibaba-cloud-sdk-go (out of support since 2025-03, hence kept behind the
// small API interface) to what the detach engine needs, and owns the SDK's
// sharp edges: per-call clients with per-invocation credentials, no SDK
// auto-retry, per-call deadlines, and error text that never carries a secret.
package ecsapi

import (
	"context"
)

// ENI is what the engine needs to know about one network interface.
type ENI struct {
	ID     string
	Status string
	// Type is Primary, Secondary, Trunk or Member.
	Type string
	// InstanceID is the instance the ENI is attached to; empty when it is
	// Available. For Member ENIs it is the attachment's instance.
	InstanceID string
	// TrunkID is the trunk ENI of a Member ENI's attachment.
	TrunkID        string
	ServiceManaged bool
	Tags           map[string]string
}

// MaxIDsPerDescribe is ECS's limit on NetworkInterfaceId.N in one call.
const MaxIDsPerDescribe = 100

// DescribeInput selects ENIs. Either IDs or InstanceID is set.
type DescribeInput struct {
	RegionID   string
	IDs        []string
	InstanceID string
	Type       string
	MaxResults int
	NextToken  string
}

// DescribePage is one page of DescribeNetworkInterfaces.
type DescribePage struct {
	ENIs      []ENI
	NextToken string
	RequestID string
}

// DetachInput names one detach.
type DetachInput struct {
	RegionID   string
	ENIID      string
	InstanceID string
	TrunkID    string
}

// API is the engine's view of ECS: the two calls it makes. Errors are
// *Error.
type API interface {
	DescribeNetworkInterfaces(ctx context.Context, in DescribeInput) (DescribePage, error)
	DetachNetworkInterface(ctx context.Context, in DetachInput) (requestID string, err error)
}
