package ecs

import (
	"github.com/eni-detach/eni-detach/internal/emulator/rpc"
)

// Fault kinds, as recorded in Call.Fault.
const (
	FaultError    = rpc.FaultError    // InjectError
	FaultThrottle = rpc.FaultThrottle // Throttle
	FaultQuota    = "quota"           // over a quota (SetQuota, PutQuota)
	FaultLatency  = rpc.FaultLatency  // InjectLatency: the action ran, the answer came late
	FaultHang     = rpc.FaultHang     // InjectHang: no answer until the client gives up
	FaultReset    = rpc.FaultReset    // InjectReset: connection dropped, no answer
)

// AnyAction makes an injected fault apply to every action.
const AnyAction = rpc.AnyAction
