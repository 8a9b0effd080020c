package bench

import (
	"fmt"
	"testing"
	"time"

	"github.com/eni-detach/eni-detach/eventschema"
)

// lagSamples is how many detaches run (concurrently, one invocation and
// one ENI each) per benchmark iteration: the process's detach limiter
// bursts 10, so none of them waits for a detach slot.
const lagSamples = 10

// BenchmarkDetachLag: with the production policy (the binary's defaults),
// how many ECS calls one detach costs and how long after the emulator
// flips the ENI to Available the function answers. The flip time is the
// emulator's arrival time of the accepted detach call plus the detach
// delay. Targets: lag ≤ 1 s median, ≤ 6 ECS calls.
func BenchmarkDetachLag(b *testing.B) {
	for _, delay := range []time.Duration{2 * time.Second, 5 * time.Second} {
		b.Run(fmt.Sprintf("detach=%s", delay), func(b *testing.B) { benchDetachLag(b, delay) })
	}
}

func benchDetachLag(b *testing.B, delay time.Duration) {
	ctx := b.Context()
	s, err := startStack(ctx, delay, true)
	if err != nil {
		b.Fatal(err)
	}
	defer s.close()
	var (
		lags      []time.Duration
		calls     []int
		maxCalls  int
		describes int
	)
	b.ResetTimer()
	for range b.N {
		inst, enis := s.attachedENIs(b, lagSamples)
		invs := s.detachInvocations(inst, enis)
		results := s.fc.InvokeConcurrently(ctx, invs)
		log := s.ecs.Calls()
		for i, res := range results {
			out, err := outcome(res)
			if err != nil || out != eventschema.OutcomeDetached {
				b.Fatalf("%s: %s %v", enis[i], out, err)
			}
			about := callsAbout(log, enis[i])
			var flip time.Time
			for _, c := range about {
				switch c.Action {
				case "DetachNetworkInterface":
					if c.HTTPStatus == 200 && flip.IsZero() {
						flip = c.Time.Add(delay)
					}
				case "DescribeNetworkInterfaces":
					describes++
				}
			}
			if flip.IsZero() {
				b.Fatalf("%s: no accepted detach call", enis[i])
			}
			lags = append(lags, res.CompletedAt.Sub(flip))
			calls = append(calls, len(about))
			maxCalls = max(maxCalls, len(about))
		}
	}
	b.StopTimer()
	total := 0
	for _, n := range calls {
		total += n
	}
	b.ReportMetric(ms(quantile(lags, 0.5)), "lag-p50-ms")
	b.ReportMetric(ms(quantile(lags, 1)), "lag-max-ms")
	b.ReportMetric(float64(total)/float64(len(calls)), "ecs-calls/detach")
	b.ReportMetric(float64(maxCalls), "ecs-calls-max")
	b.ReportMetric(float64(describes)/float64(len(calls)), "describes/detach")
}
