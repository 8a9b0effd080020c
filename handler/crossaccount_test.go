package handler_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eni-detach/eni-detach/eventschema"
	"github.com/eni-detach/eni-detach/handler"
	"github.com/eni-detach/eni-detach/internal/config"
	"github.com/eni-detach/eni-detach/internal/crossaccount"
	"github.com/eni-detach/eni-detach/internal/detach"
	ecsemu "github.com/eni-detach/eni-detach/internal/emulator/ecs"
	"github.com/eni-detach/eni-detach/internal/publish"
	"github.com/eni-detach/eni-detach/internal/testenv"
)

const memberAccount = testenv.MemberAccount

// orgFixture is the publishing fixture with an STS emulator sharing the
// ECS emulator's accounts, the member account's role, and the function
// configured to act in the member account.
type orgFixture struct {
	*pubFixture
	sts *testenv.STS
}

func newOrgFixture(t *testing.T, edit func(*config.Config)) *orgFixture {
	t.Helper()
	var sts *testenv.STS
	f := newPublishingFixture(t, func(d *handler.Deps) {
		d.Config.TargetRoleARN = "acs:ram::{accountId}:role/" + testenv.MemberRoleName
		d.Config.TargetAccounts = config.TargetAccounts{IDs: []string{memberAccount}}
		if edit != nil {
			edit(&d.Config)
		}
	})
	sts = testenv.StartSTS(t, f.ecs)
	testenv.AddMemberRole(t, f.ecs.Srv.Identity(), memberAccount, "")
	// The handler is rebuilt with the cache: the fixture's own is
	// configured but has no STS to talk to.
	d := handler.Deps{Config: f.cfg, ECS: f.ecs.Factory, Engine: &detach.Engine{Policy: testenv.FastPolicy()},
		Logger: zerologTo(f.logs), CrossAccount: crossaccount.NewCache(sts.Client)}
	d.Config.EventBusName = f.eb.Bus
	d.Publisher = publish.New(f.eb.PublishConfig())
	f.h = handler.New(d)
	return &orgFixture{pubFixture: f, sts: sts}
}

// memberInstance adds an instance with n secondary ENIs in the member
// account.
func (f *orgFixture) memberInstance(t *testing.T, id string, n int) []string {
	t.Helper()
	if err := f.ecs.Srv.AddInstance(ecsemu.Instance{ID: id, Account: memberAccount}); err != nil {
		t.Fatal(err)
	}
	var enis []string
	for i := range n {
		eni := fmt.Sprintf("eni-%s%03d", strings.TrimPrefix(id, "i-"), i)
		if err := f.ecs.Srv.AddENI(ecsemu.ENI{ID: eni, Account: memberAccount, InstanceID: id}); err != nil {
			t.Fatal(err)
		}
		enis = append(enis, eni)
	}
	return enis
}

func memberECSEvent(id, instance, original string) string {
	return `{"specversion":"1.0","id":"` + id + `","source":"acs.ecs","type":"ecs:Instance:PreemptibleInstanceInterruption",` +
		`"aliyunregionid":"cn-hangzhou","aliyunaccountid":"1234567890123456","aliyunoriginalaccountid":"` + original + `",` +
		`"data":{"instanceId":"` + instance + `","action":"delete"}}`
}

