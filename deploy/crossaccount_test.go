package deploy_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eni-detach/eni-detach/internal/acssdk"
	"github.com/eni-detach/eni-detach/internal/crossaccount"
	"github.com/eni-detach/eni-detach/internal/ecsapi"
	ecsemu "github.com/eni-detach/eni-detach/internal/emulator/ecs"
	"github.com/eni-detach/eni-detach/internal/emulator/identity"
	"github.com/eni-detach/eni-detach/internal/eventpattern"
	"github.com/eni-detach/eni-detach/internal/stsapi"
	"github.com/eni-detach/eni-detach/internal/testenv"
)

// The cross-account documents: the member accounts' role (trust and
// permission policy), the central role's extra statement, and the rules
// that forward a member's ECS events to the central account.
const (
	memberTrustFile   = "member-role-trust-policy.json"
	memberPolicyFile  = "member-role-policy.json"
	centralExtraFile  = "ram-policy-cross-account.json"
	memberRulesFile   = "member-forward-rules.json"
	memberRoleName    = "eni-detach"
	centralPolicyFile = "ram-policy.json"
)

// functionRole is the central function's role, vars.role of s.yaml.
func functionRole(t *testing.T) string {
	t.Helper()
	role, _ := loadSYAML(t).Vars["role"].(string)
	if role == "" {
		t.Fatal("s.yaml has no vars.role")
	}
	return role
}

func TestMemberRolePolicyGrantsExactlyTheECSActions(t *testing.T) {
	want := slices.Clone(ecsapi.RAMActions)
	slices.Sort(want)
	for _, err := range checkPolicyGrants(loadPolicy(t, memberPolicyFile), "", want) {
		t.Error(err)
	}
	// The central policy is not a member policy: it also publishes.
	if len(checkPolicyGrants(loadPolicy(t, centralPolicyFile), "eni-detach", want)) == 0 {
		t.Error("ram-policy.json passes as a member policy, so the check proves nothing")
	}
}

func TestCentralExtraStatementIsOnlyAssumeRole(t *testing.T) {
	for _, err := range checkPolicyGrants(loadPolicy(t, centralExtraFile), "", []string{stsapi.RAMAction}) {
		t.Error(err)
	}
	for _, tc := range []struct{ name, resource, want string }{
		{"any role", "acs:ram::*:role/*", "want acs:ram::{accountId|*}:role/eni-detach"},
		{"every resource", "*", "want acs:ram::{accountId|*}:role/eni-detach"},
		{"another role", "acs:ram::*:role/ResourceDirectoryAccountAccessRole", "want acs:ram::{accountId|*}:role/eni-detach"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := loadPolicy(t, centralExtraFile)
			p.Statement[0].Resource = stringList{tc.resource}
			errs := checkPolicyGrants(p, "", []string{stsapi.RAMAction})
			if len(errs) == 0 || !strings.Contains(fmt.Sprint(errs), tc.want) {
				t.Errorf("errors %v, want one containing %q", errs, tc.want)
			}
		})
	}
}

// checkTrust checks a member role's trust policy lets exactly the
// function's role assume it.
func checkTrust(doc []byte, fnRole string) []error {
	var errs []error
	pol, err := identity.ParseTrustPolicy(doc)
	if err != nil {
		return []error{err}
	}
	var principals []string
	for i, st := range pol.Statements {
		if st.Effect != "Allow" || !slices.Equal(st.Actions, []string{"sts:AssumeRole"}) || len(st.NotActions) > 0 {
			errs = append(errs, fmt.Errorf("Statement[%d]: want Allow sts:AssumeRole only", i))
		}
		for kind, ps := range st.Principals {
			if kind != "RAM" {
				errs = append(errs, fmt.Errorf("Statement[%d]: %s principals: only the function's role may assume the role", i, kind))
			}
			principals = append(principals, ps...)
		}
	}
	if !slices.Equal(principals, []string{fnRole}) {
		errs = append(errs, fmt.Errorf("trusted principals %v, want exactly the function's role %s (an account's :root trusts every RAM identity of it)", principals, fnRole))
	}
	return errs
}

func TestMemberRoleTrustsTheFunctionRoleOnly(t *testing.T) {
	doc, err := os.ReadFile(memberTrustFile)
	if err != nil {
		t.Fatal(err)
	}
	fnRole := functionRole(t)
	for _, err := range checkTrust(doc, fnRole) {
		t.Error(err)
	}
	central := strings.TrimSuffix(strings.TrimPrefix(fnRole, "acs:ram::"), ":role/eni-detach")
	for name, broken := range map[string]string{
		"the whole central account": strings.Replace(string(doc), fnRole, "acs:ram::"+central+":root", 1),
		"a service":                 strings.Replace(string(doc), `"RAM"`, `"Service"`, 1),
		"another role":              strings.Replace(string(doc), fnRole, fnRole+"-admin", 1),
	} {
		if len(checkTrust([]byte(broken), fnRole)) == 0 {
			t.Errorf("trusting %s passes", name)
		}
	}
}

