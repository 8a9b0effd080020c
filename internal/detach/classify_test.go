package detach_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/eni-detach/eni-detach/eventschema"
	"github.com/eni-detach/eni-detach/internal/creds"
	"github.com/eni-detach/eni-detach/internal/detach"
	"github.com/eni-detach/eni-detach/internal/ecsapi"
	"github.com/eni-detach/eni-detach/internal/testenv"
)

// httpStatusOf gives each injected code the status ECS answers it with.
func httpStatusOf(code string, rule detach.Rule) int {
	switch {
	case code == "InternalError" || code == "UnknownError":
		return 500
	case code == "ServiceUnavailable":
		return 503
	case strings.HasSuffix(code, ".NotFound") && !strings.HasPrefix(code, "InvalidAccessKeyId") && code != "Abs.InvalidAccount.NotFound" && code != "InvalidInstanceId.NotFound":
		return 404
	case rule.Class == detach.ClassPermission || rule.Class == detach.ClassConflict:
		return 403
	}
	return 400
}

// TestEveryCodeThroughTheEmulator injects each code of the table once on
// DetachNetworkInterface and checks what the engine makes of it, through
// the real SDK client.
func TestEveryCodeThroughTheEmulator(t *testing.T) {
	for code, rule := range detach.CodeTable {
		if strings.HasPrefix(code, "Transport.") || strings.HasPrefix(code, "Client.") {
			continue // the adapter's own codes; see TestTransportFailures
		}
		t.Run(code, func(t *testing.T) {
			t.Parallel()
			env, p, _ := virtualECS(t)
			enis := env.Instance(t, "i-a1", 1)
			env.Srv.InjectError("DetachNetworkInterface", code, httpStatusOf(code, rule), 1)
			r := runOne(t, env, p, detach.Target{RegionID: region, NetworkInterfaceID: enis[0], InstanceID: "i-a1", Wait: true})
			switch rule.Class {
			case detach.ClassRetryable, detach.ClassStateConditional:
				// Retried (after a re-describe for state errors) and done.
				if r.Outcome != eventschema.OutcomeDetached || r.DetachAttempts != 2 {
					t.Fatalf("%s: result %+v %+v", rule.Class, r, r.Error)
				}
			case detach.ClassAlreadyDone:
				if r.Outcome != eventschema.OutcomeNotFound || r.Error.Code != code {
					t.Fatalf("result %+v %+v", r, r.Error)
				}
			default:
				if r.Outcome != rule.Outcome || r.Error == nil || r.Error.Code != code || r.DetachAttempts != 1 {
					t.Fatalf("outcome %s want %s; %+v", r.Outcome, rule.Outcome, r.Error)
				}
				if r.Error.RequestID == "" || r.Error.Retryable {
					t.Fatalf("error %+v: want the ECS request id and not retryable", r.Error)
				}
			}
		})
	}
}

func TestStateErrorUntilTheBudgetEnds(t *testing.T) {
	env, p, _ := virtualECS(t)
	enis := env.Instance(t, "i-a1", 1)
	env.Srv.InjectError("DetachNetworkInterface", "InvalidOperation.InvalidEcsState", 400, -1)
	p.DetachTimeout = 600 * time.Millisecond
	r := runOne(t, env, p, detach.Target{RegionID: region, NetworkInterfaceID: enis[0], Wait: true})
	if r.Outcome != eventschema.OutcomeFailed || r.Error == nil || !r.Error.Retryable || r.Error.Code != "InvalidOperation.InvalidEcsState" {
		t.Fatalf("result %+v %+v", r, r.Error)
	}
	if r.DetachAttempts < 2 {
		t.Fatalf("a passing state must be retried, got %d attempts", r.DetachAttempts)
	}
}

func TestTransportFailures(t *testing.T) {
	for _, tc := range []struct {
		name   string
		inject func(env *testenv.ECS)
	}{
		{"reset", func(env *testenv.ECS) { env.Srv.InjectReset("DetachNetworkInterface", 1) }},
		{"5xx without code", func(env *testenv.ECS) { env.Srv.InjectError("DetachNetworkInterface", "", 502, 1) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, p, _ := virtualECS(t)
			enis := env.Instance(t, "i-a1", 1)
			tc.inject(env)
			r := runOne(t, env, p, detach.Target{RegionID: region, NetworkInterfaceID: enis[0], Wait: true})
			if r.Outcome != eventschema.OutcomeDetached || r.DetachAttempts != 2 {
				t.Fatalf("result %+v %+v", r, r.Error)
			}
		})
	}
}

func TestRealAuthFailuresArePermissionDenied(t *testing.T) {
	env := testenv.StartECS(t)
	enis := env.Instance(t, "i-a1", 1)
	other := testenv.NewCreds(env.Srv)
	for _, tc := range []struct {
		name string
		c    creds.Credentials
		code string
	}{
		{"wrong secret", creds.Credentials{AccessKeyID: env.Creds.AccessKeyID, AccessKeySecret: "nope-secret", SecurityToken: env.Creds.SecurityToken}, "SignatureDoesNotMatch"},
		{"token of another key", creds.Credentials{AccessKeyID: env.Creds.AccessKeyID, AccessKeySecret: env.Creds.AccessKeySecret, SecurityToken: other.SecurityToken}, "InvalidSecurityToken.MismatchWithAccessKey"},
		{"unknown key", creds.Credentials{AccessKeyID: "LTAIunknown", AccessKeySecret: "s3cr3t-value"}, "InvalidAccessKeyId.NotFound"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reps := (&detach.Engine{Policy: testenv.FastPolicy()}).Run(context.Background(), detach.Single(env.Factory.Client(tc.c)),
				[]detach.Target{{RegionID: region, NetworkInterfaceID: enis[0], Wait: true}})
			r := reps[0].Results[0]
			if r.Outcome != eventschema.OutcomePermissionDenied || r.Error == nil || r.Error.Code != tc.code {
				t.Fatalf("result %+v %+v", r, r.Error)
			}
			for _, s := range tc.c.Secrets() {
				if strings.Contains(r.Error.Message, s) {
					t.Fatalf("error message leaks a secret: %s", r.Error.Message)
				}
			}
		})
	}
}

func TestClassifyUnknownCodes(t *testing.T) {
	cases := []struct {
		err       error
		class     detach.Class
		retryable bool
	}{
		{&ecsapi.Error{Kind: ecsapi.KindServer, Code: "Brand.NewCode", HTTPStatus: 400}, detach.ClassUnknown, false},
		{&ecsapi.Error{Kind: ecsapi.KindServer, Code: "Brand.NewCode", HTTPStatus: 503}, detach.ClassRetryable, true},
		{&ecsapi.Error{Kind: ecsapi.KindServer, Code: "Throttling.Something", HTTPStatus: 400}, detach.ClassRetryable, true},
		{&ecsapi.Error{Kind: ecsapi.KindServer, Code: "Forbidden.Whatever", HTTPStatus: 403}, detach.ClassPermission, false},
		{context.Canceled, detach.ClassUnknown, false},
	}
	for _, c := range cases {
		r := detach.Classify(c.err)
		if r.Class != c.class || r.Retryable != c.retryable {
			t.Errorf("Classify(%v) = %+v", c.err, r)
		}
	}
}
