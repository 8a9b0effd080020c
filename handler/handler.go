// Package handler is one invocation, end to end: recognise the payload,
// plan the detaches, run them, publish the follow-up events, answer.
package handler

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"
	"github.com/rs/zerolog"

	"github.com/eni-detach/eni-detach/eventschema"
	"github.com/eni-detach/eni-detach/internal/config"
	"github.com/eni-detach/eni-detach/internal/creds"
	"github.com/eni-detach/eni-detach/internal/crossaccount"
	"github.com/eni-detach/eni-detach/internal/detach"
	"github.com/eni-detach/eni-detach/internal/ecsapi"
)

// ECSClients makes an ECS client bound to one invocation's credentials.
type ECSClients interface {
	Client(creds.Credentials) ecsapi.API
}

var _ ECSClients = (*ecsapi.Factory)(nil)

// Deps is everything a Handler needs; main wires the production ones,
// tests the emulator-backed ones.
type Deps struct {
	Config config.Config
	// ConfigErr, when set, makes every invocation fail without an ECS
	// call (README, "Configuration").
	ConfigErr error
	ECS       ECSClients
	// CrossAccount gets member accounts' credentials (STS AssumeRole,
	// cached for the process); nil when TARGET_ROLE_ARN is unset.
	CrossAccount *crossaccount.Cache
	Publisher    Publisher
	Engine       *detach.Engine
	Logger       zerolog.Logger
	// Getenv reads the fallbacks (FC_REGION, ALIBABA_CLOUD_*); os.Getenv
	// in production.
	Getenv func(string) string
}

// Handler serves invocations. It is safe for concurrent use: everything
// per invocation (credentials, logger, deadline) lives in the context or
// on the stack.
type Handler struct {
	d  Deps
	rc eventschema.Recogniser
}

// New returns a Handler.
func New(d Deps) *Handler {
	if d.Getenv == nil {
		d.Getenv = func(string) string { return "" }
	}
	if d.Engine == nil {
		d.Engine = detach.NewEngine(detach.DefaultPolicy(d.Config))
	}
	return &Handler{d: d, rc: eventschema.Recogniser{MaintenanceLead: d.Config.MaintenanceLead}}
}

// Config returns the configuration the handler runs with.
func (h *Handler) Config() config.Config { return h.d.Config }

// invocation is what FC tells about the current call.
type invocation struct {
	requestID    string
	creds        creds.Credentials
	region       string
	accountID    string
	functionName string
	// source is the follow-up events' source (see eventSource), worked
	// out once: the loop guard and the publisher both use it.
	source string
}

