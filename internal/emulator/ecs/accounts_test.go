package ecs

import (
	"testing"

	sdkecs "github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"

	"github.com/eni-detach/eni-detach/internal/creds"
	"github.com/eni-detach/eni-detach/internal/emulator/identity"
)

const memberAccount = "2234567890123456"

var memberCreds = creds.Credentials{AccessKeyID: "STS.member0000000001", AccessKeySecret: "member-secret", SecurityToken: "member-token"}

// twoAccounts: the default account and a member each own an instance with
// two secondary ENIs; memberCreds belong to the member.
func twoAccounts(t *testing.T) *Server {
	t.Helper()
	s := startServer(t)
	if err := s.Identity().AddKey(identity.Key{Credentials: memberCreds,
		Principal: identity.Principal{Account: memberAccount, Kind: identity.KindRoleSession, Name: "eni-detach", Session: "s"}}); err != nil {
		t.Fatal(err)
	}
	mustAddInstance(t, s, Instance{ID: "i-own"})
	mustAddInstance(t, s, Instance{ID: "i-mem", Account: memberAccount})
	for _, e := range []ENI{
		{ID: "eni-own1", InstanceID: "i-own"}, {ID: "eni-own2", InstanceID: "i-own"},
		{ID: "eni-mem1", InstanceID: "i-mem", Account: memberAccount}, {ID: "eni-mem2", InstanceID: "i-mem", Account: memberAccount},
	} {
		mustAddENI(t, s, e)
	}
	return s
}

