package ecsapi

import "github.com/eni-detach/eni-detach/internal/acssdk"

// Error is every error the adapter returns (see acssdk.Error). Message is
// safe to log and to return to callers: it never contains the access key
// secret, the security token or a signed URL.
type Error = acssdk.Error

// Kind says where an error came from.
type Kind = acssdk.Kind

// Error kinds.
const (
	// KindServer: ECS answered with an error code.
	KindServer = acssdk.KindServer
	// KindTransport: no usable answer (connection, timeout, garbage body).
	KindTransport = acssdk.KindTransport
	// KindClient: the request could not be built (bad region, …).
	KindClient = acssdk.KindClient
)

// Transport-level codes the adapter assigns when ECS did not answer.
const (
	CodeTimeout      = acssdk.CodeTimeout
	CodeNetwork      = acssdk.CodeNetwork
	CodeBadResponse  = acssdk.CodeBadResponse
	CodeClient       = acssdk.CodeClient
	CodeNoCredential = acssdk.CodeNoCredential
)
