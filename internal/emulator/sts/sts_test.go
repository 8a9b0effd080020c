package sts_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	sdkecs "github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
	sdksts "github.com/aliyun/alibaba-cloud-sdk-go/services/sts"

	"github.com/eni-detach/eni-detach/internal/creds"
	ecsemu "github.com/eni-detach/eni-detach/internal/emulator/ecs"
	"github.com/eni-detach/eni-detach/internal/emulator/identity"
	"github.com/eni-detach/eni-detach/internal/emulator/rpc"
	stsemu "github.com/eni-detach/eni-detach/internal/emulator/sts"
	"github.com/eni-detach/eni-detach/internal/testenv/fakeclock"
)

func init() {
	// The SDK fills these package-global maps lazily and without a lock.
	sdkecs.GetEndpointMap()
	sdksts.GetEndpointMap()
}

const (
	central = identity.DefaultAccount
	member  = "2234567890123456"
	region  = "cn-hangzhou"
)

var (
	memberRole = identity.RoleARN(member, "eni-detach")
	// fcCreds are the central function's: a session of its role.
	fcCreds  = creds.Credentials{AccessKeyID: "STS.central0001", AccessKeySecret: "central-secret", SecurityToken: "central-token"}
	rootKey  = creds.Credentials{AccessKeyID: "LTAIroot0001", AccessKeySecret: "root-secret"}
	userKey  = creds.Credentials{AccessKeyID: "LTAIuser0001", AccessKeySecret: "user-secret"}
	noPerm   = creds.Credentials{AccessKeyID: "LTAInoperm01", AccessKeySecret: "noperm-secret"}
	ecsOnly  = `{"Version":"1","Statement":[{"Effect":"Allow","Action":["ecs:DescribeNetworkInterfaces"],"Resource":"*"}]}`
	trustDoc = `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::` + central + `:role/eni-detach"]}}]}`
)

// world is a central and a member account: the member's role trusts the
// central function's role; the member owns an instance with an ENI.
type world struct {
	reg *identity.Registry
	sts *stsemu.Server
	ecs *ecsemu.Server
}