// TestMemberECSEvent: an ECS event routed from a member account detaches
// that account's ENIs with its assumed role only (one AssumeRole), the
// results and events name the member account, and the events go to the
// central bus signed with the function's own credentials.
func TestMemberECSEvent(t *testing.T) {
	f := newOrgFixture(t, nil)
	enis := f.memberInstance(t, "i-mem1", 2)
	resp, err := f.invoke(t, "req-member-1", memberECSEvent("ev-1", "i-mem1", memberAccount))
	if err != nil || len(resp.Results) != 2 {
		t.Fatalf("%+v %v", resp, err)
	}
	for _, r := range resp.Results {
		if r.Outcome != eventschema.OutcomeDetached || r.AccountID != memberAccount {
			t.Fatalf("result %+v %+v", r, r.Error)
		}
	}
	stsCalls := f.sts.Srv.Calls()
	if len(stsCalls) != 1 || stsCalls[0].Params["RoleSessionName"] != "eni-detach-req-member-1" || stsCalls[0].AccessKeyID != f.ecs.Creds.AccessKeyID {
		t.Fatalf("STS calls %+v", stsCalls)
	}
	for _, c := range f.ecs.Srv.Calls() {
		if c.AccessKeyID != stsCalls[0].Issued || c.Account != memberAccount {
			t.Fatalf("ECS %s signed by %s in %q", c.Action, c.AccessKeyID, c.Account)
		}
	}
	events := f.busEvents(t)
	if len(events) != 2 {
		t.Fatalf("%d events", len(events))
	}
	for i, ev := range events {
		if ev.AccessKeyID != f.ecs.Creds.AccessKeyID || ev.ev.Subject != "acs:ecs:cn-hangzhou:"+memberAccount+":eni/"+ev.ev.Data.NetworkInterfaceID ||
			ev.ev.Data.AccountID != memberAccount || !strings.Contains(ev.ev.Source, ":"+testAccountID+":") {
			t.Fatalf("event %d: signed by %s, %+v", i, ev.AccessKeyID, ev.ev)
		}
	}
	for _, id := range enis {
		if e, _ := f.ecs.Srv.GetENI(id); e.Status != ecsemu.ENIAvailable {
			t.Fatalf("%s %s", id, e.Status)
		}
	}
}

// TestOwnAccountNeverCallsSTS: with cross-account configured, the
// function's own account is served with its own credentials.
func TestOwnAccountNeverCallsSTS(t *testing.T) {
	f := newOrgFixture(t, nil)
	enis := f.ecs.Instance(t, "i-own1", 1)
	for _, payload := range []string{
		memberECSEvent("ev-own", "i-own1", testAccountID),
		`{"NetworkInterfaceId":"` + enis[0] + `","AccountId":"` + testAccountID + `","DryRun":true}`,
		`{"NetworkInterfaceId":"` + enis[0] + `","DryRun":true}`,
	} {
		resp, err := f.invoke(t, "req-own", payload)
		if err != nil || len(resp.Results) != 1 || resp.Results[0].AccountID != testAccountID || resp.Results[0].Error != nil {
			t.Fatalf("%s: %+v %v", payload, resp, err)
		}
	}
	if n := len(f.sts.Srv.Calls()); n != 0 {
		t.Fatalf("%d STS calls for the own account", n)
	}
}

