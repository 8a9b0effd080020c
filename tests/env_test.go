package tests

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eni-detach/eni-detach/eventschema"
	"github.com/eni-detach/eni-detach/internal/creds"
	ecsemu "github.com/eni-detach/eni-detach/internal/emulator/ecs"
	ebemu "github.com/eni-detach/eni-detach/internal/emulator/eventbridge"
	"github.com/eni-detach/eni-detach/internal/emulator/fcruntime"
	stsemu "github.com/eni-detach/eni-detach/internal/emulator/sts"
)

const (
	region    = "cn-hangzhou"
	accountID = "1234567890123456"
	busName   = "eni-detach-e2e"
	// detachDelay keeps the emulated Detaching → Available short; the
	// binary still polls on the production schedule (first look 1 s after
	// the detach call), so a detach shows up as Detached after about 1 s.
	detachDelay = 300 * time.Millisecond
	// fnTimeout is the FC function timeout of every invocation: long enough
	// that the 3 s deadline margin never cuts a test's wait short.
	fnTimeout = 30 * time.Second
)

// env is one emulated FC instance running the built binary, with its own
// ECS and EventBridge emulators.
type env struct {
	ecs *ecsemu.Server
	eb  *ebemu.Server
	// sts shares ecs's accounts; nil unless the env was started with it
	// (crossaccount_test.go).
	sts  *stsemu.Server
	fc   *fcruntime.Server
	proc *fcruntime.Process
	ctx  context.Context

	mu    sync.Mutex
	creds map[string]creds.Credentials // by invocation request id
}

// startEnv starts the emulators and the binary; extraEnv adds to (and
// overrides) the function's environment. Everything stops at cleanup.
func startEnv(t *testing.T, extraEnv ...string) *env {
	t.Helper()
	return startEnvWith(t, nil, extraEnv...)
}

// startEnvWith is startEnv with a setup step between starting the
// emulators and starting the binary; the environment it returns comes
// before extraEnv.
func startEnvWith(t *testing.T, setup func(e *env) []string, extraEnv ...string) *env {
	t.Helper()
	needBinary(t)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Second)
	t.Cleanup(cancel)

	ecs, err := ecsemu.Start(ecsemu.WithDetachDelay(detachDelay))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ecs.Close() })
	eb := ebemu.New()
	if err := eb.Start(""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = eb.Close() })
	eb.AddBus(busName)

	fc, err := fcruntime.NewServer(fcruntime.Config{
		Region: region, AccountID: accountID, FunctionName: "eni-detach", Timeout: fnTimeout,
	})
	if err != nil {
		t.Fatal(err)
	}
	fnEnv := []string{
		"ECS_ENDPOINT=" + ecs.URL(),
		"EVENTBRIDGE_ENDPOINT=" + eb.URL(),
		"EVENT_BUS_NAME=" + busName,
		"REDETACH_AFTER=1500ms",
		"LOG_LEVEL=debug",
	}
	e := &env{ecs: ecs, eb: eb, fc: fc, ctx: ctx, creds: map[string]creds.Credentials{}}
	if setup != nil {
		fnEnv = append(fnEnv, setup(e)...)
	}
	fnEnv = append(fnEnv, extraEnv...)
	// The process outlives the test's context (cancelled before cleanups
	// run, which would SIGKILL it): cleanup stops it, and then checks that
	// it had not exited on its own.
	procCtx, procCancel := context.WithCancel(context.WithoutCancel(t.Context()))
	proc, err := fc.StartProcess(procCtx, built.bin, fnEnv)
	if err != nil {
		procCancel()
		_ = fc.Close()
		t.Fatal(err)
	}
	e.proc = proc
	t.Cleanup(func() {
		defer procCancel()
		if err := proc.Stop(); err != nil {
			t.Errorf("the function exited on its own: %v", err)
		}
		e.checkLogs(t, proc.Lines())
		_ = fc.Close()
		for code, n := range fc.Stats().NextStatus {
			if code != 200 {
				t.Errorf("the runtime API answered next with %d %d time(s)", code, n)
			}
		}
		if t.Failed() {
			t.Logf("function output:\n%s", proc.Output())
		}
	})
	if _, err := fc.WaitFirstNext(ctx); err != nil {
		t.Fatalf("the function never asked for an invocation: %v\n%s", err, proc.Output())
	}
	return e
}

// newCreds returns a fresh STS triple, known to both emulators, for the
// invocation requestID.
func (e *env) newCreds(requestID string) creds.Credentials {
	r := randomHex(6)
	c := creds.Credentials{
		AccessKeyID:     "STS.e2e" + r,
		AccessKeySecret: "e2e-secret-" + r + "-must-not-leak",
		SecurityToken:   "e2e-token-" + r + "-must-not-leak",
	}
	e.ecs.AddCredentials(c)
	e.eb.AddCredentials(c)
	e.mu.Lock()
	e.creds[requestID] = c
	e.mu.Unlock()
	return c
}

