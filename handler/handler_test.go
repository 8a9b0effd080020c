package handler_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eni-detach/eni-detach/eventschema"
	"github.com/eni-detach/eni-detach/handler"
	"github.com/eni-detach/eni-detach/internal/config"
	"github.com/eni-detach/eni-detach/internal/creds"
	"github.com/eni-detach/eni-detach/internal/testenv"
)

func TestDirectRequestDetaches(t *testing.T) {
	f := newFixture(t)
	enis := f.ecs.Instance(t, "i-a1", 1)
	resp, err := f.invoke(t, "req-1", `{"NetworkInterfaceId":"`+enis[0]+`","InstanceId":"i-a1"}`)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Results) != 1 {
		t.Fatalf("response %+v", resp)
	}
	r := resp.Results[0]
	if r.Outcome != eventschema.OutcomeDetached || r.FCRequestID != "req-1" || r.Trigger.Kind != eventschema.TriggerDirect ||
		r.RegionID != testenv.Region || r.Status != "Available" {
		t.Fatalf("result %+v", r)
	}
	if !strings.Contains(f.logs.String(), `"request_id":"req-1"`) {
		t.Fatal("logs lack the request id")
	}
}

func TestInvalidInputMakesNoECSCall(t *testing.T) {
	f := newFixture(t)
	enis := f.ecs.Instance(t, "i-a1", 1)
	tests := []struct {
		name    string
		payload string
		field   string
	}{
		{"not json", `{"NetworkInterfaceId":`, ""},
		{"null", `null`, ""},
		{"empty object", `{}`, "NetworkInterfaceId"},
		{"malformed eni", `{"NetworkInterfaceId":"ENI-1"}`, "NetworkInterfaceId"},
		{"malformed instance", `{"InstanceId":"instance-1"}`, "InstanceId"},
		{"wrong type", `{"NetworkInterfaceId":"eni-a1","Wait":"no"}`, "Wait"},
		{"bad region", `{"NetworkInterfaceId":"eni-a1","RegionId":"mars"}`, "RegionId"},
		{"oversized", `{"NetworkInterfaceId":"eni-a1","x":"` + strings.Repeat("a", eventschema.MaxPayloadBytes) + `"}`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := f.invoke(t, "bad", tc.payload)
			if err != nil {
				t.Fatalf("invalid input must return normally, got %v", err)
			}
			if resp.Error == nil || resp.Error.Code != "InvalidRequest" || len(resp.Results) != 0 {
				t.Fatalf("response %+v", resp)
			}
			if tc.field != "" && (len(resp.Error.Fields) == 0 || resp.Error.Fields[0].Field != tc.field || !strings.Contains(resp.Error.Message, tc.field)) {
				t.Fatalf("error does not name %s: %+v", tc.field, resp.Error)
			}
		})
	}
	if n := len(f.ecs.Srv.Calls()); n != 0 {
		t.Fatalf("%d ECS calls for invalid input", n)
	}
	// The process keeps serving.
	resp, err := f.invoke(t, "good", `{"NetworkInterfaceId":"`+enis[0]+`"}`)
	if err != nil || resp.Results[0].Outcome != eventschema.OutcomeDetached {
		t.Fatalf("next invocation: %+v %v", resp, err)
	}
}

func TestInvalidConfigurationFailsEveryInvocation(t *testing.T) {
	_, cfgErr := config.Load(func(k string) string {
		if k == config.EnvDetachTimeout {
			return "forever"
		}
		return ""
	})
	f := newFixture(t, func(d *handler.Deps) { d.ConfigErr = cfgErr })
	enis := f.ecs.Instance(t, "i-a1", 1)
	_, err := f.invoke(t, "r", `{"NetworkInterfaceId":"`+enis[0]+`"}`)
	if err == nil || !errors.Is(err, config.ErrInvalidConfiguration) || !strings.Contains(err.Error(), "DETACH_TIMEOUT") {
		t.Fatalf("want InvalidConfiguration naming DETACH_TIMEOUT, got %v", err)
	}
	if n := len(f.ecs.Srv.Calls()); n != 0 {
		t.Fatalf("%d ECS calls with an invalid configuration", n)
	}
}

func TestRetryableFailureIsReturnedAsError(t *testing.T) {
	f := newFixture(t)
	enis := f.ecs.Instance(t, "i-a1", 1)
	f.ecs.Srv.InjectError("DetachNetworkInterface", "ServiceUnavailable", 503, -1)
	resp, err := f.invoke(t, "r", `{"NetworkInterfaceId":"`+enis[0]+`"}`)
	var re *handler.RetryableError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), enis[0]) || !strings.Contains(err.Error(), "ServiceUnavailable") {
		t.Fatalf("want a RetryableError naming the ENI, got %v", err)
	}
	if len(resp.Results) != 1 || resp.Results[0].Outcome != eventschema.OutcomeFailed || !resp.Results[0].Error.Retryable {
		t.Fatalf("response %+v", resp)
	}
	// Nothing is lost: the error message carries the whole response.
	if !strings.Contains(err.Error(), `"outcome":"Failed"`) {
		t.Fatalf("error lacks the response: %v", err)
	}
}

