package identity

import (
	"net/http"
	"sync"
	"time"

	"github.com/eni-detach/eni-detach/internal/emulator/rpc"
)

// MaxSkew is the gateway's tolerance for a request's Timestamp, also how
// long a SignatureNonce is remembered.
const MaxSkew = 15 * time.Minute

// Caller is who signed an authenticated request.
type Caller struct {
	Principal
	AccessKeyID string
	policies    []*Policy
}

// Allowed reports whether the caller may call action on resource: every
// policy that applies to its key must allow it (a session's permissions
// are its role's intersected with its session policy). A call on several
// resources needs each of them allowed.
func (c Caller) Allowed(action, resource string, ctx Context) bool {
	for _, p := range c.policies {
		if !p.Allows(action, resource, ctx) {
			return false
		}
	}
	return true
}

// Verifier authenticates the requests of one service. Nonces are
// remembered per service, as each real gateway does.
type Verifier struct {
	reg    *Registry
	mu     sync.Mutex
	nonces map[string]time.Time
}

// NewVerifier returns a verifier of r's keys.
func (r *Registry) NewVerifier() *Verifier {
	return &Verifier{reg: r, nonces: map[string]time.Time{}}
}

// Authenticate checks Timestamp, the key, its token, the signature and the
// nonce, in that order, as the gateway does. now judges key expiry (the
// model clock); wall judges the Timestamp and nonces (the SDK stamps
// requests with real time).
func (v *Verifier) Authenticate(method string, p map[string]string, now, wall time.Time) (Caller, *rpc.Error) {
	ts, err := time.Parse(time.RFC3339, p["Timestamp"])
	if err != nil {
		return Caller{}, rpc.Errorf(http.StatusBadRequest, "InvalidTimeStamp.Format",
			"Specified time stamp or date value is not well formatted.")
	}
	if d := wall.Sub(ts); d > MaxSkew || d < -MaxSkew {
		return Caller{}, rpc.Errorf(http.StatusBadRequest, "InvalidTimeStamp.Expired",
			"Specified time stamp or date value is expired.")
	}

	akID := p["AccessKeyId"]
	v.reg.mu.Lock()
	k, ok := v.reg.keys[akID]
	var (
		key      Key
		tokenFor string
		policies []*Policy
	)
	if ok {
		key = *k
		tokenFor = v.reg.tokens[p["SecurityToken"]]
		policies = v.reg.policiesLocked(k)
	}
	v.reg.mu.Unlock()
	if !ok {
		return Caller{}, rpc.Errorf(http.StatusNotFound, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
	}
	token := p["SecurityToken"]
	if key.isSTS() || token != "" {
		// A token sent with a long-term key is refused too: it means the
		// caller mixed up two credential sets.
		if token == "" || token != key.Credentials.SecurityToken {
			if tokenFor != "" && tokenFor != akID {
				return Caller{}, rpc.Errorf(http.StatusForbidden, "InvalidSecurityToken.MismatchWithAccessKey",
					"Specified SecurityToken mismatch with the AccessKey.")
			}
			return Caller{}, rpc.Errorf(http.StatusForbidden, "InvalidSecurityToken.Malformed", "Specified SecurityToken is malformed.")
		}
		if key.isExpired(now) {
			return Caller{}, rpc.Errorf(http.StatusForbidden, "InvalidSecurityToken.Expired", "Specified SecurityToken is expired.")
		}
	} else if key.isExpired(now) {
		return Caller{}, rpc.Errorf(http.StatusBadRequest, "InvalidAccessKeyId.Inactive", "Specified access key is disabled.")
	}

	stringToSign := rpc.StringToSign(method, p)
	if !rpc.SignatureMatches(p["Signature"], rpc.Sign(stringToSign, key.Credentials.AccessKeySecret)) {
		// The real gateway quotes its StringToSign; the SDK compares it
		// with its own to tell a wrong secret from a signing bug.
		return Caller{}, rpc.Errorf(http.StatusBadRequest, "SignatureDoesNotMatch",
			"Specified signature is not matched with our calculation. server string to sign is:%s", stringToSign)
	}

	// Nonces count only once the signature proved who sent them.
	v.mu.Lock()
	defer v.mu.Unlock()
	nonceKey := akID + "\x00" + p["SignatureNonce"]
	if at, seen := v.nonces[nonceKey]; seen && wall.Sub(at) <= MaxSkew {
		return Caller{}, rpc.Errorf(http.StatusBadRequest, "SignatureNonceUsed", "Specified signature nonce was used already.")
	}
	if len(v.nonces) >= 4096 {
		for k, at := range v.nonces {
			if wall.Sub(at) > MaxSkew {
				delete(v.nonces, k)
			}
		}
	}
	v.nonces[nonceKey] = wall
	return Caller{Principal: key.Principal, AccessKeyID: akID, policies: policies}, nil
}
