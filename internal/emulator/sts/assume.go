package sts

import (
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/eni-detach/eni-detach/internal/emulator/identity"
	"github.com/eni-detach/eni-detach/internal/emulator/rpc"
)

// Parameter rules of AssumeRole, as its API reference states them.
const (
	MinDuration     = 900 * time.Second
	DefaultDuration = time.Hour
	MaxPolicySize   = 2048
)

var (
	roleARNPattern     = regexp.MustCompile(`^acs:ram::([0-9]{16}):role/([A-Za-z0-9.@_-]{1,64})$`)
	sessionNamePattern = regexp.MustCompile(`^[A-Za-z0-9.@_-]{2,64}$`)
	externalIDChars    = regexp.MustCompile(`^[A-Za-z0-9=,.@:/_-]+$`)
)

// Messages as STS words them (its documented common errors), since people
// search for them.
const (
	msgRootCaller = "Roles may not be assumed by root accounts."
	msgNotAllowed = "You are not authorized to do this action. You should be authorized by RAM."
	msgNotTrusted = "No permission perform sts:AssumeRole on this Role. Maybe this role is not trusted by you, or you have no permission to assume it."
)

type assumedRoleUser struct {
	Arn           string
	AssumedRoleId string
}

type credentialsJSON struct {
	AccessKeyId     string
	AccessKeySecret string
	SecurityToken   string
	Expiration      string
}

// assumeRoleResponse mirrors the SDK's sts.AssumeRoleResponse.
type assumeRoleResponse struct {
	RequestId       string
	AssumedRoleUser assumedRoleUser
	Credentials     credentialsJSON
}

func invalid(param, msg string) *rpc.Error {
	return rpc.Errorf(http.StatusBadRequest, "InvalidParameter."+param, "%s", msg)
}

// assumeRole checks the request from its syntax to the policies, in the
// order STS reports problems, then issues the credentials.
func (s *Server) assumeRole(caller identity.Caller, p map[string]string, now time.Time) (*assumeRoleResponse, *rpc.Error) {
	for _, name := range []string{"RoleArn", "RoleSessionName"} {
		if p[name] == "" {
			return nil, rpc.ErrMissing(name)
		}
	}
	roleARN, session := p["RoleArn"], p["RoleSessionName"]
	if !roleARNPattern.MatchString(roleARN) {
		return nil, invalid("RoleArn", "The parameter RoleArn is wrongly formed.")
	}
	if !sessionNamePattern.MatchString(session) {
		return nil, invalid("RoleSessionName", "The parameter RoleSessionName is wrongly formed.")
	}
	duration := DefaultDuration
	if raw, ok := p["DurationSeconds"]; ok && raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil {
			return nil, invalid("DurationSeconds", "The parameter DurationSeconds is not an integer.")
		}
		duration = time.Duration(n) * time.Second
	}
	ctx := identity.Context{}
	if ext, ok := p["ExternalId"]; ok {
		if len(ext) < 2 || len(ext) > 1224 || !externalIDChars.MatchString(ext) {
			return nil, invalid("ExternalId", "The parameter ExternalId is wrongly formed.")
		}
		ctx["sts:externalid"] = []string{ext}
	}
	var sessionPolicy *identity.Policy
	if doc, ok := p["Policy"]; ok && doc != "" {
		if len(doc) > MaxPolicySize {
			return nil, invalid("PolicySize", "The parameter Policy size exceeds the limit of "+strconv.Itoa(MaxPolicySize)+" characters.")
		}
		pol, err := identity.ParsePolicy([]byte(doc))
		if err != nil {
			return nil, invalid("PolicyGrammar", "The parameter Policy has not passed grammar check.")
		}
		sessionPolicy = pol
	}

	if caller.Kind == identity.KindRoot {
		return nil, rpc.Errorf(http.StatusForbidden, "NoPermission", msgRootCaller)
	}
	role, ok := s.ids.Role(roleARN)
	if !ok {
		return nil, rpc.Errorf(http.StatusNotFound, "EntityNotExist.Role", "The role not exists: %s.", roleARN)
	}
	if duration < MinDuration || duration > role.MaxSessionDuration {
		return nil, invalid("DurationSeconds", "The Min/Max value of DurationSeconds is 15min/"+role.MaxSessionDuration.String()+".")
	}
	if !caller.Allowed("sts:AssumeRole", role.ARN(), ctx) {
		return nil, rpc.Errorf(http.StatusForbidden, "NoPermission", msgNotAllowed)
	}
	if !role.Trust.Trusts(caller.Principal, ctx) {
		return nil, rpc.Errorf(http.StatusForbidden, "NoPermission", msgNotTrusted)
	}

	expiry := now.Add(duration)
	c, _ := s.ids.Issue(role, session, sessionPolicy, expiry)
	return &assumeRoleResponse{
		AssumedRoleUser: assumedRoleUser{
			Arn:           role.ARN() + "/" + session,
			AssumedRoleId: role.ID + ":" + session,
		},
		Credentials: credentialsJSON{
			AccessKeyId:     c.AccessKeyID,
			AccessKeySecret: c.AccessKeySecret,
			SecurityToken:   c.SecurityToken,
			Expiration:      expiry.UTC().Format("2006-01-02T15:04:05Z"),
		},
	}, nil
}
