package identity

import (
	"strings"
	"testing"
)

func TestParsePolicyErrors(t *testing.T) {
	for _, tc := range []struct {
		name, doc, wantErr string
		trust              bool
	}{
		{name: "not JSON", doc: `{`, wantErr: "unexpected EOF"},
		{name: "version", doc: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, wantErr: "Version"},
		{name: "no statement", doc: `{"Version":"1","Statement":[]}`, wantErr: "no Statement"},
		{name: "misspelt field", doc: `{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condtion":{}}]}`, wantErr: "unknown field"},
		{name: "effect", doc: `{"Version":"1","Statement":[{"Effect":"allow","Action":"*","Resource":"*"}]}`, wantErr: "effect"},
		{name: "no action", doc: `{"Version":"1","Statement":[{"Effect":"Allow","Resource":"*"}]}`, wantErr: "Action"},
		{name: "no resource", doc: `{"Version":"1","Statement":[{"Effect":"Allow","Action":"*"}]}`, wantErr: "Resource"},
		{name: "action of wrong type", doc: `{"Version":"1","Statement":[{"Effect":"Allow","Action":3,"Resource":"*"}]}`, wantErr: "string"},
		{name: "principal in a permission policy", doc: `{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Principal":{"RAM":["acs:ram::1234567890123456:root"]}}]}`, wantErr: "Principal"},
		{name: "trailing data", doc: `{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]} {}`, wantErr: "trailing"},
		{name: "trust without principal", trust: true, doc: `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}`, wantErr: "Principal"},
		{name: "trust with resource", trust: true, doc: `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*","Principal":{"RAM":"acs:ram::1234567890123456:root"}}]}`, wantErr: "Resource"},
		{name: "unknown principal kind", trust: true, doc: `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"AWS":"x"}}]}`, wantErr: "Principal kind"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parse := ParsePolicy
			if tc.trust {
				parse = ParseTrustPolicy
			}
			_, err := parse([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.wantErr)
			}
		})
	}
}

func TestPolicyAllows(t *testing.T) {
	pol := MustParsePolicy(`{"Version":"1","Statement":[
		{"Effect":"Allow","Action":["ecs:Describe*"],"Resource":"*"},
		{"Effect":"Allow","Action":"ecs:DetachNetworkInterface","Resource":["acs:ecs:*:*:eni/*","acs:ecs:*:*:instance/*"]},
		{"Effect":"Deny","Action":"ecs:DetachNetworkInterface","Resource":"acs:ecs:*:*:eni/eni-protected"},
		{"Effect":"Allow","Action":"ecs:AttachNetworkInterface","Resource":"acs:ecs:*:*:eni/*","Condition":{"StringEquals":{"acs:ResourceTag/team":["sre"]}}},
		{"Effect":"Allow","NotAction":"ecs:*","Resource":"*"}
	]}`)
	for _, tc := range []struct {
		action, resource string
		ctx              Context
		want             bool
	}{
		{"ecs:DescribeNetworkInterfaces", "*", nil, true},
		{"ECS:describenetworkinterfaces", "*", nil, true}, // actions are case-insensitive
		{"ecs:DetachNetworkInterface", "acs:ecs:cn-hangzhou:1234567890123456:eni/eni-1", nil, true},
		{"ecs:DetachNetworkInterface", "acs:ecs:cn-hangzhou:1234567890123456:eni/eni-protected", nil, false}, // Deny wins
		{"ecs:DetachNetworkInterface", "*", nil, false},                                                      // a scoped grant does not cover "*"
		{"ecs:DeleteNetworkInterface", "acs:ecs:cn-hangzhou:1234567890123456:eni/eni-1", nil, false},
		{"ecs:AttachNetworkInterface", "acs:ecs:r:1234567890123456:eni/eni-1", Context{"acs:resourcetag/team": {"sre"}}, true},
		{"ecs:AttachNetworkInterface", "acs:ecs:r:1234567890123456:eni/eni-1", Context{"acs:resourcetag/team": {"dev"}}, false},
		{"ecs:AttachNetworkInterface", "acs:ecs:r:1234567890123456:eni/eni-1", nil, false},
		{"eventbridge:PutEvents", "acs:eventbridge:r:1:eventbus/x", nil, true}, // NotAction ecs:*
	} {
		t.Run(tc.action+" "+tc.resource, func(t *testing.T) {
			if got := pol.Allows(tc.action, tc.resource, tc.ctx); got != tc.want {
				t.Fatalf("Allows = %v, want %v", got, tc.want)
			}
		})
	}
	if (&Policy{}).Allows("ecs:DescribeNetworkInterfaces", "*", nil) {
		t.Fatal("an empty policy allows nothing")
	}
}

func TestPolicyTrusts(t *testing.T) {
	const central, member = "1234567890123456", "2234567890123456"
	account := mustTrust(t, `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::`+central+`:root"]}}]}`)
	role := mustTrust(t, `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":"acs:ram::`+central+`:role/Eni-Detach"},
		"Condition":{"StringEquals":{"sts:ExternalId":"ext-1"}}}]}`)
	session := Principal{Account: central, Kind: KindRoleSession, Name: "eni-detach", Session: "s"}
	other := Principal{Account: central, Kind: KindRoleSession, Name: "other", Session: "s"}
	user := Principal{Account: central, Kind: KindUser, Name: "alice"}
	foreign := Principal{Account: member, Kind: KindRoleSession, Name: "eni-detach", Session: "s"}
	ext := Context{"sts:externalid": {"ext-1"}}
	for _, tc := range []struct {
		name   string
		policy *Policy
		caller Principal
		ctx    Context
		want   bool
	}{
		{"account root trusts its role sessions", account, session, nil, true},
		{"account root trusts its users", account, user, nil, true},
		{"account root does not trust another account", account, foreign, nil, false},
		{"named role, right external id (role names fold case)", role, session, ext, true},
		{"named role, no external id", role, session, nil, false},
		{"named role, wrong external id", role, session, Context{"sts:externalid": {"ext-2"}}, false},
		{"named role, another role", role, other, ext, false},
		{"named role, a user", role, user, ext, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.policy.Trusts(tc.caller, tc.ctx); got != tc.want {
				t.Fatalf("Trusts = %v, want %v", got, tc.want)
			}
		})
	}
}

func mustTrust(t *testing.T, doc string) *Policy {
	t.Helper()
	p, err := ParseTrustPolicy([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestGlob(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true}, {"*", "anything", true}, {"a*c", "abbbc", true}, {"a*c", "abbb", false},
		{"a?c", "abc", true}, {"a?c", "ac", false}, {"*:eni/*", "acs:ecs:r:1:eni/eni-1", true},
		{"acs:ecs:*:*:eni/*", "*", false}, {"a**b", "ab", true}, {"**0", "*0", true}, {"*a", "*", false}, {"", "", true}, {"", "x", false},
	} {
		if got := glob(tc.pattern, tc.s); got != tc.want {
			t.Errorf("glob(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}
