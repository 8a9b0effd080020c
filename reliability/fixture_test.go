package reliability_test

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"
	"github.com/rs/zerolog"

	"github.com/eni-detach/eni-detach/eventschema"
	"github.com/eni-detach/eni-detach/eventschema/schema"
	"github.com/eni-detach/eni-detach/handler"
	"github.com/eni-detach/eni-detach/internal/config"
	"github.com/eni-detach/eni-detach/internal/creds"
	"github.com/eni-detach/eni-detach/internal/crossaccount"
	"github.com/eni-detach/eni-detach/internal/detach"
	"github.com/eni-detach/eni-detach/internal/ecsapi"
	ecsemu "github.com/eni-detach/eni-detach/internal/emulator/ecs"
	"github.com/eni-detach/eni-detach/internal/testenv"
)

const (
	accountID    = "1234567890123456"
	functionName = "eni-detach"
)

// opts shape one env. The zero value is the production wiring pointed at
// the emulators, with testenv.FastPolicy and a bus.
type opts struct {
	ecsOpts []ecsemu.Option
	policy  func(*detach.Policy)
	// maxCall is the ECS adapter's per-call budget (ecsapi
	// Options.MaxCallTimeout); 0 keeps the production 10 s.
	maxCall time.Duration
	deps    func(*handler.Deps)
	noBus   bool
	// crossAccount adds an STS emulator on the ECS emulator's accounts, the
	// member account's role (trusting the env's credentials), and the
	// function configured to act in that account.
	crossAccount bool
}

// env is one handler wired to its own ECS and EventBridge emulators; both
// accept the same STS triple, which every invocation carries.
type env struct {
	ecs   *testenv.ECS
	eb    *testenv.EventBridge
	h     *handler.Handler
	logs  *testenv.LogBuffer
	creds creds.Credentials
	sts   *testenv.STS // nil unless opts.crossAccount
}

func newEnv(t *testing.T, o opts) *env {
	t.Helper()
	e := &env{ecs: testenv.StartECS(t, o.ecsOpts...), logs: &testenv.LogBuffer{}}
	e.creds = e.ecs.Creds
	e.eb = testenv.StartEventBridge(t, e.creds)
	if o.crossAccount {
		e.sts = testenv.StartSTS(t, e.ecs)
		testenv.AddMemberRole(t, e.ecs.Srv.Identity(), testenv.MemberAccount, "")
	}
	e.h = e.handler(o)
	t.Cleanup(func() {
		// Whatever a test looks at, every event the bus accepted must
		// match the published schema.
		for _, r := range e.eb.Srv.Events() {
			if err := schema.ValidateFollowUpEvent(r.Event); err != nil {
				t.Errorf("event on the bus breaks the schema: %v\n%s", err, r.Event)
			}
		}
	})
	return e
}

// handler builds a handler on the env's emulators: the production wiring
// with testenv.FastPolicy, changed by o.
func (e *env) handler(o opts) *handler.Handler {
	p := testenv.FastPolicy()
	if o.policy != nil {
		o.policy(&p)
	}
	factory := e.ecs.Factory
	if o.maxCall > 0 {
		factory = ecsapi.NewFactory(ecsapi.Options{Endpoint: e.ecs.URL, MaxCallTimeout: o.maxCall})
	}
	d := handler.Deps{
		Config: config.Default(),
		ECS:    factory,
		Engine: detach.NewEngine(p),
		Logger: zerolog.New(e.logs).With().Timestamp().Logger(),
	}
	if !o.noBus {
		d.Config.EventBusName = e.eb.Bus
		d.Publisher = e.eb.Publisher()
	}
	if e.sts != nil {
		d.Config.TargetRoleARN = "acs:ram::" + config.AccountPlaceholder + ":role/" + testenv.MemberRoleName
		d.Config.TargetAccounts = config.TargetAccounts{IDs: []string{testenv.MemberAccount}}
		d.CrossAccount = crossaccount.NewCache(e.sts.Client)
	}
	if o.deps != nil {
		o.deps(&d)
	}
	return handler.New(d)
}

// assumedCreds are the credentials STS issued (as STS issued them): the
// member account's role's, as secret as the invocation's.
func (e *env) assumedCreds() []creds.Credentials {
	if e.sts == nil {
		return nil
	}
	var out []creds.Credentials
	for _, c := range e.sts.Srv.Calls() {
		if c.Issued != "" {
			out = append(out, c.IssuedCredentials)
		}
	}
	return out
}

// memberENI adds a Running instance of the member account with one InUse
// secondary ENI and returns the ENI's id.
func (e *env) memberENI(t *testing.T, instanceID string) string {
	t.Helper()
	mustOK(t, e.ecs.Srv.AddInstance(ecsemu.Instance{ID: instanceID, Account: testenv.MemberAccount}))
	id := "eni-" + strings.TrimPrefix(instanceID, "i-") + "000"
	mustOK(t, e.ecs.Srv.AddENI(ecsemu.ENI{ID: id, Account: testenv.MemberAccount, InstanceID: instanceID}))
	return id
}