// An instance whose ENIs cannot be listed gives a result without an ENI:
// the returned error names the instance instead.
func TestRetryableListingFailureNamesTheInstance(t *testing.T) {
	f := newFixture(t)
	f.ecs.Instance(t, "i-a1", 1)
	f.ecs.Srv.InjectError("DescribeNetworkInterfaces", "ServiceUnavailable", 503, -1)
	_, err := f.invoke(t, "r", `{"InstanceId":"i-a1"}`)
	var re *handler.RetryableError
	if !errors.As(err, &re) {
		t.Fatalf("want a RetryableError, got %v", err)
	}
	if want := "retryable failure: instance i-a1 (ServiceUnavailable)"; re.Reason != want {
		t.Fatalf("reason %q, want %q", re.Reason, want)
	}
}

func TestBatchWithBadElement(t *testing.T) {
	f := newFixture(t)
	enis := f.ecs.Instance(t, "i-a1", 2)
	payload := fmt.Sprintf(`[{"NetworkInterfaceId":%q}, {"NetworkInterfaceId":"nope"}, "{\"NetworkInterfaceId\":\"%s\"}"]`, enis[0], enis[1])
	resp, err := f.invoke(t, "r", payload)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Results) != 3 || resp.Error != nil {
		t.Fatalf("response %+v", resp)
	}
	want := []eventschema.Outcome{eventschema.OutcomeDetached, eventschema.OutcomeInvalidRequest, eventschema.OutcomeDetached}
	for i, r := range resp.Results {
		if r.Outcome != want[i] {
			t.Fatalf("result %d: %+v", i, r)
		}
	}
	if fe := resp.Results[1].Error; fe == nil || len(fe.Fields) == 0 || fe.Fields[0].Field != "[1].NetworkInterfaceId" {
		t.Fatalf("bad element error %+v", fe)
	}
	// Both good ENIs were polled together: one describe per poll tick.
	for _, c := range f.ecs.Srv.CallsFor("DescribeNetworkInterfaces") {
		if c.Params["NetworkInterfaceId.1"] == "" {
			t.Fatalf("a describe not by ENI id: %v", c.Params)
		}
	}
}

// TestConcurrentInvocationsKeepTheirCredentials runs invocations with
// different STS credentials at once and checks, from the emulator's log,
// that every call was signed with its own invocation's key and token.
func TestConcurrentInvocationsKeepTheirCredentials(t *testing.T) {
	f := newFixture(t)
	const n = 8
	type inv struct {
		c   creds.Credentials
		eni string
	}
	invs := make([]inv, n)
	for i := range invs {
		id := fmt.Sprintf("i-c%d", i)
		invs[i] = inv{c: testenv.NewCreds(f.ecs.Srv), eni: f.ecs.Instance(t, id, 1)[0]}
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	outs := make([]eventschema.Response, n)
	for i, v := range invs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := fcContext(fmt.Sprintf("req-%d", i), v.c, 10*time.Second)
			defer cancel()
			out, err := f.h.Invoke(ctx, []byte(`{"NetworkInterfaceId":"`+v.eni+`"}`))
			errs[i], outs[i] = err, asResponse(t, out)
		}()
	}
	wg.Wait()
	tokenOf := map[string]string{}
	eniOf := map[string]string{}
	for i, v := range invs {
		if errs[i] != nil || len(outs[i].Results) != 1 || outs[i].Results[0].Outcome != eventschema.OutcomeDetached {
			t.Fatalf("invocation %d: %v %+v", i, errs[i], outs[i])
		}
		tokenOf[v.c.AccessKeyID] = v.c.SecurityToken
		eniOf[v.c.AccessKeyID] = v.eni
	}
	calls := f.ecs.Srv.Calls()
	if len(calls) < 3*n {
		t.Fatalf("only %d calls", len(calls))
	}
	for _, c := range calls {
		if c.Code != "" {
			t.Fatalf("call failed: %+v", c)
		}
		if tokenOf[c.AccessKeyID] != c.SecurityToken {
			t.Fatalf("call signed by %s carried another invocation's token", c.AccessKeyID)
		}
		if got := c.Params["NetworkInterfaceId"] + c.Params["NetworkInterfaceId.1"]; got != eniOf[c.AccessKeyID] {
			t.Fatalf("key %s was used for %s, its invocation named %s", c.AccessKeyID, got, eniOf[c.AccessKeyID])
		}
	}
}
