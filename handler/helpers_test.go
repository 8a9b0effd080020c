package handler_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"
	"github.com/rs/zerolog"

	"github.com/eni-detach/eni-detach/eventschema"
	"github.com/eni-detach/eni-detach/handler"
	"github.com/eni-detach/eni-detach/internal/config"
	"github.com/eni-detach/eni-detach/internal/creds"
	"github.com/eni-detach/eni-detach/internal/detach"
	ecsemu "github.com/eni-detach/eni-detach/internal/emulator/ecs"
	"github.com/eni-detach/eni-detach/internal/testenv"
)

type fixture struct {
	ecs  *testenv.ECS
	h    *handler.Handler
	logs *testenv.LogBuffer
	cfg  config.Config
}

type option func(*handler.Deps)

func newFixture(t *testing.T, opts ...option) *fixture {
	t.Helper()
	return newFixtureWith(t, nil, opts...)
}

// newFixtureWith also passes options to the ECS emulator.
func newFixtureWith(t *testing.T, ecsOpts []ecsemu.Option, opts ...option) *fixture {
	t.Helper()
	env := testenv.StartECS(t, ecsOpts...)
	logs := &testenv.LogBuffer{}
	d := handler.Deps{
		Config: config.Default(),
		ECS:    env.Factory,
		Engine: &detach.Engine{Policy: testenv.FastPolicy()},
		Logger: zerologTo(logs),
	}
	for _, o := range opts {
		o(&d)
	}
	return &fixture{ecs: env, h: handler.New(d), logs: logs, cfg: d.Config}
}

// fcContext is what fc.Start builds for an invocation.
func fcContext(requestID string, c creds.Credentials, timeout time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	return fccontext.NewContext(ctx, &fccontext.FcContext{
		RequestID:   requestID,
		Credentials: fccontext.Credentials{AccessKeyId: c.AccessKeyID, AccessKeySecret: c.AccessKeySecret, SecurityToken: c.SecurityToken},
		Region:      testenv.Region,
		AccountId:   "1234567890123456",
		Function:    fccontext.Function{Name: "eni-detach", Timeout: int(timeout / time.Second)},
	}), cancel
}

// invoke runs one invocation with the fixture's credentials.
func (f *fixture) invoke(t *testing.T, requestID, payload string) (eventschema.Response, error) {
	t.Helper()
	ctx, cancel := fcContext(requestID, f.ecs.Creds, 10*time.Second)
	defer cancel()
	out, err := f.h.Invoke(ctx, []byte(payload))
	return asResponse(t, out), err
}

// asResponse round-trips the handler's value through JSON, as fc.Start
// does, so tests see what FC returns.
func asResponse(t *testing.T, out any) eventschema.Response {
	t.Helper()
	var resp eventschema.Response
	if out == nil {
		return resp
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &resp); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return resp
}

func zerologTo(w *testenv.LogBuffer) zerolog.Logger {
	return zerolog.New(w).With().Timestamp().Logger()
}
