package testenv

import (
	"net/url"
	"testing"

	"github.com/eni-detach/eni-detach/internal/ecsapi"
	ecsemu "github.com/eni-detach/eni-detach/internal/emulator/ecs"
	"github.com/eni-detach/eni-detach/internal/emulator/identity"
	stsemu "github.com/eni-detach/eni-detach/internal/emulator/sts"
	"github.com/eni-detach/eni-detach/internal/stsapi"
)

// MemberAccount is the second account of cross-account tests, the one
// (*ecsemu.Server).SeedMember seeds.
const MemberAccount = ecsemu.MemberAccount

// MemberRoleName is the role the function assumes in member accounts.
const MemberRoleName = "eni-detach"

// STS is a running STS emulator that shares an ECS emulator's accounts
// (what it issues, ECS accepts), and the production client pointed at it.
type STS struct {
	Srv    *stsemu.Server
	URL    *url.URL
	Client *stsapi.Client
}

// StartSTS starts an STS emulator on e's identity registry and closes it
// at cleanup.
func StartSTS(t testing.TB, e *ECS, opts ...stsemu.Option) *STS {
	t.Helper()
	srv, err := stsemu.Start(e.Srv.Identity(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	u := serving(t, srv)
	return &STS{Srv: srv, URL: u, Client: stsapi.New(stsapi.Options{Endpoint: u})}
}

// AddMemberRole registers MemberRoleName in account: trusted by the
// function's role of the default account (the role of the credentials
// NewCreds registers), requiring externalID when it is not empty, allowed
// exactly the ECS actions the engine calls. It returns the role's ARN.
func AddMemberRole(t testing.TB, reg *identity.Registry, account, externalID string) string {
	t.Helper()
	role, err := identity.TrustingRole(account, MemberRoleName, identity.RoleARN(reg.DefaultAccount(), identity.DefaultRoleName),
		externalID, ecsapi.RAMActions)
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.AddRole(role); err != nil {
		t.Fatal(err)
	}
	return role.ARN()
}
