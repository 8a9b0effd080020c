package identity

import (
	"strings"
	"testing"
	"time"

	"github.com/eni-detach/eni-detach/internal/creds"
	"github.com/eni-detach/eni-detach/internal/emulator/rpc"
)

const member = "2234567890123456"

// signed returns the parameters of a request signed with c.
func signed(c creds.Credentials, nonce string) map[string]string {
	p := map[string]string{
		"AccessKeyId": c.AccessKeyID, "Action": "DescribeNetworkInterfaces", "Format": "JSON",
		"SignatureMethod": "HMAC-SHA1", "SignatureNonce": nonce, "SignatureVersion": "1.0",
		"Timestamp": time.Now().UTC().Format("2006-01-02T15:04:05Z"), "Version": "2014-05-26",
	}
	if c.SecurityToken != "" {
		p["SecurityToken"] = c.SecurityToken
	}
	p["Signature"] = rpc.Sign(rpc.StringToSign("POST", p), c.AccessKeySecret)
	return p
}

func TestIssuedSessionsCarryTheirRolesAndSessionPolicies(t *testing.T) {
	reg := New()
	trust := mustTrust(t, `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":"acs:ram::`+DefaultAccount+`:root"}}]}`)
	role := Role{Account: member, Name: "eni-detach", Trust: trust,
		Policy: MustParsePolicy(`{"Version":"1","Statement":[{"Effect":"Allow","Action":"ecs:*NetworkInterface*","Resource":"*"}]}`)}
	if err := reg.AddRole(role); err != nil {
		t.Fatal(err)
	}
	got, ok := reg.Role("ACS:RAM::" + member + ":ROLE/ENI-DETACH") // RAM role names fold case
	if !ok || got.MaxSessionDuration != DefaultMaxSessionDuration || !strings.HasPrefix(got.ID, "3") || len(got.ID) != 18 {
		t.Fatalf("role %+v %v", got, ok)
	}
	session := MustParsePolicy(`{"Version":"1","Statement":[{"Effect":"Allow","Action":"ecs:DescribeNetworkInterfaces","Resource":"*"}]}`)
	c, p := reg.Issue(got, "eni-detach-r1", session, time.Now().Add(time.Hour))
	if p.ARN() != "acs:ram::"+member+":assumed-role/eni-detach/eni-detach-r1" || p.RoleARN() != role.ARN() ||
		!strings.HasPrefix(c.AccessKeyID, "STS.") || !strings.HasPrefix(c.SecurityToken, "CAIS") {
		t.Fatalf("issued %v as %+v", c, p)
	}
	v := reg.NewVerifier()
	caller, err := v.Authenticate("POST", signed(c, "n1"), time.Now(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if caller.Account != member || caller.AccessKeyID != c.AccessKeyID {
		t.Fatalf("caller %+v", caller)
	}
	for _, tc := range []struct {
		action string
		want   bool
	}{
		{"ecs:DescribeNetworkInterfaces", true}, // role and session allow it
		{"ecs:DetachNetworkInterface", false},   // the role allows it, the session policy does not
		{"ecs:DescribeInstances", false},        // neither
	} {
		if caller.Allowed(tc.action, "*", nil) != tc.want {
			t.Errorf("%s allowed = %v, want %v", tc.action, !tc.want, tc.want)
		}
	}
	// The role's policy applies live: once the role is gone the session
	// can do nothing.
	reg.RemoveRole(role.ARN())
	caller, err = v.Authenticate("POST", signed(c, "n2"), time.Now(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if caller.Allowed("ecs:DescribeNetworkInterfaces", "*", nil) {
		t.Fatal("a session of a deleted role still allowed")
	}
	// Issued credentials expire at their expiry on the verifier's clock.
	if _, err := v.Authenticate("POST", signed(c, "n3"), time.Now().Add(2*time.Hour), time.Now()); err == nil || err.Code != "InvalidSecurityToken.Expired" {
		t.Fatalf("after expiry: %v", err)
	}
}

func TestRegistryValidation(t *testing.T) {
	reg := New()
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"account not 16 digits", reg.AddKey(Key{Credentials: creds.Credentials{AccessKeyID: "a", AccessKeySecret: "s"}, Principal: Principal{Account: "123"}})},
		{"key without secret", reg.AddKey(Key{Credentials: creds.Credentials{AccessKeyID: "a"}})},
		{"role without trust", reg.AddRole(Role{Account: member, Name: "r"})},
		{"role account", reg.AddRole(Role{Account: "x", Name: "r", Trust: &Policy{}})},
	} {
		if tc.err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	reg.AddCredentials(creds.Credentials{AccessKeyID: "STS.x", AccessKeySecret: "s", SecurityToken: "t"}, time.Time{})
	reg.AddCredentials(creds.Credentials{AccessKeyID: "LTAIx", AccessKeySecret: "s"}, time.Time{})
	if p := reg.DefaultPrincipal(creds.Credentials{AccessKeyID: "STS.x"}); p.Kind != KindRoleSession || p.RoleARN() != RoleARN(DefaultAccount, DefaultRoleName) {
		t.Fatalf("STS default principal %+v", p)
	}
	if p := reg.DefaultPrincipal(creds.Credentials{AccessKeyID: "LTAIx"}); p.Kind != KindUser || p.ARN() != "acs:ram::"+DefaultAccount+":user/test" {
		t.Fatalf("long-term default principal %+v", p)
	}
	if !reg.Expire("STS.x") || reg.Expire("nobody") {
		t.Fatal("Expire")
	}
}