// allCreds returns every credential handed out, by request id.
func (e *env) allCreds() map[string]creds.Credentials {
	e.mu.Lock()
	defer e.mu.Unlock()
	return maps.Clone(e.creds)
}

// invocation builds an invocation with its own credentials.
func (e *env) invocation(requestID string, payload []byte) fcruntime.Invocation {
	return fcruntime.Invocation{RequestID: requestID, Payload: payload, Credentials: e.newCreds(requestID)}
}

// invoke runs one invocation with its own credentials and returns what
// the function posted.
func (e *env) invoke(t *testing.T, requestID string, payload []byte) fcruntime.Result {
	t.Helper()
	res, err := e.fc.Invoke(e.ctx, e.invocation(requestID, payload))
	if err != nil {
		t.Fatalf("invoke %s: %v", requestID, err)
	}
	return res
}

// response decodes a normal (non-error) completion.
func response(t *testing.T, res fcruntime.Result) eventschema.Response {
	t.Helper()
	if res.Status != fcruntime.StatusResponse {
		t.Fatalf("%s: completed on /%s (%s), want a response; body %s", res.RequestID, res.Status, res.ErrorMessage, res.Body)
	}
	var resp eventschema.Response
	if err := json.Unmarshal(res.Body, &resp); err != nil {
		t.Fatalf("%s: decoding %s: %v", res.RequestID, res.Body, err)
	}
	return resp
}

// instance adds a Running instance with a primary ENI and n InUse
// secondary ENIs, and returns the secondary ids.
func (e *env) instance(t *testing.T, instanceID string, n int) []string {
	t.Helper()
	if err := e.ecs.AddInstance(ecsemu.Instance{ID: instanceID}); err != nil {
		t.Fatal(err)
	}
	suffix := strings.TrimPrefix(instanceID, "i-")
	if err := e.ecs.AddENI(ecsemu.ENI{ID: "eni-p" + suffix, Type: ecsemu.ENIPrimary, InstanceID: instanceID}); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("eni-%s%03d", suffix, i)
		e.addENI(t, ecsemu.ENI{ID: ids[i], InstanceID: instanceID})
	}
	return ids
}

func (e *env) addENI(t *testing.T, eni ecsemu.ENI) {
	t.Helper()
	if err := e.ecs.AddENI(eni); err != nil {
		t.Fatal(err)
	}
}

// status is the ENI's status in the emulator now.
func (e *env) status(t *testing.T, eniID string) string {
	t.Helper()
	eni, ok := e.ecs.GetENI(eniID)
	if !ok {
		t.Fatalf("no ENI %s in the emulator", eniID)
	}
	return eni.Status
}

// ecsCallsAbout returns the ECS calls naming the ENI (describe by id or
// detach), oldest first.
func (e *env) ecsCallsAbout(eniID string) []ecsemu.Call {
	var out []ecsemu.Call
	for _, c := range e.ecs.Calls() {
		if slices.Contains(eniParams(c), eniID) {
			out = append(out, c)
		}
	}
	return out
}

// eniParams lists the ENI ids a call names: NetworkInterfaceId (detach)
// and NetworkInterfaceId.N (describe).
func eniParams(c ecsemu.Call) []string {
	var ids []string
	for k, v := range c.Params {
		if k == "NetworkInterfaceId" || strings.HasPrefix(k, "NetworkInterfaceId.") {
			ids = append(ids, v)
		}
	}
	return ids
}

// followUp is the part of a published CloudEvent the tests look at.
type followUp struct {
	ID      string             `json:"id"`
	Type    string             `json:"type"`
	Source  string             `json:"source"`
	Subject string             `json:"subject"`
	Bus     string             `json:"aliyuneventbusname"`
	Data    eventschema.Result `json:"data"`
}

// published returns the follow-up events the EventBridge emulator
// accepted, with who signed each.
func (e *env) published(t *testing.T) ([]followUp, []ebemu.Received) {
	t.Helper()
	recv := e.eb.EventsForBus(busName)
	out := make([]followUp, len(recv))
	for i, r := range recv {
		if err := json.Unmarshal(r.Event, &out[i]); err != nil {
			t.Fatalf("published event %s: %v", r.Event, err)
		}
	}
	return out, recv
}

// publishedFor returns the follow-up events about one ENI.
func (e *env) publishedFor(t *testing.T, eniID string) []followUp {
	t.Helper()
	all, _ := e.published(t)
	var out []followUp
	for _, ev := range all {
		if ev.Data.NetworkInterfaceID == eniID {
			out = append(out, ev)
		}
	}
	return out
}

// assertAlive fails if the function process has exited.
func (e *env) assertAlive(t *testing.T) {
	t.Helper()
	select {
	case <-e.proc.Exited():
		t.Fatalf("the function process exited:\n%s", e.proc.Output())
	default:
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
