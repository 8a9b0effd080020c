package eventbridge

import (
	"crypto/hmac"
	"crypto/md5"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/eni-detach/eni-detach/internal/creds"
)

// credEntry is one registered key, as an STS service would know it.
type credEntry struct {
	creds   creds.Credentials
	expired bool
}

// AddCredentials registers a key pair. With a SecurityToken the key is an
// STS key: requests must carry exactly that token in x-acs-security-token.
func (s *Server) AddCredentials(c creds.Credentials) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.creds[c.AccessKeyID] = &credEntry{creds: c}
}

// ExpireCredentials makes a registered STS key answer StsAccessIdExpired,
// as a token past its expiration does.
func (s *Server) ExpireCredentials(accessKeyID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.creds[accessKeyID]; ok {
		e.expired = true
	}
}

// identity is who signed an accepted request.
type identity struct {
	AccessKeyID   string
	SecurityToken string
}

// authenticate checks the request the way the gateway does: known key,
// valid signature, then the STS token bound to that key. body is needed
// only for an optional content-md5 check.
func (s *Server) authenticate(r *http.Request, body []byte) (identity, *apiError) {
	id := identity{SecurityToken: r.Header.Get("x-acs-security-token")}
	ak, sig, ok := parseAuthorization(r.Header.Get("Authorization"))
	if !ok {
		return id, newErr(http.StatusForbidden, CodeInvalidAuthorization,
			"The authorization header is missing or malformed: expected acs:{AccessKeyId}:{Signature}.")
	}
	id.AccessKeyID = ak

	s.mu.Lock()
	entry, known := s.creds[ak]
	var reg credEntry
	if known {
		reg = *entry
	}
	s.mu.Unlock()
	if !known {
		if strings.HasPrefix(ak, "STS.") {
			return id, newErr(http.StatusForbidden, CodeInvalidStsAccessKeyID, "%s", defaultMessage(CodeInvalidStsAccessKeyID))
		}
		return id, newErr(http.StatusForbidden, CodeInvalidAccessKeyID, "%s", defaultMessage(CodeInvalidAccessKeyID))
	}
	if hdr := r.Header.Get("x-acs-accesskey-id"); hdr != "" && hdr != ak {
		return id, newErr(http.StatusForbidden, CodeInvalidAccessKeyID,
			"The x-acs-accesskey-id header does not match the AccessKeyId of the authorization header.")
	}
	if md5hdr := r.Header.Get("Content-MD5"); md5hdr != "" {
		sum := md5.Sum(body)
		if md5hdr != base64.StdEncoding.EncodeToString(sum[:]) {
			return id, newErr(http.StatusBadRequest, CodeInvalidArgument, "The Content-MD5 you specified does not match the body.")
		}
	}
	if r.Header.Get("Date") == "" {
		return id, newErr(http.StatusBadRequest, CodeInvalidArgument, "The date header is required.")
	}
	if m := r.Header.Get("x-acs-signature-method"); m != "" && m != "HMAC-SHA1" {
		return id, newErr(http.StatusBadRequest, CodeInvalidArgument, "Unsupported x-acs-signature-method %q.", m)
	}
	want := Sign(reg.creds.AccessKeySecret, StringToSign(r))
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return id, newErr(http.StatusForbidden, CodeSignatureDoesNotMatch, "%s", defaultMessage(CodeSignatureDoesNotMatch))
	}

	token := id.SecurityToken
	switch {
	case reg.creds.SecurityToken == "" && token != "":
		// A token presented with a long-term key means the caller mixed up
		// two credential sets: refuse rather than ignore it.
		return id, newErr(http.StatusForbidden, CodeSecurityTokenInvalid, "%s", defaultMessage(CodeSecurityTokenInvalid))
	case reg.creds.SecurityToken != "" && token == "":
		return id, newErr(http.StatusForbidden, CodeSecurityTokenInvalid,
			"The Security token is required for an STS AccessKeyId (x-acs-security-token is missing).")
	case reg.creds.SecurityToken != "" && !hmac.Equal([]byte(token), []byte(reg.creds.SecurityToken)):
		return id, newErr(http.StatusForbidden, CodeSecurityTokenInvalid, "%s", defaultMessage(CodeSecurityTokenInvalid))
	case reg.expired:
		return id, newErr(http.StatusForbidden, CodeStsAccessIDExpired, "%s", defaultMessage(CodeStsAccessIDExpired))
	}
	return id, nil
}
