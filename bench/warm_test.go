package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"github.com/eni-detach/eni-detach/eventschema"
	"github.com/eni-detach/eni-detach/internal/app"
	ecsemu "github.com/eni-detach/eni-detach/internal/emulator/ecs"
	"github.com/eni-detach/eni-detach/internal/emulator/fcruntime"
)

// availableENI is already detached: the describe-only path (one
// DescribeNetworkInterfaces, outcome AlreadyDetached, no detach call).
const availableENI = "eni-benchavailable0001"

var describeOnly = []byte(`{"NetworkInterfaceId":"` + availableENI + `"}`)

const warmUps = 20

// startECSProcess runs the ECS emulator in a child process (so that its
// allocations stay out of -benchmem) and returns its URL.
func startECSProcess(b *testing.B) string {
	b.Helper()
	cmd := exec.Command(bins.ecsemu, "-available", availableENI)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = stdin.Close() // the emulator exits when its stdin closes
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("ecsemu: %v", err)
	}
	return strings.TrimSpace(line)
}

// BenchmarkWarmInProcess: the production handler (app.New, production
// policy, info logging to io.Discard) answering the describe-only path
// against the emulator; p50/p99 latency and, with -benchmem, the
// handler's allocations (the emulator runs in another process).
func BenchmarkWarmInProcess(b *testing.B) {
	url := startECSProcess(b)
	env := map[string]string{"ECS_ENDPOINT": url, "FC_REGION": region, "FC_ACCOUNT_ID": accountID}
	h, err := app.New(func(k string) string { return env[k] }, io.Discard, app.Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(b.Context(), time.Hour)
	defer cancel()
	ctx = fccontext.NewContext(ctx, &fccontext.FcContext{
		RequestID: "bench-warm",
		Credentials: fccontext.Credentials{AccessKeyId: ecsemu.DemoAccessKeyID,
			AccessKeySecret: ecsemu.DemoAccessKeySecret, SecurityToken: ecsemu.DemoSecurityToken},
		Region: region, AccountId: accountID,
		Function: fccontext.Function{Name: "eni-detach", Timeout: int(time.Hour / time.Second)},
	})
	invoke := func() error {
		out, err := h.Invoke(ctx, describeOnly)
		if err != nil {
			return err
		}
		resp, ok := out.(eventschema.Response)
		if !ok || len(resp.Results) != 1 || resp.Results[0].Outcome != eventschema.OutcomeAlreadyDetached {
			return fmt.Errorf("unexpected answer %#v", out)
		}
		return nil
	}
	for range warmUps {
		if err := invoke(); err != nil {
			b.Fatal(err)
		}
	}
	lat := make([]time.Duration, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		t0 := time.Now()
		err := invoke()
		lat[i] = time.Since(t0)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(ms(quantile(lat, 0.5)), "p50-ms")
	b.ReportMetric(ms(quantile(lat, 0.99)), "p99-ms")
}

// BenchmarkWarmBinary: the same describe-only invocation through the built
// binary and the runtime API, sequentially. p50/p99 are the function's
// time (dispatch → response posted); rt-p50 adds the runtime API hops.
// Allocations here are the harness's, not the function's.
func BenchmarkWarmBinary(b *testing.B) {
	ctx := b.Context()
	s, err := startStack(ctx, time.Second, false)
	if err != nil {
		b.Fatal(err)
	}
	defer s.close()
	if err := s.ecs.AddENI(ecsemu.ENI{ID: availableENI}); err != nil {
		b.Fatal(err)
	}
	c := s.newCreds()
	invoke := func() (fcruntime.Result, error) {
		res, err := s.fc.Invoke(ctx, fcruntime.Invocation{Payload: describeOnly, Credentials: c})
		if err != nil {
			return res, err
		}
		if res.Status != fcruntime.StatusResponse || !bytes.Contains(res.Body, []byte(`"outcome":"AlreadyDetached"`)) {
			return res, fmt.Errorf("unexpected answer %s: %s", res.Status, res.Body)
		}
		return res, nil
	}
	for range warmUps {
		if _, err := invoke(); err != nil {
			b.Fatal(err)
		}
	}
	fn := make([]time.Duration, b.N)
	rt := make([]time.Duration, b.N)
	b.ResetTimer()
	for i := range b.N {
		res, err := invoke()
		if err != nil {
			b.Fatal(err)
		}
		fn[i], rt[i] = res.Duration, res.CompletedAt.Sub(res.QueuedAt)
	}
	b.StopTimer()
	// Exactly one ECS call per invocation, a describe.
	if all, desc := len(s.ecs.Calls()), len(s.ecs.CallsFor("DescribeNetworkInterfaces")); all != desc || all != b.N+warmUps {
		b.Fatalf("%d ECS calls (%d describes) for %d invocations", all, desc, b.N+warmUps)
	}
	b.ReportMetric(ms(quantile(fn, 0.5)), "p50-ms")
	b.ReportMetric(ms(quantile(fn, 0.99)), "p99-ms")
	b.ReportMetric(ms(quantile(rt, 0.5)), "rt-p50-ms")
}
