package tests

import (
	"fmt"
	"testing"

	"github.com/eni-detach/eni-detach/eventschema"
	"github.com/eni-detach/eni-detach/internal/creds"
	"github.com/eni-detach/eni-detach/internal/emulator/fcruntime"
)

// concurrentInvocations is how many invocations run at once in one
// process, each with its own STS credentials and its own ENI.
const concurrentInvocations = 40

// FC runs invocations concurrently in one process: no invocation may sign
// a call with another's credentials, and each gets its own answer.
func TestConcurrentInvocationsKeepTheirOwnCredentials(t *testing.T) {
	t.Parallel()
	e := startEnv(t)
	inst := "i-conc" + randomHex(4)
	enis := e.instance(t, inst, concurrentInvocations)

	invs := make([]fcruntime.Invocation, concurrentInvocations)
	owner := map[string]int{} // ENI id → invocation index
	for i, eni := range enis {
		rid := fmt.Sprintf("req-conc-%02d-%s", i, randomHex(4))
		invs[i] = e.invocation(rid, fmt.Appendf(nil, `{"NetworkInterfaceId":%q,"InstanceId":%q}`, eni, inst))
		owner[eni] = i
	}
	results := e.fc.InvokeConcurrently(e.ctx, invs)

	for i, res := range results {
		if res.Err != nil {
			t.Errorf("invocation %d: %v", i, res.Err)
			continue
		}
		resp := response(t, res)
		if len(resp.Results) != 1 {
			t.Errorf("invocation %d: %d results: %s", i, len(resp.Results), res.Body)
			continue
		}
		r := resp.Results[0]
		if r.NetworkInterfaceID != enis[i] || r.FCRequestID != invs[i].RequestID || r.Outcome != eventschema.OutcomeDetached || resp.Published != 1 {
			t.Errorf("invocation %d (%s, %s) got %s/%s for request %s, published %d",
				i, invs[i].RequestID, enis[i], r.NetworkInterfaceID, r.Outcome, r.FCRequestID, resp.Published)
		}
	}
	if st := e.fc.Stats(); st.MaxInFlight < 2 || st.Responses != concurrentInvocations {
		t.Errorf("runtime stats %+v: the invocations did not overlap or did not all answer", st)
	}

	// Every ECS call names ENIs of exactly one invocation, and is signed
	// with that invocation's key and token.
	used := make([]int, concurrentInvocations)
	for _, c := range e.ecs.Calls() {
		ids := eniParams(c)
		if len(ids) == 0 {
			t.Errorf("%s call names no ENI: cannot tell whose it is (key %s)", c.Action, c.AccessKeyID)
			continue
		}
		i, ok := owner[ids[0]]
		for _, id := range ids[1:] {
			if j, ok2 := owner[id]; !ok2 || j != i {
				t.Errorf("%s call names ENIs of several invocations: %v", c.Action, ids)
			}
		}
		if !ok {
			t.Errorf("%s call about unknown ENI %s", c.Action, ids[0])
			continue
		}
		if !signedWith(c.AccessKeyID, c.SecurityToken, invs[i].Credentials) {
			t.Errorf("%s about %s (invocation %d) signed with key %s, want %s (token match %v)", c.Action, ids[0], i,
				c.AccessKeyID, invs[i].Credentials.AccessKeyID, c.SecurityToken == invs[i].Credentials.SecurityToken)
		}
		if c.HTTPStatus != 200 {
			t.Errorf("%s about %s answered %d %s", c.Action, ids[0], c.HTTPStatus, c.Code)
		}
		used[i]++
	}
	for i, n := range used {
		// At least the describe and the detach.
		if n < 2 {
			t.Errorf("invocation %d made %d ECS calls", i, n)
		}
	}

	// Every follow-up event was published with its own invocation's
	// credentials, one per ENI.
	events, recv := e.published(t)
	seen := map[string]int{}
	for k, ev := range events {
		i, ok := owner[ev.Data.NetworkInterfaceID]
		if !ok {
			t.Errorf("event about unknown ENI %s", ev.Data.NetworkInterfaceID)
			continue
		}
		seen[ev.Data.NetworkInterfaceID]++
		if !signedWith(recv[k].AccessKeyID, recv[k].SecurityToken, invs[i].Credentials) {
			t.Errorf("event about %s (invocation %d) published with key %s, want %s",
				ev.Data.NetworkInterfaceID, i, recv[k].AccessKeyID, invs[i].Credentials.AccessKeyID)
		}
		if ev.Data.FCRequestID != invs[i].RequestID {
			t.Errorf("event about %s carries request %s, want %s", ev.Data.NetworkInterfaceID, ev.Data.FCRequestID, invs[i].RequestID)
		}
	}
	for _, eni := range enis {
		if seen[eni] != 1 {
			t.Errorf("%s: %d events published, want 1", eni, seen[eni])
		}
	}
	for _, c := range e.eb.Calls() {
		if c.Status != 200 {
			t.Errorf("PutEvents by %s answered %d %s", c.AccessKeyID, c.Status, c.Code)
		}
	}
}

func signedWith(keyID, token string, c creds.Credentials) bool {
	return keyID == c.AccessKeyID && token == c.SecurityToken
}