// TestAccountGuards: an account that is not allowed, or a custom request
// naming another account than its event, is Refused with no STS and no ECS
// call, and the refusal is published.
func TestAccountGuards(t *testing.T) {
	const other = "3234567890123456"
	custom := func(original, asked string) string {
		return `{"specversion":"1.0","id":"c-1","source":"custom.eni-detach","type":"custom.eni-detach.detach","aliyunregionid":"cn-hangzhou",` +
			`"aliyunaccountid":"1234567890123456","aliyunoriginalaccountid":"` + original + `","data":{"NetworkInterfaceId":"eni-x1","AccountId":"` + asked + `"}}`
	}
	for _, tc := range []struct {
		name, payload, code, account, subject string
		cfg                                   func(*config.Config)
	}{
		{"direct, account not listed", `{"InstanceId":"i-x1","AccountId":"` + other + `"}`, detach.CodeGuardAccountNotAllowed, other,
			"acs:ecs:cn-hangzhou:" + other + ":instance/i-x1", nil},
		{"ECS event of an account not listed", memberECSEvent("ev-2", "i-x1", other), detach.CodeGuardAccountNotAllowed, other, "", nil},
		{"cross-account not configured", `{"NetworkInterfaceId":"eni-x1","AccountId":"` + memberAccount + `"}`, detach.CodeGuardAccountNotAllowed, memberAccount,
			"acs:ecs:cn-hangzhou:" + memberAccount + ":eni/eni-x1", func(c *config.Config) { c.TargetRoleARN, c.TargetAccounts = "", config.TargetAccounts{} }},
		{"custom request naming another account", custom(memberAccount, other), detach.CodeGuardAccountMismatch, memberAccount,
			"acs:ecs:cn-hangzhou:" + memberAccount + ":eni/eni-x1", nil},
		{"own account's custom request naming a member", custom(testAccountID, memberAccount), detach.CodeGuardAccountMismatch, testAccountID, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newOrgFixture(t, tc.cfg)
			resp, err := f.invoke(t, "req-guard", tc.payload)
			if err != nil || len(resp.Results) != 1 {
				t.Fatalf("%+v %v", resp, err)
			}
			r := resp.Results[0]
			if r.Outcome != eventschema.OutcomeRefused || r.Error == nil || r.Error.Code != tc.code || r.AccountID != tc.account || r.Error.Retryable {
				t.Fatalf("result %+v %+v", r, r.Error)
			}
			if len(f.sts.Srv.Calls()) != 0 || len(f.ecs.Srv.Calls()) != 0 {
				t.Fatalf("%d STS, %d ECS calls", len(f.sts.Srv.Calls()), len(f.ecs.Srv.Calls()))
			}
			events := f.busEvents(t)
			if len(events) != 1 || events[0].ev.Type != eventschema.TypeDetachFailed || (tc.subject != "" && events[0].ev.Subject != tc.subject) {
				t.Fatalf("events %+v", events)
			}
			if !strings.Contains(f.logs.String(), `"error_code":"`+tc.code+`"`) {
				t.Fatalf("no log of the refusal:\n%s", f.logs.String())
			}
		})
	}
}

// TestSTSRefusalIsPermissionDenied: the member role does not trust the
// function: PermissionDenied with STS's code and RequestId, no ECS call.
func TestSTSRefusalIsPermissionDenied(t *testing.T) {
	f := newOrgFixture(t, func(c *config.Config) { c.TargetRoleARN = "acs:ram::{accountId}:role/not-there" })
	f.memberInstance(t, "i-mem2", 1)
	resp, err := f.invoke(t, "req-denied", memberECSEvent("ev-3", "i-mem2", memberAccount))
	if err != nil || len(resp.Results) != 1 {
		t.Fatalf("%+v %v", resp, err)
	}
	r := resp.Results[0]
	stsCalls := f.sts.Srv.Calls()
	if r.Outcome != eventschema.OutcomePermissionDenied || r.Error.Code != "EntityNotExist.Role" || r.Error.RequestID != stsCalls[0].RequestID ||
		r.AccountID != memberAccount || r.InstanceID != "i-mem2" || !strings.Contains(r.Error.Message, "acs:ram::"+memberAccount+":role/not-there") {
		t.Fatalf("result %+v %+v", r, r.Error)
	}
	if len(f.ecs.Srv.Calls()) != 0 || len(stsCalls) != 1 {
		t.Fatalf("%d ECS, %d STS calls", len(f.ecs.Srv.Calls()), len(stsCalls))
	}
}

// TestConcurrentMemberInvocationsShareOneAssumeRole: 40 invocations at
// once for one member account make one AssumeRole.
func TestConcurrentMemberInvocationsShareOneAssumeRole(t *testing.T) {
	f := newOrgFixture(t, nil)
	f.sts.Srv.InjectLatency("AssumeRole", 300*time.Millisecond, -1)
	var enis []string
	for i := range 40 {
		enis = append(enis, f.memberInstance(t, fmt.Sprintf("i-conc%02d", i), 1)...)
	}
	var wg sync.WaitGroup
	outcomes := make([]string, len(enis))
	for i, eni := range enis {
		wg.Go(func() {
			resp, err := f.invoke(t, fmt.Sprintf("req-c%02d", i), `{"NetworkInterfaceId":"`+eni+`","AccountId":"`+memberAccount+`"}`)
			if err != nil || len(resp.Results) != 1 {
				outcomes[i] = fmt.Sprint(err)
				return
			}
			outcomes[i] = string(resp.Results[0].Outcome)
		})
	}
	wg.Wait()
	for i, o := range outcomes {
		if o != string(eventschema.OutcomeDetached) {
			t.Fatalf("invocation %d: %s", i, o)
		}
	}
	if n := len(f.sts.Srv.Calls()); n != 1 {
		t.Fatalf("%d AssumeRole calls for 40 concurrent invocations", n)
	}
}

