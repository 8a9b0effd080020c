package ecs

import (
	"net/http"
	"strings"
	"time"

	"github.com/eni-detach/eni-detach/internal/creds"
)

type credEntry struct {
	c       creds.Credentials
	expiry  time.Time // zero: never
	expired bool      // ExpireCredentials was called
}

func (e *credEntry) isExpired(now time.Time) bool {
	return e.expired || (!e.expiry.IsZero() && !now.Before(e.expiry))
}

// AddCredentials registers a key pair (with its STS token, if any). A key
// registered with a token, or whose ID starts with "STS.", must present
// exactly that token. Re-adding a key replaces it.
func (s *Server) AddCredentials(c creds.Credentials) { s.AddCredentialsUntil(c, time.Time{}) }

// AddCredentialsUntil registers credentials that expire at expiry on the
// server clock (zero: never).
func (s *Server) AddCredentialsUntil(c creds.Credentials, expiry time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.creds[c.AccessKeyID]; ok && old.c.SecurityToken != "" {
		delete(s.tokens, old.c.SecurityToken)
	}
	s.creds[c.AccessKeyID] = &credEntry{c: c, expiry: expiry}
	if c.SecurityToken != "" {
		s.tokens[c.SecurityToken] = c.AccessKeyID
	}
}

// ExpireCredentials makes a registered key expire now (an STS token that
// runs out in the middle of an invocation). It reports whether the key was
// known.
func (s *Server) ExpireCredentials(accessKeyID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.creds[accessKeyID]
	if ok {
		e.expired = true
	}
	return ok
}

// authenticate checks Timestamp, the key, its token, the signature and the
// nonce, in that order.
func (s *Server) authenticate(method string, p map[string]string) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	now, wall := s.now(), s.wallNow()

	ts, err := time.Parse(time.RFC3339, p["Timestamp"])
	if err != nil {
		return newErr(http.StatusBadRequest, "InvalidTimeStamp.Format",
			"Specified time stamp or date value is not well formatted.")
	}
	if d := wall.Sub(ts); d > maxSkew || d < -maxSkew {
		return newErr(http.StatusBadRequest, "InvalidTimeStamp.Expired",
			"Specified time stamp or date value is expired.")
	}

	akID := p["AccessKeyId"]
	e, ok := s.creds[akID]
	if !ok {
		return newErr(http.StatusNotFound, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
	}
	token := p["SecurityToken"]
	if isSTS(e.c) || token != "" {
		// A token sent with a long-term key is refused too: it means the
		// caller mixed up two credential sets.
		if token == "" || token != e.c.SecurityToken {
			if owner, known := s.tokens[token]; known && owner != akID {
				return newErr(http.StatusForbidden, "InvalidSecurityToken.MismatchWithAccessKey",
					"Specified SecurityToken mismatch with the AccessKey.")
			}
			return newErr(http.StatusForbidden, "InvalidSecurityToken.Malformed", "Specified SecurityToken is malformed.")
		}
		if e.isExpired(now) {
			return newErr(http.StatusForbidden, "InvalidSecurityToken.Expired", "Specified SecurityToken is expired.")
		}
	} else if e.isExpired(now) {
		return newErr(http.StatusBadRequest, "InvalidAccessKeyId.Inactive", "Specified access key is disabled.")
	}

	stringToSign := StringToSign(method, p)
	if !signatureMatches(p["Signature"], Sign(stringToSign, e.c.AccessKeySecret)) {
		// The real gateway quotes its StringToSign; the SDK compares it
		// with its own to tell a wrong secret from a signing bug.
		return newErr(http.StatusBadRequest, "SignatureDoesNotMatch",
			"Specified signature is not matched with our calculation. server string to sign is:%s", stringToSign)
	}

	// Nonces count only once the signature proved who sent them.
	nonceKey := akID + "\x00" + p["SignatureNonce"]
	if at, seen := s.nonces[nonceKey]; seen && wall.Sub(at) <= maxSkew {
		return newErr(http.StatusBadRequest, "SignatureNonceUsed", "Specified signature nonce was used already.")
	}
	if len(s.nonces) >= 4096 {
		for k, at := range s.nonces {
			if wall.Sub(at) > maxSkew {
				delete(s.nonces, k)
			}
		}
	}
	s.nonces[nonceKey] = wall
	return nil
}

// isSTS reports whether a registered key is a temporary one, which the
// gateway accepts only with its security token.
func isSTS(c creds.Credentials) bool {
	return c.SecurityToken != "" || strings.HasPrefix(c.AccessKeyID, "STS.")
}