// memberRules compiles the member forwarding rules, checked like the
// function's own triggers.
func memberRules(t *testing.T, raw map[string]json.RawMessage) (map[string]*eventpattern.Pattern, []error) {
	t.Helper()
	out := map[string]*eventpattern.Pattern{}
	var errs []error
	for name, pat := range raw {
		for _, err := range checkPattern(string(pat)) {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
		p, err := eventpattern.Compile(pat)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = p
	}
	return out, errs
}

func loadMemberRules(t *testing.T) map[string]json.RawMessage {
	t.Helper()
	b, err := os.ReadFile(memberRulesFile)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestMemberForwardRulesMatchExactlyTheActedOnTypes: a member account
// forwards every acted-on ECS event, in every status it is acted on in,
// through exactly one rule (two would deliver it twice), and nothing else.
func TestMemberForwardRulesMatchExactlyTheActedOnTypes(t *testing.T) {
	rs, errs := memberRules(t, loadMemberRules(t))
	errs = append(errs, checkRulesAgainstActedOnTypes(t, rs)...)
	for _, err := range errs {
		t.Error(err)
	}
	// Broken copies fail: a rule missing, a rule forwarding disk events.
	raw := loadMemberRules(t)
	delete(raw, "ecs-stop")
	rs, _ = memberRules(t, raw)
	if len(checkRulesAgainstActedOnTypes(t, rs)) == 0 {
		t.Error("rules without ecs-stop pass")
	}
	raw = maps.Clone(loadMemberRules(t))
	raw["ecs-disk"] = json.RawMessage(`{"source":["acs.ecs"],"type":[{"prefix":"ecs:Instance:SystemMaintenance."}]}`)
	rs, _ = memberRules(t, raw)
	if len(checkRulesAgainstActedOnTypes(t, rs)) == 0 {
		t.Error("a rule forwarding disk-only maintenance passes")
	}
}

// orgWorld is the emulated organisation: the central account with the
// function's role holding the shipped policies, a member account with the
// shipped member role and an instance with one secondary ENI.
type orgWorld struct {
	ecs   *testenv.ECS
	sts   *testenv.STS
	cache *crossaccount.Cache
	req   crossaccount.Request
}

// readDoc reads a policy document of deploy/, changed by edit if given.
func readDoc(t *testing.T, name string, edit func(string) string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		return []byte(edit(string(b)))
	}
	return b
}

func parsePolicyFile(t *testing.T, name string, edit func(string) string) *identity.Policy {
	t.Helper()
	p, err := identity.ParsePolicy(readDoc(t, name, edit))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return p
}

func newOrgWorld(t *testing.T, withExtra bool, editMemberPolicy, editTrust func(string) string) *orgWorld {
	t.Helper()
	fnRole := functionRole(t)
	e := testenv.StartECS(t)
	s := testenv.StartSTS(t, e)
	reg := e.Srv.Identity()
	// The test credentials are sessions of the function's role (s.yaml's
	// vars.role, in the default account): the role's policies apply.
	if fnRole != identity.RoleARN(reg.DefaultAccount(), identity.DefaultRoleName) {
		t.Fatalf("s.yaml vars.role %s is not the emulators' function role", fnRole)
	}
	central := parsePolicyFile(t, centralPolicyFile, nil)
	if withExtra {
		central = identity.Union(central, parsePolicyFile(t, centralExtraFile, nil))
	}
	fcTrust, err := identity.ParseTrustPolicy([]byte(`{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":["fc.aliyuncs.com"]}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.AddRole(identity.Role{Account: reg.DefaultAccount(), Name: identity.DefaultRoleName, Trust: fcTrust, Policy: central}); err != nil {
		t.Fatal(err)
	}
	trust, err := identity.ParseTrustPolicy(readDoc(t, memberTrustFile, editTrust))
	if err != nil {
		t.Fatalf("%s: %v", memberTrustFile, err)
	}
	role := identity.Role{Account: testenv.MemberAccount, Name: memberRoleName, Trust: trust,
		Policy: parsePolicyFile(t, memberPolicyFile, editMemberPolicy)}
	if err := reg.AddRole(role); err != nil {
		t.Fatal(err)
	}
	if err := e.Srv.AddInstance(ecsemu.Instance{ID: "i-member1", Account: testenv.MemberAccount}); err != nil {
		t.Fatal(err)
	}
	if err := e.Srv.AddENI(ecsemu.ENI{ID: "eni-member1", Account: testenv.MemberAccount, InstanceID: "i-member1"}); err != nil {
		t.Fatal(err)
	}
	return &orgWorld{ecs: e, sts: s, cache: crossaccount.NewCache(s.Client),
		req: crossaccount.Request{Key: crossaccount.Key{RoleARN: role.ARN()}, Caller: e.Creds, Region: testenv.Region, RequestID: "deploy-test"}}
}

// act describes and detaches the member's ENI as the engine would.
func (w *orgWorld) act(t *testing.T) (describeErr, detachErr error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	api := w.cache.Client(w.ecs.Factory, w.req)
	_, describeErr = api.DescribeNetworkInterfaces(ctx, ecsapi.DescribeInput{RegionID: testenv.Region, IDs: []string{"eni-member1"}})
	_, detachErr = api.DetachNetworkInterface(ctx, ecsapi.DetachInput{RegionID: testenv.Region, ENIID: "eni-member1", InstanceID: "i-member1"})
	return describeErr, detachErr
}

func wantServiceCode(t *testing.T, what string, err error, service, code string) {
	t.Helper()
	var ae *acssdk.Error
	if code == "" {
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return
	}
	if !errors.As(err, &ae) || ae.Code != code || ae.Service != service {
		t.Fatalf("%s: %v, want %s %s", what, err, service, code)
	}
}

// TestShippedPoliciesWorkAcrossAccounts runs the shipped documents in the
// emulated organisation: with all of them the function detaches in the
// member account; without the central extra statement, with a member role
// that trusts another role, or with a member policy missing the detach,
// it is refused where RAM would refuse it.
func TestShippedPoliciesWorkAcrossAccounts(t *testing.T) {
	dropDetach := func(doc string) string {
		var p map[string]any
		_ = json.Unmarshal([]byte(doc), &p)
		p["Statement"] = p["Statement"].([]any)[:1]
		b, _ := json.Marshal(p)
		return string(b)
	}
	otherRole := func(doc string) string { return strings.Replace(doc, ":role/eni-detach", ":role/someone-else", 1) }
	for _, tc := range []struct {
		name                    string
		withExtra               bool
		memberPolicy, trust     func(string) string
		describeSvc, describeCd string
		detachSvc, detachCode   string
	}{
		{name: "as shipped", withExtra: true},
		{name: "central role without the sts:AssumeRole statement", describeSvc: acssdk.ServiceSTS, describeCd: "NoPermission",
			detachSvc: acssdk.ServiceSTS, detachCode: "NoPermission"},
		{name: "member role trusting another role", withExtra: true, trust: otherRole, describeSvc: acssdk.ServiceSTS, describeCd: "NoPermission",
			detachSvc: acssdk.ServiceSTS, detachCode: "NoPermission"},
		{name: "member policy without the detach", withExtra: true, memberPolicy: dropDetach,
			detachSvc: acssdk.ServiceECS, detachCode: "Forbidden.RAM"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newOrgWorld(t, tc.withExtra, tc.memberPolicy, tc.trust)
			describeErr, detachErr := w.act(t)
			wantServiceCode(t, "describe", describeErr, tc.describeSvc, tc.describeCd)
			wantServiceCode(t, "detach", detachErr, tc.detachSvc, tc.detachCode)
			if tc.detachCode == "" {
				if e, _ := w.ecs.Srv.GetENI("eni-member1"); e.DetachCalls != 1 {
					t.Fatalf("ENI %+v", e)
				}
			}
			for _, c := range w.ecs.Srv.Calls() {
				if c.Account != testenv.MemberAccount {
					t.Fatalf("an ECS call in account %q", c.Account)
				}
			}
		})
	}
}

// TestSYAMLWithCrossAccountPassesChecks: s.yaml with its commented
// cross-account variables set passes the checks.
func TestSYAMLWithCrossAccountPassesChecks(t *testing.T) {
	props := fc3Props(t, loadSYAML(t))
	env := props["environmentVariables"].(map[string]any)
	env["TARGET_ROLE_ARN"] = "acs:ram::{accountId}:role/eni-detach"
	env["TARGET_ACCOUNTS"] = "2234567890123456,3234567890123456"
	env["TARGET_ROLE_EXTERNAL_ID"] = "eni-detach-org-1"
	for _, err := range checkProps(props) {
		t.Error(err)
	}
	raw, err := os.ReadFile("../s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{`# TARGET_ROLE_ARN: "acs:ram::{accountId}:role/eni-detach"`, `# TARGET_ACCOUNTS: `, `# TARGET_ROLE_EXTERNAL_ID: `} {
		if !strings.Contains(string(raw), line) {
			t.Errorf("s.yaml lacks the commented %q", line)
		}
	}
}