// TestEachAccountSeesOnlyItsOwn: every lookup, by id, by instance, paged,
// attribute and detach, answers another account's resources as ECS does:
// they do not exist.
func TestEachAccountSeesOnlyItsOwn(t *testing.T) {
	s := twoAccounts(t)
	own, mem := newClient(t, s.Addr(), stsCreds), newClient(t, s.Addr(), memberCreds)
	for _, tc := range []struct {
		name   string
		client *sdkecs.Client
		edit   func(*sdkecs.DescribeNetworkInterfacesRequest)
		want   []string
	}{
		{"own, all", own, nil, []string{"eni-own1", "eni-own2"}},
		{"member, all", mem, nil, []string{"eni-mem1", "eni-mem2"}},
		{"own, by ids of both", own, func(r *sdkecs.DescribeNetworkInterfacesRequest) {
			r.NetworkInterfaceId = &[]string{"eni-own1", "eni-mem1"}
		}, []string{"eni-own1"}},
		{"member, the other's instance", mem, func(r *sdkecs.DescribeNetworkInterfacesRequest) { r.InstanceId = "i-own" }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := tc.client.DescribeNetworkInterfaces(describeReq(tc.edit))
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(resp.NetworkInterfaceSets.NetworkInterfaceSet); len(got) != len(tc.want) || (len(got) > 0 && (got[0] != tc.want[0] || got[len(got)-1] != tc.want[len(tc.want)-1])) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}

	// Paging walks one account only, and a token does not carry over to
	// another account's walk.
	first, err := mem.DescribeNetworkInterfaces(describeReq(func(r *sdkecs.DescribeNetworkInterfacesRequest) { r.MaxResults = "1" }))
	if err != nil || first.NextToken == "" || ids(first.NetworkInterfaceSets.NetworkInterfaceSet)[0] != "eni-mem1" {
		t.Fatalf("first page %v %v", first, err)
	}
	_, err = own.DescribeNetworkInterfaces(describeReq(func(r *sdkecs.DescribeNetworkInterfacesRequest) {
		r.MaxResults = "1"
		r.NextToken = first.NextToken
	}))
	wantServerError(t, err, "InvalidParameter", 400)

	attr := sdkecs.CreateDescribeNetworkInterfaceAttributeRequest()
	attr.Scheme, attr.RegionId, attr.NetworkInterfaceId = "HTTP", DefaultRegion, "eni-mem1"
	_, err = own.DescribeNetworkInterfaceAttribute(attr)
	wantServerError(t, err, "InvalidEniId.NotFound", 404)

	wantServerError(t, detach(own, "eni-mem1", "i-mem"), "InvalidEniId.NotFound", 404)
	// The member's ENI with an instance id of the other account.
	wantServerError(t, detach(mem, "eni-mem1", "i-own"), "InvalidEcsId.NotFound", 404)
	if e := eniStatus(t, s, "eni-mem1"); e.DetachCalls != 0 || e.Status != ENIInUse {
		t.Fatalf("foreign calls touched the ENI: %+v", e)
	}
	if err := detach(mem, "eni-mem1", "i-mem"); err != nil {
		t.Fatal(err)
	}
	for _, c := range s.Calls() {
		want := identity.DefaultAccount
		if c.AccessKeyID == memberCreds.AccessKeyID {
			want = memberAccount
		}
		if c.Account != want {
			t.Fatalf("call %s by %s resolved to account %q", c.Action, c.AccessKeyID, c.Account)
		}
	}
}

// TestRAMPoliciesAreEnforced: a key's policies decide each call, with the
// resources RAM authorizes ECS's actions on.
func TestRAMPoliciesAreEnforced(t *testing.T) {
	const (
		describeAny = `{"Effect":"Allow","Action":"ecs:DescribeNetworkInterfaces","Resource":"*"}`
		detachOn    = `{"Effect":"Allow","Action":"ecs:DetachNetworkInterface","Resource":["acs:ecs:*:*:eni/*","acs:ecs:*:*:instance/*"]}`
	)
	for _, tc := range []struct {
		name                     string
		statements               string
		wantDescribe, wantDetach string // "" = allowed
	}{
		{"describe and detach", describeAny + "," + detachOn, "", ""},
		{"describe scoped to ENIs is not granted", `{"Effect":"Allow","Action":"ecs:DescribeNetworkInterfaces","Resource":"acs:ecs:*:*:eni/*"},` + detachOn, "Forbidden.RAM", ""},
		{"detach on the ENI only", describeAny + `,{"Effect":"Allow","Action":"ecs:DetachNetworkInterface","Resource":"acs:ecs:*:*:eni/*"}`, "", "Forbidden.RAM"},
		{"detach of tagged ENIs, ENI tagged", describeAny + `,{"Effect":"Allow","Action":"ecs:DetachNetworkInterface","Resource":"acs:ecs:*:*:eni/*","Condition":{"StringEquals":{"acs:ResourceTag/team":["sre"]}}},` +
			`{"Effect":"Allow","Action":"ecs:DetachNetworkInterface","Resource":"acs:ecs:*:*:instance/*"}`, "", ""},
		{"detach of tagged ENIs, tag differs", describeAny + `,{"Effect":"Allow","Action":"ecs:DetachNetworkInterface","Resource":"acs:ecs:*:*:eni/*","Condition":{"StringEquals":{"acs:ResourceTag/team":["dev"]}}},` +
			`{"Effect":"Allow","Action":"ecs:DetachNetworkInterface","Resource":"acs:ecs:*:*:instance/*"}`, "", "Forbidden.RAM"},
		{"explicit deny", describeAny + "," + detachOn + `,{"Effect":"Deny","Action":"ecs:*","Resource":"*"}`, "Forbidden.RAM", "Forbidden.RAM"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t)
			pol := identity.MustParsePolicy(`{"Version":"1","Statement":[` + tc.statements + `]}`)
			c := creds.Credentials{AccessKeyID: "LTAIscoped0000001", AccessKeySecret: "scoped-secret"}
			if err := s.Identity().AddKey(identity.Key{Credentials: c, Policies: []*identity.Policy{pol}}); err != nil {
				t.Fatal(err)
			}
			mustAddInstance(t, s, Instance{ID: "i-p"})
			mustAddENI(t, s, ENI{ID: "eni-p", InstanceID: "i-p", Tags: map[string]string{"team": "sre"}})
			cl := newClient(t, s.Addr(), c)
			_, err := cl.DescribeNetworkInterfaces(describeReq(nil))
			check := func(what string, err error, want string) {
				t.Helper()
				if want == "" {
					if err != nil {
						t.Fatalf("%s: %v", what, err)
					}
					return
				}
				wantServerError(t, err, want, 403)
			}
			check("describe", err, tc.wantDescribe)
			check("detach", detach(cl, "eni-p", "i-p"), tc.wantDetach)
			if tc.wantDetach != "" && eniStatus(t, s, "eni-p").DetachCalls != 0 {
				t.Fatal("a refused detach ran")
			}
		})
	}
}

func TestAccountsAreValidated(t *testing.T) {
	s := New()
	if err := s.AddENI(ENI{ID: "eni-x", Account: "12345"}); err == nil {
		t.Fatal("a 5-digit account was accepted")
	}
	if err := s.AddInstance(Instance{ID: "i-x", Account: "abcdabcdabcdabcd"}); err == nil {
		t.Fatal("a non-numeric account was accepted")
	}
	mustAddENI(t, s, ENI{ID: "eni-y"})
	if e, _ := s.GetENI("eni-y"); e.Account != identity.DefaultAccount {
		t.Fatalf("default account %q", e.Account)
	}
	if err := s.UpdateENI("eni-y", func(e *ENI) { e.Account = memberAccount }); err != nil {
		t.Fatal(err)
	}
	if e, _ := s.GetENI("eni-y"); e.Account != identity.DefaultAccount {
		t.Fatal("UpdateENI moved an ENI to another account")
	}
}