// TestHTTPRequestForAMemberAccount: an HTTP request naming a member
// account is served with that account's role; one naming an account the
// function may not act in answers 403.
func TestHTTPRequestForAMemberAccount(t *testing.T) {
	f := newOrgFixture(t, nil)
	eni := f.memberInstance(t, "i-memh", 1)[0]
	for _, tc := range []struct {
		account string
		status  int
		outcome eventschema.Outcome
	}{
		{memberAccount, 200, eventschema.OutcomeDetached},
		{"3234567890123456", 403, eventschema.OutcomeRefused},
	} {
		ans := f.invokeHTTP(t, "req-http-"+tc.account, httpReq{body: `{"NetworkInterfaceId":"` + eni + `","AccountId":"` + tc.account + `"}`}.payload(t), f.ecs.Creds)
		if ans.status != tc.status || len(ans.body.Results) != 1 || ans.body.Results[0].Outcome != tc.outcome ||
			ans.body.Results[0].AccountID != tc.account {
			t.Fatalf("account %s: %d %s", tc.account, ans.status, ans.raw)
		}
	}
	if n := len(f.sts.Srv.Calls()); n != 1 {
		t.Fatalf("%d STS calls", n)
	}
}

// TestBatchAcrossAccounts: one batch naming ENIs of the function's own
// account and of a member account: each is acted on with its own account's
// credentials, and ENIs of one account are described together.
func TestBatchAcrossAccounts(t *testing.T) {
	f := newOrgFixture(t, nil)
	own := f.ecs.Instance(t, "i-ownb", 2)
	mem := f.memberInstance(t, "i-memb", 2)
	batch := `[{"NetworkInterfaceId":"` + own[0] + `"},{"NetworkInterfaceId":"` + mem[0] + `","AccountId":"` + memberAccount + `"},` +
		`{"NetworkInterfaceId":"` + own[1] + `"},{"NetworkInterfaceId":"` + mem[1] + `","AccountId":"` + memberAccount + `"}]`
	resp, err := f.invoke(t, "req-batch", batch)
	if err != nil || len(resp.Results) != 4 {
		t.Fatalf("%+v %v", resp, err)
	}
	wantAccount := []string{testAccountID, memberAccount, testAccountID, memberAccount}
	for i, r := range resp.Results {
		if r.Outcome != eventschema.OutcomeDetached || r.AccountID != wantAccount[i] {
			t.Fatalf("result %d: %+v %+v", i, r, r.Error)
		}
	}
	issued := f.sts.Srv.Calls()[0].Issued
	firstDescribe := map[string]int{}
	for _, c := range f.ecs.Srv.Calls() {
		switch c.Account {
		case memberAccount:
			if c.AccessKeyID != issued {
				t.Fatalf("member call signed by %s", c.AccessKeyID)
			}
		case testAccountID:
			if c.AccessKeyID != f.ecs.Creds.AccessKeyID {
				t.Fatalf("own call signed by %s", c.AccessKeyID)
			}
		default:
			t.Fatalf("call in account %q", c.Account)
		}
		if c.Action == "DescribeNetworkInterfaces" && firstDescribe[c.Account] == 0 {
			firstDescribe[c.Account] = len(eniParams(c))
		}
	}
	if firstDescribe[memberAccount] != 2 || firstDescribe[testAccountID] != 2 {
		t.Fatalf("first describes per account named %v ENIs, want 2 each", firstDescribe)
	}
}

// eniParams lists the NetworkInterfaceId.N of a describe.
func eniParams(c ecsemu.Call) []string {
	var ids []string
	for k, v := range c.Params {
		if strings.HasPrefix(k, "NetworkInterfaceId.") {
			ids = append(ids, v)
		}
	}
	return ids
}
