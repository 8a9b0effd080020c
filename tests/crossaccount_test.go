package tests

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/eni-detach/eni-detach/eventschema"
	"github.com/eni-detach/eni-detach/internal/creds"
	"github.com/eni-detach/eni-detach/internal/ecsapi"
	ecsemu "github.com/eni-detach/eni-detach/internal/emulator/ecs"
	"github.com/eni-detach/eni-detach/internal/emulator/fcruntime"
	"github.com/eni-detach/eni-detach/internal/emulator/identity"
	stsemu "github.com/eni-detach/eni-detach/internal/emulator/sts"
)

// The organisation of these tests: the function runs in accountID; the
// member account has the role it assumes, trusting the function's role
// (the role of every invocation's credentials) with an external id.
const (
	memberAccount = "2234567890123456"
	otherAccount  = "3234567890123456" // not in TARGET_ACCOUNTS
	externalID    = "org-ext-e2e"
)

// startOrgEnv starts the function configured for the member account, with
// an STS emulator sharing the ECS emulator's accounts. roleExternalID is
// what the member role's trust policy requires.
func startOrgEnv(t *testing.T, roleExternalID string, extraEnv ...string) *env {
	t.Helper()
	return startEnvWith(t, func(e *env) []string {
		sts, err := stsemu.Start(e.ecs.Identity())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = sts.Close() })
		e.sts = sts
		reg := e.ecs.Identity()
		role, err := identity.TrustingRole(memberAccount, "eni-detach", identity.RoleARN(accountID, identity.DefaultRoleName),
			roleExternalID, ecsapi.RAMActions)
		if err != nil {
			t.Fatal(err)
		}
		if err := reg.AddRole(role); err != nil {
			t.Fatal(err)
		}
		return []string{
			"TARGET_ROLE_ARN=acs:ram::{accountId}:role/eni-detach",
			"TARGET_ACCOUNTS=" + memberAccount,
			"TARGET_ROLE_EXTERNAL_ID=" + externalID,
			"STS_ENDPOINT=" + sts.URL(),
		}
	}, extraEnv...)
}

// assumedCreds are the credentials STS issued during the test.
func (e *env) assumedCreds() []creds.Credentials {
	if e.sts == nil {
		return nil
	}
	var out []creds.Credentials
	for _, c := range e.sts.Calls() {
		if c.Issued != "" {
			out = append(out, c.IssuedCredentials)
		}
	}
	return out
}

// memberInstance adds a Running instance of the member account with a
// primary ENI and n InUse secondary ENIs, and returns the secondary ids.
func (e *env) memberInstance(t *testing.T, instanceID string, n int) []string {
	t.Helper()
	if err := e.ecs.AddInstance(ecsemu.Instance{ID: instanceID, Account: memberAccount}); err != nil {
		t.Fatal(err)
	}
	suffix := strings.TrimPrefix(instanceID, "i-")
	e.addENI(t, ecsemu.ENI{ID: "eni-p" + suffix, Type: ecsemu.ENIPrimary, InstanceID: instanceID, Account: memberAccount})
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("eni-%s%03d", suffix, i)
		e.addENI(t, ecsemu.ENI{ID: ids[i], InstanceID: instanceID, Account: memberAccount})
	}
	return ids
}

// routedECSEvent is an ECS spot interruption as it reaches the central
// function after EventBridge routed it from account original.
func routedECSEvent(id, instanceID, original string) []byte {
	return []byte(`{"specversion":"1.0","id":"` + id + `","source":"acs.ecs","type":"ecs:Instance:PreemptibleInstanceInterruption",` +
		`"subject":"acs:ecs:cn-hangzhou:` + original + `:instance/` + instanceID + `","time":"2026-11-25T08:15:30Z",` +
		`"aliyunaccountid":"` + accountID + `","aliyunoriginalaccountid":"` + original + `","aliyunregionid":"cn-hangzhou",` +
		`"aliyuneventbusname":"default","data":{"instanceId":"` + instanceID + `","action":"delete"}}`)
}

// checkNoSecrets asserts no invocation's and no assumed secret is in the
// texts (responses, published events).
func (e *env) checkNoSecrets(t *testing.T, texts ...string) {
	t.Helper()
	var secrets []string
	for _, c := range e.allCreds() {
		secrets = append(secrets, c.Secrets()...)
	}
	assumed := e.assumedCreds()
	for _, c := range assumed {
		secrets = append(secrets, c.Secrets()...)
	}
	for _, text := range texts {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Fatalf("a secret or token reached the output: %.300s", text)
			}
		}
	}
}

