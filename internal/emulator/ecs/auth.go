package ecs

import (
	"net/http"
	"strings"
	"time"

	"github.com/eni-detach/eni-detach/internal/creds"
	"github.com/eni-detach/eni-detach/internal/emulator/identity"
)

// AddCredentials registers a key pair (with its STS token, if any) in the
// default account, for identity.Registry.DefaultPrincipal: an STS triple is
// a session of the function's role, allowed every action unless that role
// is registered with a policy (identity.Registry.AddKey registers keys of
// other accounts or with policies of their own). A key registered with a
// token, or whose ID starts with "STS.", must present exactly that token.
// Re-adding a key replaces it.
func (s *Server) AddCredentials(c creds.Credentials) { s.AddCredentialsUntil(c, time.Time{}) }

// AddCredentialsUntil registers credentials that expire at expiry on the
// server clock (zero: never).
func (s *Server) AddCredentialsUntil(c creds.Credentials, expiry time.Time) {
	s.ids.AddCredentials(c, expiry)
}

// ExpireCredentials makes a registered key expire now (an STS token that
// runs out in the middle of an invocation). It reports whether the key was
// known.
func (s *Server) ExpireCredentials(accessKeyID string) bool { return s.ids.Expire(accessKeyID) }

// authenticate checks who signed the request (identity.Verifier).
func (s *Server) authenticate(method string, p map[string]string) (identity.Caller, *apiError) {
	return s.verifier.Authenticate(method, p, s.now(), s.wallNow())
}

// authorize checks the caller's RAM policies allow the action on the
// resources it touches, as RAM does before ECS runs it. Describe actions
// are not resource-scoped in RAM: only a "*" grant allows them. A detach
// touches the ENI and the instance; the ENI's tags are its
// acs:ResourceTag/… condition keys. Runs under s.mu.
func (s *Server) authorize(c identity.Caller, action string, p map[string]string) *apiError {
	type resource struct {
		arn string
		ctx identity.Context
	}
	var rs []resource
	switch action {
	case "DetachNetworkInterface":
		prefix := "acs:ecs:" + p["RegionId"] + ":" + c.Account + ":"
		eniCtx := identity.Context{}
		if st, ok := s.enis[p["NetworkInterfaceId"]]; ok && st.Account == c.Account {
			for k, v := range st.Tags {
				eniCtx["acs:resourcetag/"+strings.ToLower(k)] = []string{v}
			}
		}
		rs = []resource{{prefix + "eni/" + p["NetworkInterfaceId"], eniCtx}, {prefix + "instance/" + p["InstanceId"], nil}}
	default:
		rs = []resource{{"*", nil}}
	}
	for _, r := range rs {
		if !c.Allowed("ecs:"+action, r.arn, r.ctx) {
			return newErr(http.StatusForbidden, "Forbidden.RAM",
				"User not authorized to operate on the specified resource, or this API doesn't support RAM.")
		}
	}
	return nil
}
