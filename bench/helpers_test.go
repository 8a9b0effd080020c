package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
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
	busName   = "eni-detach-bench"
	// fnTimeout is long enough that the 3 s deadline margin never cuts a
	// wait short: the benchmarks measure the poll schedule, not the deadline.
	fnTimeout = 60 * time.Second
)

// quantile returns the q-quantile (nearest rank) of ds; ds is sorted in place.
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(q*float64(len(ds))+0.999999) - 1
	return ds[min(max(i, 0), len(ds)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// stack is a running function with its own ECS and EventBridge emulators.
type stack struct {
	ecs  *ecsemu.Server
	eb   *ebemu.Server
	sts  *stsemu.Server // nil unless a setup started it
	fc   *fcruntime.Server
	proc *fcruntime.Process
}

// startStack starts the emulators and the function binary; with publish
// the function sends its follow-up events to the EventBridge emulator.
func startStack(ctx context.Context, detachDelay time.Duration, publish bool, extraEnv ...string) (*stack, error) {
	return startStackWith(ctx, detachDelay, publish, nil, extraEnv...)
}

// startStackWith is startStack with a setup step after the ECS emulator
// started; the environment it returns comes before extraEnv.
func startStackWith(ctx context.Context, detachDelay time.Duration, publish bool, setup func(*stack) ([]string, error), extraEnv ...string) (*stack, error) {
	s := &stack{}
	var err error
	if s.ecs, err = ecsemu.Start(ecsemu.WithDetachDelay(detachDelay)); err != nil {
		return nil, err
	}
	env := []string{"ECS_ENDPOINT=" + s.ecs.URL()}
	if setup != nil {
		more, err := setup(s)
		if err != nil {
			s.close()
			return nil, err
		}
		env = append(env, more...)
	}
	if publish {
		s.eb = ebemu.New()
		if err := s.eb.Start(""); err != nil {
			s.close()
			return nil, err
		}
		s.eb.AddBus(busName)
		env = append(env, "EVENTBRIDGE_ENDPOINT="+s.eb.URL(), "EVENT_BUS_NAME="+busName)
	}
	if s.fc, err = fcruntime.NewServer(fcruntime.Config{Region: region, AccountID: accountID, FunctionName: "eni-detach", Timeout: fnTimeout}); err != nil {
		s.close()
		return nil, err
	}
	if s.proc, err = s.fc.StartProcess(ctx, bins.fn, append(env, extraEnv...)); err != nil {
		s.close()
		return nil, err
	}
	if _, err := s.fc.WaitFirstNext(ctx); err != nil {
		s.close()
		return nil, fmt.Errorf("the function never asked for work: %w", err)
	}
	return s, nil
}

func (s *stack) close() {
	if s.fc != nil {
		_ = s.fc.Close() // stops the process too
	}
	if s.ecs != nil {
		_ = s.ecs.Close()
	}
	if s.eb != nil {
		_ = s.eb.Close()
	}
	if s.sts != nil {
		_ = s.sts.Close()
	}
}

// newCreds registers a fresh STS triple with both emulators.
func (s *stack) newCreds() creds.Credentials {
	r := randomHex(6)
	c := creds.Credentials{
		AccessKeyID:     "STS.bench" + r,
		AccessKeySecret: "bench-secret-" + r,
		SecurityToken:   "bench-token-" + r,
	}
	s.ecs.AddCredentials(c)
	if s.eb != nil {
		s.eb.AddCredentials(c)
	}
	return c
}

// attachedENIs adds a Running instance with n InUse secondary ENIs.
func (s *stack) attachedENIs(b *testing.B, n int) (string, []string) {
	b.Helper()
	inst := "i-bench" + randomHex(5)
	if err := s.ecs.AddInstance(ecsemu.Instance{ID: inst}); err != nil {
		b.Fatal(err)
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("eni-%s%03d", inst[2:], i)
		if err := s.ecs.AddENI(ecsemu.ENI{ID: ids[i], InstanceID: inst}); err != nil {
			b.Fatal(err)
		}
	}
	return inst, ids
}

// detachInvocations returns one invocation per ENI, each with its own
// credentials.
func (s *stack) detachInvocations(inst string, enis []string) []fcruntime.Invocation {
	invs := make([]fcruntime.Invocation, len(enis))
	for i, eni := range enis {
		invs[i] = fcruntime.Invocation{
			Payload:     fmt.Appendf(nil, `{"NetworkInterfaceId":%q,"InstanceId":%q}`, eni, inst),
			Credentials: s.newCreds(),
		}
	}
	return invs
}

// outcome decodes a one-ENI response and returns its outcome.
func outcome(res fcruntime.Result) (eventschema.Outcome, error) {
	if res.Err != nil {
		return "", res.Err
	}
	if res.Status != fcruntime.StatusResponse {
		return "", fmt.Errorf("completed on /%s: %s", res.Status, res.Body)
	}
	var resp eventschema.Response
	if err := json.Unmarshal(res.Body, &resp); err != nil {
		return "", err
	}
	if len(resp.Results) != 1 {
		return "", fmt.Errorf("%d results: %s", len(resp.Results), res.Body)
	}
	return resp.Results[0].Outcome, nil
}

// callsAbout returns the ECS calls naming the ENI.
func callsAbout(calls []ecsemu.Call, eni string) []ecsemu.Call {
	var out []ecsemu.Call
	for _, c := range calls {
		if c.Params["NetworkInterfaceId"] == eni {
			out = append(out, c)
			continue
		}
		for i := 1; ; i++ {
			v, ok := c.Params[fmt.Sprintf("NetworkInterfaceId.%d", i)]
			if !ok {
				break
			}
			if v == eni {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