// TestCrossAccountMemberECSEvent: an ECS event from a member account,
// routed to the central function, detaches both ENIs of the member's
// instance with the member's assumed credentials after one AssumeRole;
// the results and the events on the central bus name the member account,
// and the events are signed with the invocation's own credentials.
func TestCrossAccountMemberECSEvent(t *testing.T) {
	e := startOrgEnv(t, externalID)
	enis := e.memberInstance(t, "i-member1", 2)
	res := e.invoke(t, "req-member-1", routedECSEvent("ev-member-1", "i-member1", memberAccount))
	resp := response(t, res)
	if len(resp.Results) != 2 || resp.Published != 2 {
		t.Fatalf("response %s", res.Body)
	}
	for _, r := range resp.Results {
		if r.Outcome != eventschema.OutcomeDetached || r.AccountID != memberAccount {
			t.Fatalf("result %+v %+v", r, r.Error)
		}
	}
	stsCalls := e.sts.Calls()
	invCreds := e.allCreds()["req-member-1"]
	if len(stsCalls) != 1 || stsCalls[0].AccessKeyID != invCreds.AccessKeyID || stsCalls[0].Params["ExternalId"] != externalID ||
		stsCalls[0].Params["RoleArn"] != "acs:ram::"+memberAccount+":role/eni-detach" || stsCalls[0].Params["DurationSeconds"] != "900" ||
		stsCalls[0].Params["RoleSessionName"] != "eni-detach-req-member-1" {
		t.Fatalf("STS calls %+v", stsCalls)
	}
	ecsCalls := e.ecs.Calls()
	if len(ecsCalls) == 0 {
		t.Fatal("no ECS call")
	}
	for _, c := range ecsCalls {
		if c.AccessKeyID != stsCalls[0].Issued || c.Account != memberAccount || c.Code != "" {
			t.Fatalf("ECS %s by %s in account %q: %s", c.Action, c.AccessKeyID, c.Account, c.Code)
		}
	}
	for _, id := range enis {
		if s := e.status(t, id); s != ecsemu.ENIAvailable {
			t.Fatalf("%s is %s", id, s)
		}
	}
	events, recv := e.published(t)
	if len(events) != 2 {
		t.Fatalf("%d events", len(events))
	}
	var texts []string
	for i, ev := range events {
		if recv[i].AccessKeyID != invCreds.AccessKeyID || ev.Data.AccountID != memberAccount ||
			ev.Subject != "acs:ecs:cn-hangzhou:"+memberAccount+":eni/"+ev.Data.NetworkInterfaceID ||
			ev.Source != "acs:fc:cn-hangzhou:"+accountID+":functions/eni-detach" {
			t.Fatalf("event %d signed by %s: %+v", i, recv[i].AccessKeyID, ev)
		}
		texts = append(texts, string(recv[i].Event))
	}
	e.checkNoSecrets(t, append(texts, string(res.Body))...)
}

// TestCrossAccountCacheAndSingleFlight: 40 concurrent invocations for one
// member account make one AssumeRole, and the invocations after them reuse
// the cached credentials.
func TestCrossAccountCacheAndSingleFlight(t *testing.T) {
	e := startOrgEnv(t, externalID)
	// STS answers slowly, so every concurrent invocation asks while the
	// first AssumeRole is still in flight.
	e.sts.InjectLatency("AssumeRole", time.Second, 1)
	var invs []fcruntime.Invocation
	for i := range 40 {
		eni := e.memberInstance(t, fmt.Sprintf("i-conc%02d", i), 1)[0]
		invs = append(invs, e.invocation(fmt.Sprintf("req-conc-%02d", i),
			[]byte(`{"NetworkInterfaceId":"`+eni+`","AccountId":"`+memberAccount+`"}`)))
	}
	for _, res := range e.fc.InvokeConcurrently(e.ctx, invs) {
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		resp := response(t, res)
		if len(resp.Results) != 1 || resp.Results[0].Outcome != eventschema.OutcomeDetached {
			t.Fatalf("%s: %s", res.RequestID, res.Body)
		}
	}
	if n := len(e.sts.Calls()); n != 1 {
		t.Fatalf("%d AssumeRole calls for 40 concurrent invocations", n)
	}
	eni := e.memberInstance(t, "i-seq1", 5)
	for i, id := range eni {
		resp := response(t, e.invoke(t, fmt.Sprintf("req-seq-%d", i), []byte(`{"NetworkInterfaceId":"`+id+`","AccountId":"`+memberAccount+`"}`)))
		if resp.Results[0].Outcome != eventschema.OutcomeDetached {
			t.Fatalf("%+v", resp.Results[0])
		}
	}
	if n := len(e.sts.Calls()); n != 1 {
		t.Fatalf("%d AssumeRole calls for 45 invocations", n)
	}
}