// useCreds makes both emulators accept c and every later invocation carry it.
func (e *env) useCreds(c creds.Credentials) {
	e.ecs.Srv.AddCredentials(c)
	e.eb.Srv.AddCredentials(c)
	e.creds = c
}

// fcContext is what fc.Start builds for an invocation.
func fcContext(requestID string, c creds.Credentials, timeout time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	return fccontext.NewContext(ctx, &fccontext.FcContext{
		RequestID:   requestID,
		Credentials: fccontext.Credentials{AccessKeyId: c.AccessKeyID, AccessKeySecret: c.AccessKeySecret, SecurityToken: c.SecurityToken},
		Region:      testenv.Region,
		AccountId:   accountID,
		Function:    fccontext.Function{Name: functionName, Timeout: int(timeout / time.Second)},
	}), cancel
}

// outcome is one invocation as FC would see it.
type outcome struct {
	out      any // the handler's value, before FC's JSON encoding
	resp     eventschema.Response
	err      error
	deadline time.Time
	returned time.Time
}

// invoke runs one invocation with the env's credentials and a deadline
// timeout from now.
func (e *env) invoke(t *testing.T, requestID, payload string, timeout time.Duration) outcome {
	t.Helper()
	return e.invokeWith(t, requestID, e.creds, payload, timeout)
}

func (e *env) invokeWith(t *testing.T, requestID string, c creds.Credentials, payload string, timeout time.Duration) outcome {
	t.Helper()
	o := e.invokeRaw(requestID, c, payload, timeout)
	o.resp = asResponse(t, o.out)
	return o
}

// invokeRaw is invoke for other goroutines than the test's (which must
// not call t.Fatal): the caller decodes resp with asResponse.
func (e *env) invokeRaw(requestID string, c creds.Credentials, payload string, timeout time.Duration) outcome {
	ctx, cancel := fcContext(requestID, c, timeout)
	defer cancel()
	dl, _ := ctx.Deadline()
	out, err := e.h.Invoke(ctx, []byte(payload))
	return outcome{out: out, err: err, deadline: dl, returned: time.Now()}
}

// asResponse round-trips the handler's value through JSON, as fc.Start
// does; for an HTTP answer it decodes the body.
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
	var http struct {
		StatusCode *int   `json:"statusCode"`
		Body       string `json:"body"`
	}
	if json.Unmarshal(b, &http) == nil && http.StatusCode != nil {
		b = []byte(http.Body)
	}
	if err := json.Unmarshal(b, &resp); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return resp
}

// busEvent is one event the EventBridge emulator accepted, decoded.
type busEvent struct {
	raw json.RawMessage
	ev  eventschema.FollowUpEvent
}

func (e *env) busEvents(t *testing.T) []busEvent {
	t.Helper()
	var out []busEvent
	for _, r := range e.eb.Srv.EventsForBus(e.eb.Bus) {
		var ev eventschema.FollowUpEvent
		if err := json.Unmarshal(r.Event, &ev); err != nil {
			t.Fatalf("%v: %s", err, r.Event)
		}
		out = append(out, busEvent{raw: r.Event, ev: ev})
	}
	return out
}

// detachCalls is how many DetachNetworkInterface calls reached the ECS
// emulator, answered or not.
func (e *env) detachCalls() int { return len(e.ecs.Srv.CallsFor("DetachNetworkInterface")) }

// accepted is the emulator's count of accepted detaches of one ENI.
func (e *env) accepted(t *testing.T, eniID string) int {
	t.Helper()
	eni, ok := e.ecs.Srv.GetENI(eniID)
	if !ok {
		t.Fatalf("no ENI %s in the emulator", eniID)
	}
	return eni.DetachCalls
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// eniRequest is a direct request naming an ENI and its instance.
func eniRequest(eni, instance string) string {
	return `{"NetworkInterfaceId":"` + eni + `","InstanceId":"` + instance + `"}`
}

// httpEvent is an FC HTTP trigger event carrying body.
func httpEvent(method, requestID, body string, base64Encoded bool) string {
	ev := map[string]any{
		"version": "v1", "rawPath": "/detach", "body": body, "isBase64Encoded": base64Encoded,
		"headers": map[string]string{"Content-Type": "application/json"},
		"requestContext": map[string]any{
			"accountId": accountID, "requestId": requestID,
			"http": map[string]string{"method": method, "path": "/detach", "sourceIp": "192.0.2.10"},
		},
	}
	b, _ := json.Marshal(ev)
	return string(b)
}

// secretForms are the spellings a secret can take in text: as is, and
// percent-encoded once or twice (a query string, a string to sign).
func secretForms(s string) []string {
	once := url.QueryEscape(s)
	forms := []string{s, once, url.QueryEscape(once), strings.ReplaceAll(once, "+", "%20")}
	var out []string
	for _, f := range forms {
		if f != "" && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}