func newWorld(t *testing.T, opts ...stsemu.Option) *world {
	t.Helper()
	reg := identity.New()
	trust, err := identity.ParseTrustPolicy([]byte(trustDoc))
	if err != nil {
		t.Fatal(err)
	}
	must(t, reg.AddRole(identity.Role{Account: member, Name: "eni-detach", Trust: trust,
		Policy: identity.MustParsePolicy(`{"Version":"1","Statement":[{"Effect":"Allow","Action":["ecs:DescribeNetworkInterfaces","ecs:DetachNetworkInterface"],"Resource":"*"}]}`)}))
	reg.AddCredentials(fcCreds, time.Time{})
	must(t, reg.AddKey(identity.Key{Credentials: rootKey, Principal: identity.Principal{Kind: identity.KindRoot}}))
	must(t, reg.AddKey(identity.Key{Credentials: userKey, Principal: identity.Principal{Kind: identity.KindUser, Name: "ops"}}))
	must(t, reg.AddKey(identity.Key{Credentials: noPerm, Principal: identity.Principal{Kind: identity.KindUser, Name: "reader"},
		Policies: []*identity.Policy{identity.MustParsePolicy(ecsOnly)}}))
	s, err := stsemu.Start(reg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	e, err := ecsemu.Start(ecsemu.WithIdentity(reg), ecsemu.WithDetachDelay(-1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	must(t, e.AddInstance(ecsemu.Instance{ID: "i-member1", Account: member}))
	must(t, e.AddENI(ecsemu.ENI{ID: "eni-member1", Account: member, InstanceID: "i-member1"}))
	must(t, e.AddInstance(ecsemu.Instance{ID: "i-central1"}))
	must(t, e.AddENI(ecsemu.ENI{ID: "eni-central1", InstanceID: "i-central1"}))
	return &world{reg: reg, sts: s, ecs: e}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func stsClient(t *testing.T, addr string, c creds.Credentials) *sdksts.Client {
	t.Helper()
	var (
		cl  *sdksts.Client
		err error
	)
	if c.SecurityToken != "" {
		cl, err = sdksts.NewClientWithStsToken(region, c.AccessKeyID, c.AccessKeySecret, c.SecurityToken)
	} else {
		cl, err = sdksts.NewClientWithAccessKey(region, c.AccessKeyID, c.AccessKeySecret)
	}
	if err != nil {
		t.Fatal(err)
	}
	aim(&cl.Client, addr)
	return cl
}

func ecsClient(t *testing.T, addr string, c creds.Credentials) *sdkecs.Client {
	t.Helper()
	cl, err := sdkecs.NewClientWithStsToken(region, c.AccessKeyID, c.AccessKeySecret, c.SecurityToken)
	if err != nil {
		t.Fatal(err)
	}
	aim(&cl.Client, addr)
	return cl
}

// aim points an SDK client at an emulator over HTTP, with a transport of
// its own (the SDK mutates the transport it is given).
func aim(cl *sdk.Client, addr string) {
	cl.Domain = addr
	cl.GetConfig().Scheme = "HTTP"
	cl.SetTransport(&http.Transport{})
	cl.SetReadTimeout(5 * time.Second)
}

func assumeReq(edit func(r *sdksts.AssumeRoleRequest)) *sdksts.AssumeRoleRequest {
	r := sdksts.CreateAssumeRoleRequest()
	r.Scheme = "HTTP"
	r.RoleArn = memberRole
	r.RoleSessionName = "eni-detach-req1"
	r.DurationSeconds = "900"
	if edit != nil {
		edit(r)
	}
	return r
}

func wantServerError(t *testing.T, err error, code string, status int) *sdkerrors.ServerError {
	t.Helper()
	var se *sdkerrors.ServerError
	if !errors.As(err, &se) {
		t.Fatalf("want ServerError %s, got %T %v", code, err, err)
	}
	if se.ErrorCode() != code || se.HttpStatus() != status || se.RequestId() == "" {
		t.Fatalf("want %d %s, got %d %s (%s) RequestId %q", status, code, se.HttpStatus(), se.ErrorCode(), se.Message(), se.RequestId())
	}
	return se
}

func describe(cl *sdkecs.Client, ids ...string) (*sdkecs.DescribeNetworkInterfacesResponse, error) {
	r := sdkecs.CreateDescribeNetworkInterfacesRequest()
	r.Scheme = "HTTP"
	r.RegionId = region
	if len(ids) > 0 {
		r.NetworkInterfaceId = &ids
	}
	return cl.DescribeNetworkInterfaces(r)
}

func detachCall(cl *sdkecs.Client, eni, inst string) error {
	r := sdkecs.CreateDetachNetworkInterfaceRequest()
	r.Scheme = "HTTP"
	r.RegionId = region
	r.NetworkInterfaceId = eni
	r.InstanceId = inst
	_, err := cl.DetachNetworkInterface(r)
	return err
}

// TestAssumedCredentialsActInTheMemberAccountOnly: the issued credentials
// see the member's ENI and not the central one; the central credentials
// see the reverse; the session policy is enforced by ECS.
func TestAssumedCredentialsActInTheMemberAccountOnly(t *testing.T) {
	w := newWorld(t)
	start := time.Now()
	resp, err := stsClient(t, w.sts.Addr(), fcCreds).AssumeRole(assumeReq(func(r *sdksts.AssumeRoleRequest) { r.Policy = ecsOnly }))
	if err != nil {
		t.Fatal(err)
	}
	c := resp.Credentials
	exp, err := time.Parse(time.RFC3339, c.Expiration)
	if err != nil || exp.Before(start.Add(899*time.Second)) || exp.After(time.Now().Add(901*time.Second)) {
		t.Fatalf("Expiration %q: %v", c.Expiration, err)
	}
	if !strings.HasPrefix(c.AccessKeyId, "STS.") || c.AccessKeySecret == "" || c.SecurityToken == "" || resp.RequestId == "" ||
		resp.AssumedRoleUser.Arn != memberRole+"/eni-detach-req1" || !strings.HasSuffix(resp.AssumedRoleUser.AssumedRoleId, ":eni-detach-req1") {
		t.Fatalf("response %+v", resp)
	}
	assumed := creds.Credentials{AccessKeyID: c.AccessKeyId, AccessKeySecret: c.AccessKeySecret, SecurityToken: c.SecurityToken}

	got, err := describe(ecsClient(t, w.ecs.Addr(), assumed))
	if err != nil {
		t.Fatal(err)
	}
	if got.TotalCount != 1 || got.NetworkInterfaceSets.NetworkInterfaceSet[0].NetworkInterfaceId != "eni-member1" {
		t.Fatalf("the member's credentials see %+v", got.NetworkInterfaceSets)
	}
	// The session policy allows describing only.
	err = detachCall(ecsClient(t, w.ecs.Addr(), assumed), "eni-member1", "i-member1")
	wantServerError(t, err, "Forbidden.RAM", 403)

	// The central function's own credentials: the member's ENI does not
	// exist for them, exactly as ECS answers another account.
	centralECS := ecsClient(t, w.ecs.Addr(), fcCreds)
	got, err = describe(centralECS, "eni-member1", "eni-central1")
	if err != nil {
		t.Fatal(err)
	}
	if got.TotalCount != 1 || got.NetworkInterfaceSets.NetworkInterfaceSet[0].NetworkInterfaceId != "eni-central1" {
		t.Fatalf("the central credentials see %+v", got.NetworkInterfaceSets)
	}
	wantServerError(t, detachCall(centralECS, "eni-member1", "i-member1"), "InvalidEniId.NotFound", 404)
	if e, _ := w.ecs.GetENI("eni-member1"); e.Status != ecsemu.ENIInUse || e.DetachCalls != 0 {
		t.Fatalf("the member's ENI was touched: %+v", e)
	}

	calls := w.sts.Calls()
	if len(calls) != 1 || calls[0].Issued != c.AccessKeyId || calls[0].Caller != "acs:ram::"+central+":assumed-role/eni-detach/fc-invocation" ||
		calls[0].Params["Policy"] != ecsOnly || calls[0].HTTPStatus != 200 {
		t.Fatalf("STS call log %+v", calls)
	}
	ecsCalls := w.ecs.Calls()
	if ecsCalls[0].Account != member || ecsCalls[2].Account != central {
		t.Fatalf("ECS resolved accounts %q, %q", ecsCalls[0].Account, ecsCalls[2].Account)
	}
}

// TestWithoutSessionPolicyTheRolePolicyApplies: a detach allowed by the
// role works with credentials assumed without a session policy.
func TestWithoutSessionPolicyTheRolePolicyApplies(t *testing.T) {
	w := newWorld(t)
	resp, err := stsClient(t, w.sts.Addr(), fcCreds).AssumeRole(assumeReq(nil))
	if err != nil {
		t.Fatal(err)
	}
	c := resp.Credentials
	assumed := creds.Credentials{AccessKeyID: c.AccessKeyId, AccessKeySecret: c.AccessKeySecret, SecurityToken: c.SecurityToken}
	if err := detachCall(ecsClient(t, w.ecs.Addr(), assumed), "eni-member1", "i-member1"); err != nil {
		t.Fatal(err)
	}
	if e, _ := w.ecs.GetENI("eni-member1"); e.Status != ecsemu.ENIAvailable || e.DetachCalls != 1 {
		t.Fatalf("ENI %+v", e)
	}
}

func TestAssumeRoleRefusals(t *testing.T) {
	long := strings.Repeat("a", 65)
	cases := []struct {
		name       string
		caller     creds.Credentials
		setup      func(t *testing.T, w *world)
		edit       func(r *sdksts.AssumeRoleRequest)
		wantCode   string
		wantStatus int
		wantMsg    string // tells apart refusals with the same code
	}{
		{name: "malformed role ARN", edit: func(r *sdksts.AssumeRoleRequest) { r.RoleArn = "acs:ram::22345:role/x" },
			wantCode: "InvalidParameter.RoleArn", wantStatus: 400},
		{name: "no role ARN", edit: func(r *sdksts.AssumeRoleRequest) { r.RoleArn = "" },
			wantCode: "MissingParameter", wantStatus: 400},
		{name: "session name of one character", edit: func(r *sdksts.AssumeRoleRequest) { r.RoleSessionName = "a" },
			wantCode: "InvalidParameter.RoleSessionName", wantStatus: 400},
		{name: "session name of 65 characters", edit: func(r *sdksts.AssumeRoleRequest) { r.RoleSessionName = long },
			wantCode: "InvalidParameter.RoleSessionName", wantStatus: 400},
		{name: "session name with a star", edit: func(r *sdksts.AssumeRoleRequest) { r.RoleSessionName = "eni*detach" },
			wantCode: "InvalidParameter.RoleSessionName", wantStatus: 400},
		{name: "duration under 900 s", edit: func(r *sdksts.AssumeRoleRequest) { r.DurationSeconds = "899" },
			wantCode: "InvalidParameter.DurationSeconds", wantStatus: 400},
		{name: "duration over the role's maximum", edit: func(r *sdksts.AssumeRoleRequest) { r.DurationSeconds = "3601" },
			wantCode: "InvalidParameter.DurationSeconds", wantStatus: 400},
		{name: "external id of one character", edit: func(r *sdksts.AssumeRoleRequest) { r.ExternalId = "x" },
			wantCode: "InvalidParameter.ExternalId", wantStatus: 400},
		{name: "session policy not JSON", edit: func(r *sdksts.AssumeRoleRequest) { r.Policy = "{" },
			wantCode: "InvalidParameter.PolicyGrammar", wantStatus: 400},
		{name: "session policy without Resource", edit: func(r *sdksts.AssumeRoleRequest) {
			r.Policy = `{"Version":"1","Statement":[{"Effect":"Allow","Action":"ecs:*"}]}`
		}, wantCode: "InvalidParameter.PolicyGrammar", wantStatus: 400},
		{name: "session policy over 2048 characters", edit: func(r *sdksts.AssumeRoleRequest) {
			r.Policy = `{"Version":"1","Statement":[{"Effect":"Allow","Action":"ecs:DescribeNetworkInterfaces","Resource":"acs:ecs:*:*:eni/` + strings.Repeat("x", 2000) + `"}]}`
		}, wantCode: "InvalidParameter.PolicySize", wantStatus: 400},
		{name: "root account caller", caller: rootKey, wantCode: "NoPermission", wantStatus: 403, wantMsg: "root accounts"},
		{name: "no such role", edit: func(r *sdksts.AssumeRoleRequest) { r.RoleArn = identity.RoleARN(member, "nobody") },
			wantCode: "EntityNotExist.Role", wantStatus: 404},
		// Trusted, so only the caller's own permission is missing.
		{name: "caller not allowed sts:AssumeRole", caller: noPerm, setup: withTrust(trustCentralAccount),
			wantCode: "NoPermission", wantStatus: 403, wantMsg: "authorized by RAM"},
		{name: "trust names another role", caller: userKey, wantCode: "NoPermission", wantStatus: 403, wantMsg: "not trusted"},
		{name: "external id required, none sent", setup: withTrust(trustWithExternalID), wantCode: "NoPermission", wantStatus: 403, wantMsg: "not trusted"},
		{name: "external id required, wrong one sent", setup: withTrust(trustWithExternalID),
			edit: func(r *sdksts.AssumeRoleRequest) { r.ExternalId = "wrong-ext" }, wantCode: "NoPermission", wantStatus: 403, wantMsg: "not trusted"},
		{name: "wrong secret", caller: creds.Credentials{AccessKeyID: fcCreds.AccessKeyID, AccessKeySecret: "wrong", SecurityToken: fcCreds.SecurityToken},
			wantCode: "SignatureDoesNotMatch", wantStatus: 400},
		{name: "expired caller token", setup: func(_ *testing.T, w *world) { w.reg.Expire(fcCreds.AccessKeyID) },
			wantCode: "InvalidSecurityToken.Expired", wantStatus: 403},
		{name: "unknown key", caller: creds.Credentials{AccessKeyID: "LTAInobody", AccessKeySecret: "x"},
			wantCode: "InvalidAccessKeyId.NotFound", wantStatus: 404},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			if tc.setup != nil {
				tc.setup(t, w)
			}
			caller := tc.caller
			if caller.AccessKeyID == "" {
				caller = fcCreds
			}
			_, err := stsClient(t, w.sts.Addr(), caller).AssumeRole(assumeReq(tc.edit))
			se := wantServerError(t, err, tc.wantCode, tc.wantStatus)
			if !strings.Contains(se.Message(), tc.wantMsg) {
				t.Fatalf("message %q, want it to mention %q", se.Message(), tc.wantMsg)
			}
			calls := w.sts.Calls()
			if len(calls) != 1 || calls[0].Code != tc.wantCode || calls[0].Issued != "" {
				t.Fatalf("call log %+v", calls)
			}
		})
	}
}

// Trust policies for the member's role: every identity of the central
// account; the central function's role with ExternalId org-ext-1 only.
const (
	trustCentralAccount = `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":"acs:ram::` + central + `:root"}}]}`
	trustWithExternalID = `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole",
		"Principal":{"RAM":"acs:ram::` + central + `:role/eni-detach"},"Condition":{"StringEquals":{"sts:ExternalId":"org-ext-1"}}}]}`
)

// withTrust is a setup that replaces the member's role with one of trust
// policy doc and no permissions.
func withTrust(doc string) func(*testing.T, *world) {
	return func(t *testing.T, w *world) {
		t.Helper()
		trust, err := identity.ParseTrustPolicy([]byte(doc))
		must(t, err)
		must(t, w.reg.AddRole(identity.Role{Account: member, Name: "eni-detach", Trust: trust}))
	}
}

func TestExternalIDAndLongerSessions(t *testing.T) {
	w := newWorld(t)
	withTrust(trustWithExternalID)(t, w)
	role, _ := w.reg.Role(memberRole)
	role.MaxSessionDuration = 2 * time.Hour
	must(t, w.reg.AddRole(role))
	resp, err := stsClient(t, w.sts.Addr(), fcCreds).AssumeRole(assumeReq(func(r *sdksts.AssumeRoleRequest) {
		r.ExternalId = "org-ext-1"
		r.DurationSeconds = "7200"
	}))
	if err != nil {
		t.Fatal(err)
	}
	if exp, _ := time.Parse(time.RFC3339, resp.Credentials.Expiration); exp.Before(time.Now().Add(7190 * time.Second)) {
		t.Fatalf("Expiration %s", resp.Credentials.Expiration)
	}
}

// TestIssuedCredentialsExpireOnTheSharedClock: give both emulators one
// clock and an issued token runs out for ECS when its 900 s are over.
func TestIssuedCredentialsExpireOnTheSharedClock(t *testing.T) {
	clock := fakeclock.New()
	reg := identity.New()
	trust, _ := identity.ParseTrustPolicy([]byte(trustDoc))
	must(t, reg.AddRole(identity.Role{Account: member, Name: "eni-detach", Trust: trust,
		Policy: identity.MustParsePolicy(ecsOnly)}))
	reg.AddCredentials(fcCreds, time.Time{})
	s, err := stsemu.Start(reg, stsemu.WithClock(clock.Now))
	must(t, err)
	defer s.Close()
	e, err := ecsemu.Start(ecsemu.WithIdentity(reg), ecsemu.WithClock(clock.Now))
	must(t, err)
	defer e.Close()
	resp, err := stsClient(t, s.Addr(), fcCreds).AssumeRole(assumeReq(nil))
	must(t, err)
	c := resp.Credentials
	cl := ecsClient(t, e.Addr(), creds.Credentials{AccessKeyID: c.AccessKeyId, AccessKeySecret: c.AccessKeySecret, SecurityToken: c.SecurityToken})
	if _, err := describe(cl); err != nil {
		t.Fatal(err)
	}
	clock.Advance(900 * time.Second)
	_, err = describe(cl)
	wantServerError(t, err, "InvalidSecurityToken.Expired", 403)
}

func TestInjectedFaults(t *testing.T) {
	w := newWorld(t)
	w.sts.Throttle("AssumeRole", 1)
	w.sts.InjectError(rpc.AnyAction, "InternalError", 500, 1)
	w.sts.InjectError("AssumeRole", "Throttling.Api", 400, 1)
	cl := stsClient(t, w.sts.Addr(), fcCreds)
	assume := func() error { _, err := cl.AssumeRole(assumeReq(nil)); return err }
	wantServerError(t, assume(), "Throttling.User", 400)
	wantServerError(t, assume(), "InternalError", 500)
	se := wantServerError(t, assume(), "Throttling.Api", 400)
	if se.Message() != "Request was denied due to api flow control." {
		t.Fatalf("message %q", se.Message())
	}
	if err := assume(); err != nil {
		t.Fatal("faults should be used up:", err)
	}

	w.sts.InjectHang("AssumeRole", 1)
	cl.SetReadTimeout(200 * time.Millisecond)
	started := time.Now()
	err := assume()
	var answered *sdkerrors.ServerError
	if err == nil || errors.As(err, &answered) || time.Since(started) > 3*time.Second {
		t.Fatalf("hang: %T %v after %s", err, err, time.Since(started))
	}
	var kinds []string
	for _, c := range w.sts.Calls() {
		kinds = append(kinds, c.Fault)
	}
	if strings.Join(kinds, ",") != "throttle,error,error,,hang" {
		t.Fatalf("faults logged %v", kinds)
	}
	if w.sts.Calls()[4].HTTPStatus != 0 || w.sts.Calls()[3].Issued == "" {
		t.Fatalf("calls %+v", w.sts.Calls())
	}
}

func TestProtocol(t *testing.T) {
	w := newWorld(t)
	for _, tc := range []struct {
		name, query string
		wantStatus  int
		wantCode    string
	}{
		{"wrong version", "Action=AssumeRole&Version=2014-05-26", 400, "InvalidVersion"},
		{"unknown action", "Action=GetFederationToken&Version=2015-04-01", 404, "InvalidAction.NotFound"},
		{"unsigned", "Action=AssumeRole&Version=2015-04-01", 400, "MissingParameter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Post(w.sts.URL()+"/?"+tc.query, "application/x-www-form-urlencoded", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.wantStatus || resp.Header.Get("x-acs-request-id") == "" {
				t.Fatalf("status %d", resp.StatusCode)
			}
		})
	}
}