// TestCrossAccountRefusals: an account that is not allowed, and a custom
// request naming another account than its event's, are Refused without any
// STS or ECS call; the refusal is returned and published.
func TestCrossAccountRefusals(t *testing.T) {
	e := startOrgEnv(t, externalID)
	e.memberInstance(t, "i-member2", 1)
	custom := `{"specversion":"1.0","id":"c-mismatch","source":"custom.eni-detach.ops","type":"custom.eni-detach.detach",` +
		`"aliyunaccountid":"` + accountID + `","aliyunoriginalaccountid":"` + memberAccount + `","aliyunregionid":"cn-hangzhou",` +
		`"data":{"NetworkInterfaceId":"eni-member2000","AccountId":"` + otherAccount + `"}}`
	for _, tc := range []struct {
		name, requestID, payload, code, account, subject string
	}{
		{"account not allowed", "req-not-allowed", `{"InstanceId":"i-member2","AccountId":"` + otherAccount + `"}`,
			"Guard.AccountNotAllowed", otherAccount, "acs:ecs:cn-hangzhou:" + otherAccount + ":instance/i-member2"},
		{"ECS event of an account not allowed", "req-not-allowed-ev", string(routedECSEvent("ev-other", "i-member2", otherAccount)),
			"Guard.AccountNotAllowed", otherAccount, "acs:ecs:cn-hangzhou:" + otherAccount + ":instance/i-member2"},
		{"custom request naming another account", "req-mismatch", custom,
			"Guard.AccountMismatch", memberAccount, "acs:ecs:cn-hangzhou:" + memberAccount + ":eni/eni-member2000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(e.eb.EventsForBus(busName))
			resp := response(t, e.invoke(t, tc.requestID, []byte(tc.payload)))
			if len(resp.Results) != 1 {
				t.Fatalf("%+v", resp)
			}
			r := resp.Results[0]
			if r.Outcome != eventschema.OutcomeRefused || r.Error == nil || r.Error.Code != tc.code || r.AccountID != tc.account {
				t.Fatalf("result %+v %+v", r, r.Error)
			}
			events, _ := e.published(t)
			if len(events) != before+1 || events[before].Type != eventschema.TypeDetachFailed || events[before].Subject != tc.subject {
				t.Fatalf("events %+v", events[before:])
			}
		})
	}
	if len(e.sts.Calls()) != 0 || len(e.ecs.Calls()) != 0 {
		t.Fatalf("%d STS and %d ECS calls for refused accounts", len(e.sts.Calls()), len(e.ecs.Calls()))
	}
}

// TestCrossAccountSTSDenied: the member role wants another external id:
// PermissionDenied with STS's code and RequestId, no ECS call, and no
// error to FC (a retry cannot help).
func TestCrossAccountSTSDenied(t *testing.T) {
	e := startOrgEnv(t, "another-external-id")
	e.memberInstance(t, "i-member3", 1)
	resp := response(t, e.invoke(t, "req-denied", routedECSEvent("ev-denied", "i-member3", memberAccount)))
	stsCalls := e.sts.Calls()
	if len(resp.Results) != 1 || len(stsCalls) == 0 {
		t.Fatalf("%+v, %d STS calls", resp, len(stsCalls))
	}
	r := resp.Results[0]
	if r.Outcome != eventschema.OutcomePermissionDenied || r.Error.Code != "NoPermission" || r.Error.Retryable ||
		r.Error.RequestID != stsCalls[0].RequestID || r.AccountID != memberAccount || r.InstanceID != "i-member3" {
		t.Fatalf("result %+v %+v", r, r.Error)
	}
	if len(stsCalls) != 1 || len(e.ecs.Calls()) != 0 {
		t.Fatalf("%d STS, %d ECS calls", len(stsCalls), len(e.ecs.Calls()))
	}
}