// meta reads the FC context once (fccontext.FromContext rebuilds state on
// every call) and fills gaps from the environment.
func (h *Handler) meta(ctx context.Context) invocation {
	var inv invocation
	if fc, ok := fccontext.FromContext(ctx); ok {
		inv = invocation{
			requestID:    fc.RequestID,
			region:       fc.Region,
			accountID:    fc.AccountId,
			functionName: fc.Function.Name,
			creds: creds.Credentials{
				AccessKeyID:     fc.Credentials.AccessKeyId,
				AccessKeySecret: fc.Credentials.AccessKeySecret,
				SecurityToken:   fc.Credentials.SecurityToken,
			},
		}
	}
	env := h.d.Getenv
	if !inv.creds.Valid() {
		inv.creds = creds.Credentials{
			AccessKeyID:     env("ALIBABA_CLOUD_ACCESS_KEY_ID"),
			AccessKeySecret: env("ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
			SecurityToken:   env("ALIBABA_CLOUD_SECURITY_TOKEN"),
		}
	}
	if inv.region == "" {
		inv.region = env("FC_REGION")
	}
	if inv.accountID == "" {
		inv.accountID = env("FC_ACCOUNT_ID")
	}
	if inv.functionName == "" {
		inv.functionName = env("FC_FUNCTION_NAME")
	}
	inv.source = h.eventSource(inv)
	return inv
}

// eventSource is the source of this invocation's follow-up events:
// EVENT_SOURCE, else the function's ARN, which is known only once FC has
// named the function (or from FC_REGION / FC_ACCOUNT_ID /
// FC_FUNCTION_NAME). The loop guard compares with the same value, so it
// holds whether or not EVENT_SOURCE is set.
func (h *Handler) eventSource(inv invocation) string {
	if h.d.Config.EventSource != "" {
		return h.d.Config.EventSource
	}
	return eventschema.FunctionARN(inv.region, inv.accountID, inv.functionName)
}

// Invoke is the FC handler: func(context.Context, []byte) (any, error).
// The SDK passes []byte payloads through untouched and JSON-encodes the
// returned value.
func (h *Handler) Invoke(ctx context.Context, payload []byte) (any, error) {
	inv := h.meta(ctx)
	lg := h.d.Logger.With().Str("request_id", inv.requestID).Logger()
	ctx = lg.WithContext(ctx)
	start := time.Now()

	rc := h.rc
	rc.OwnSource = inv.source
	rec, recErr := rc.Recognise(payload)
	if rec.HTTP != nil {
		resp := h.serveHTTP(ctx, inv, rec.HTTP)
		lg.Info().Int("status_code", resp.StatusCode).Dur("duration_ms", time.Since(start)).Msg("http invocation done")
		return resp, nil
	}
	if h.d.ConfigErr != nil {
		lg.Error().Err(h.d.ConfigErr).Msg("invalid configuration: no ECS call made")
		return nil, h.d.ConfigErr
	}
	if recErr != nil {
		resp := invalidResponse(recErr)
		lg.Warn().Err(recErr).Msg("invalid request: no ECS call made")
		return resp, nil
	}
	resp := h.process(ctx, inv, rec.Items)
	err := invocationError(resp)
	logDone(lg, resp, err, time.Since(start))
	return resp, err
}

// invalidResponse is the answer to an unusable payload.
func invalidResponse(err error) eventschema.Response {
	te := &eventschema.TopError{Code: eventschema.CodeInvalidRequest, Message: err.Error()}
	var v *eventschema.ValidationError
	if errors.As(err, &v) {
		te.Fields = v.Fields
	}
	return eventschema.Response{Error: te}
}

// RetryableError is returned to FC (non-HTTP invocations) when a retry of
// the invocation could do better: an ENI failed with a retryable error, or
// the follow-up events were not published. Its message carries the whole
// response so that nothing is lost when FC keeps only the error.
type RetryableError struct {
	Reason   string
	Response eventschema.Response
}

func (e *RetryableError) Error() string {
	b, _ := json.Marshal(e.Response)
	return e.Reason + "; response: " + string(b)
}

func invocationError(resp eventschema.Response) error {
	var failed []string
	for _, r := range resp.Results {
		if r.Retryable() {
			// A result names no ENI when the instance's ENIs could not
			// be listed: name the instance then.
			what := r.NetworkInterfaceID
			if what == "" {
				what = "instance " + r.InstanceID
			}
			failed = append(failed, what+" ("+r.Error.Code+")")
		}
	}
	var reasons []string
	if len(failed) > 0 {
		noun := "retryable failure"
		if len(failed) > 1 {
			noun += "s"
		}
		reasons = append(reasons, noun+": "+strings.Join(failed, ", "))
	}
	if resp.PublishError != "" {
		reasons = append(reasons, "follow-up events not published: "+resp.PublishError)
	}
	if len(reasons) == 0 {
		return nil
	}
	return &RetryableError{Reason: strings.Join(reasons, "; "), Response: resp}
}

func logDone(lg zerolog.Logger, resp eventschema.Response, err error, d time.Duration) {
	counts := zerolog.Dict()
	byOutcome := map[eventschema.Outcome]int{}
	for _, r := range resp.Results {
		byOutcome[r.Outcome]++
	}
	for o, n := range byOutcome {
		counts.Int(string(o), n)
	}
	ev := lg.Info()
	if err != nil {
		ev = lg.Error().Err(err)
	}
	ev.Int("results", len(resp.Results)).Dict("outcomes", counts).Int("skipped", len(resp.Skipped)).
		Str("ignored", resp.Ignored).Int("published", resp.Published).Str("publish_error", resp.PublishError).
		Dur("duration_ms", d).Msg("invocation done")
}
