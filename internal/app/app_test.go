package app_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"github.com/eni-detach/eni-detach/eventschema"
	"github.com/eni-detach/eni-detach/internal/app"
	"github.com/eni-detach/eni-detach/internal/config"
	ecsemu "github.com/eni-detach/eni-detach/internal/emulator/ecs"
	"github.com/eni-detach/eni-detach/internal/testenv"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// TestProductionWiring runs the handler exactly as main builds it, with
// the env credentials fallback, against the emulators.
func TestProductionWiring(t *testing.T) {
	ecs := testenv.StartECS(t)
	eb := testenv.StartEventBridge(t, ecs.Creds)
	enis := ecs.Instance(t, "i-a1", 1)
	logs := &testenv.LogBuffer{}
	h, err := app.New(env(map[string]string{
		config.EnvECSEndpoint: ecs.URL.String(), config.EnvEventBridgeEndpoint: eb.URL, config.EnvEventBusName: eb.Bus,
		"ALIBABA_CLOUD_ACCESS_KEY_ID": ecs.Creds.AccessKeyID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": ecs.Creds.AccessKeySecret,
		"ALIBABA_CLOUD_SECURITY_TOKEN": ecs.Creds.SecurityToken, "FC_REGION": testenv.Region, "FC_ACCOUNT_ID": "1234567890123456",
		"FC_FUNCTION_NAME": "eni-detach",
	}), logs, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// An FC context without credentials: the role's env credentials are used.
	ctx = fccontext.NewContext(ctx, &fccontext.FcContext{RequestID: "wired-1"})
	out, err := h.Invoke(ctx, []byte(`{"NetworkInterfaceId":"`+enis[0]+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp := out.(eventschema.Response)
	if len(resp.Results) != 1 || resp.Results[0].Outcome != eventschema.OutcomeDetached || resp.Published != 1 {
		t.Fatalf("response %+v", resp)
	}
	if got := eb.Srv.Events(); len(got) != 1 || !strings.Contains(string(got[0].Event), `"source":"acs:fc:cn-hangzhou:1234567890123456:functions/eni-detach"`) {
		t.Fatalf("events %+v", got)
	}
	for _, s := range ecs.Creds.Secrets() {
		if strings.Contains(logs.String(), s) {
			t.Fatal("a secret reached the logs")
		}
	}
	if !strings.Contains(logs.String(), `"message":"configuration loaded"`) {
		t.Fatalf("the configuration was not logged at start-up:\n%s", logs)
	}
}

func TestInvalidConfigurationIsLoggedAtStartUp(t *testing.T) {
	logs := &testenv.LogBuffer{}
	h, err := app.New(env(map[string]string{config.EnvDetachTimeout: "soon", config.EnvTagSelector: "=x"}), logs, app.Options{})
	if !errors.Is(err, config.ErrInvalidConfiguration) || h == nil {
		t.Fatalf("err %v, handler %v", err, h)
	}
	for _, want := range []string{`"level":"error"`, "DETACH_TIMEOUT", "ENI_TAG_SELECTOR"} {
		if !strings.Contains(logs.String(), want) {
			t.Fatalf("start-up log lacks %q:\n%s", want, logs)
		}
	}
	_, invErr := h.Invoke(context.Background(), []byte(`{"NetworkInterfaceId":"eni-a1"}`))
	if !errors.Is(invErr, config.ErrInvalidConfiguration) {
		t.Fatalf("invocation error %v", invErr)
	}
}

// TestCrossAccountWiring: with TARGET_* and STS_ENDPOINT set, main's
// handler detaches a member account's ENI through STS, and a start-up
// warning names TARGET_ACCOUNTS=*.
func TestCrossAccountWiring(t *testing.T) {
	ecs := testenv.StartECS(t)
	sts := testenv.StartSTS(t, ecs)
	testenv.AddMemberRole(t, ecs.Srv.Identity(), testenv.MemberAccount, "org-ext-1")
	if err := ecs.Srv.AddInstance(ecsemu.Instance{ID: "i-mem1", Account: testenv.MemberAccount}); err != nil {
		t.Fatal(err)
	}
	if err := ecs.Srv.AddENI(ecsemu.ENI{ID: "eni-mem1", Account: testenv.MemberAccount, InstanceID: "i-mem1"}); err != nil {
		t.Fatal(err)
	}
	logs := &testenv.LogBuffer{}
	h, err := app.New(env(map[string]string{
		config.EnvECSEndpoint: ecs.URL.String(), config.EnvSTSEndpoint: sts.URL.String(),
		config.EnvTargetRoleARN: "acs:ram::{accountId}:role/" + testenv.MemberRoleName, config.EnvTargetAccounts: "*",
		config.EnvTargetRoleExternalID: "org-ext-1",
		"ALIBABA_CLOUD_ACCESS_KEY_ID":  ecs.Creds.AccessKeyID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": ecs.Creds.AccessKeySecret,
		"ALIBABA_CLOUD_SECURITY_TOKEN": ecs.Creds.SecurityToken, "FC_REGION": testenv.Region, "FC_ACCOUNT_ID": "1234567890123456",
	}), logs, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), `"level":"warn"`) || !strings.Contains(logs.String(), "TARGET_ACCOUNTS is *") {
		t.Fatalf("no start-up warning for *:\n%s", logs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ctx = fccontext.NewContext(ctx, &fccontext.FcContext{RequestID: "wired-x"})
	out, err := h.Invoke(ctx, []byte(`{"NetworkInterfaceId":"eni-mem1","AccountId":"`+testenv.MemberAccount+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp := out.(eventschema.Response)
	if len(resp.Results) != 1 || resp.Results[0].Outcome != eventschema.OutcomeDetached || resp.Results[0].AccountID != testenv.MemberAccount {
		t.Fatalf("response %+v", resp)
	}
	if calls := sts.Srv.Calls(); len(calls) != 1 || calls[0].Params["ExternalId"] != "org-ext-1" {
		t.Fatalf("STS calls %+v", calls)
	}
}