// TestCrossAccountSTSThrottled: STS throttling is retried in the engine's
// retry layer; the detach then goes through.
func TestCrossAccountSTSThrottled(t *testing.T) {
	e := startOrgEnv(t, externalID)
	eni := e.memberInstance(t, "i-member4", 1)[0]
	e.sts.InjectError("AssumeRole", "Throttling.User", 400, 2)
	resp := response(t, e.invoke(t, "req-throttled", []byte(`{"NetworkInterfaceId":"`+eni+`","AccountId":"`+memberAccount+`"}`)))
	if len(resp.Results) != 1 || resp.Results[0].Outcome != eventschema.OutcomeDetached {
		t.Fatalf("%+v", resp)
	}
	var codes []string
	for _, c := range e.sts.Calls() {
		codes = append(codes, c.Code)
	}
	if strings.Join(codes, ",") != "Throttling.User,Throttling.User," {
		t.Fatalf("STS answers %q", codes)
	}
}

// TestCrossAccountSTSHangsPastTheDeadline: STS never answers; the function
// still answers before the invocation's deadline, with a retryable failure
// that FC retries, and without any ECS call.
func TestCrossAccountSTSHangsPastTheDeadline(t *testing.T) {
	e := startOrgEnv(t, externalID)
	eni := e.memberInstance(t, "i-member5", 1)[0]
	e.sts.InjectHang("AssumeRole", -1)
	inv := e.invocation("req-hang", []byte(`{"NetworkInterfaceId":"`+eni+`","AccountId":"`+memberAccount+`"}`))
	inv.Timeout = 8 * time.Second
	res, err := e.fc.Invoke(e.ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	if !res.CompletedAt.Before(res.Deadline) {
		t.Fatalf("answered at %s, deadline %s", res.CompletedAt, res.Deadline)
	}
	if res.Status != fcruntime.StatusError || !strings.Contains(res.ErrorMessage, "retryable failure") ||
		!strings.Contains(res.ErrorMessage, `"outcome":"Failed"`) || !strings.Contains(res.ErrorMessage, `"accountId":"`+memberAccount+`"`) {
		t.Fatalf("completion %s: %s", res.Status, res.ErrorMessage)
	}
	if len(e.ecs.Calls()) != 0 || len(e.sts.Calls()) == 0 {
		t.Fatalf("%d ECS, %d STS calls", len(e.ecs.Calls()), len(e.sts.Calls()))
	}
}

// TestCrossAccountOwnAccountNeverCallsSTS: with cross-account configured,
// the function's own account (an ECS event of its own, a request naming
// its own account or none) is served with the invocation's credentials.
func TestCrossAccountOwnAccountNeverCallsSTS(t *testing.T) {
	e := startOrgEnv(t, externalID)
	e.instance(t, "i-own1", 2)
	e.instance(t, "i-own2", 2)
	for _, tc := range []struct {
		requestID string
		payload   []byte
	}{
		{"req-own-event", routedECSEvent("ev-own", "i-own1", accountID)},
		{"req-own-named", []byte(`{"InstanceId":"i-own2","AccountId":"` + accountID + `"}`)},
		{"req-own-default", []byte(`{"NetworkInterfaceId":"eni-own2001"}`)},
	} {
		resp := response(t, e.invoke(t, tc.requestID, tc.payload))
		if len(resp.Results) == 0 {
			t.Fatalf("%s: %+v", tc.requestID, resp)
		}
		for _, r := range resp.Results {
			if r.AccountID != accountID || (r.Outcome != eventschema.OutcomeDetached && r.Outcome != eventschema.OutcomeAlreadyDetached) {
				t.Fatalf("%s: %+v %+v", tc.requestID, r, r.Error)
			}
		}
	}
	if n := len(e.sts.Calls()); n != 0 {
		t.Fatalf("%d STS calls for the function's own account", n)
	}
	for _, c := range e.ecs.Calls() {
		if c.Account != accountID || !strings.HasPrefix(c.AccessKeyID, "STS.e2e") {
			t.Fatalf("ECS %s by %s in %q", c.Action, c.AccessKeyID, c.Account)
		}
	}
}
