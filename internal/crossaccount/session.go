// Package crossaccount acts in member accounts: it gets credentials for a
// member account's role with STS AssumeRole (package stsapi), caches them
// for the whole process, and gives the engine an ecsapi.API that calls ECS
// with those credentials only.
//
// One central function serves an organisation: an event about account B's
// instance must be acted on with B's credentials (ECS answers another
// account's credentials InvalidEniId.NotFound, which must never pass for
// "already gone"), and never for an account that is not allowed.
package crossaccount

import (
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/eni-detach/eni-detach/internal/ecsapi"
)

// What every AssumeRole of the function asks for.
const (
	// SessionDuration is the shortest STS allows: a leaked token is
	// worth little, and the cache renews it long before it runs out.
	SessionDuration = 900 * time.Second
	// RenewBefore: cached credentials with less validity left are
	// renewed (aliyun/credentials-go renews 180 s before expiry too).
	RenewBefore = 3 * time.Minute
	// SessionPrefix starts every RoleSessionName, so that the member
	// account's ActionTrail shows which function acted.
	SessionPrefix = "eni-detach-"
)

// maxRequestIDInSession bounds the request id part of the session name
// (STS allows 64 characters in all).
const maxRequestIDInSession = 32

// SessionName is SessionPrefix followed by the FC request id, keeping only
// the characters STS allows and at most 32 of them; "process" when there
// is no request id (the CLI).
func SessionName(requestID string) string {
	// Filtered by hand, not with a regexp: nothing compiled at start-up
	// (cold start).
	b := make([]byte, 0, maxRequestIDInSession)
	for i := 0; i < len(requestID) && len(b) < maxRequestIDInSession; i++ {
		if sessionChar(requestID[i]) {
			b = append(b, requestID[i])
		}
	}
	id := string(b)
	if id == "" {
		id = "process"
	}
	return SessionPrefix + id
}

type policyStatement struct {
	Effect   string
	Action   []string
	Resource []string
}

type policyDoc struct {
	Version   string
	Statement []policyStatement
}

// sessionChar reports whether STS allows c in a RoleSessionName.
func sessionChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '@' || c == '_' || c == '-'
}

// SessionPolicy is the AssumeRole session policy: exactly the ECS actions
// the engine calls (ecsapi.RAMActions, so it cannot drift from the code),
// on any resource. The credentials can do only what both it and the
// member's role allow, so a member role granted too much still cannot be
// used for more through this function. It is built once per process, on
// first use (not at start-up: nothing for a cold start that acts in its
// own account only).
func SessionPolicy() string { return sessionPolicy() }

var sessionPolicy = sync.OnceValue(func() string {
	actions := slices.Clone(ecsapi.RAMActions)
	slices.Sort(actions)
	b, err := json.Marshal(policyDoc{Version: "1", Statement: []policyStatement{
		{Effect: "Allow", Action: actions, Resource: []string{"*"}},
	}})
	if err != nil {
		panic(err) // a fixed shape of strings always marshals
	}
	return string(b)
})
