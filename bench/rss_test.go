package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/eni-detach/eni-detach/eventschema"
	"github.com/eni-detach/eni-detach/internal/emulator/fcruntime"
)

// rssConcurrency is how many invocations are in flight at once.
const rssConcurrency = 40

// rssRun is one process's peak RSS: once ready (first `next`) and after
// serving the concurrent invocations.
type rssRun struct {
	idle, peak int64
	inFlight   int // most invocations in flight at once
}

// fnPeakRSS runs 40 concurrent detaches (each its own credentials and
// ENI, publishing its follow-up event) in a fresh function process.
func fnPeakRSS(ctx context.Context, b *testing.B) rssRun {
	s, err := startStack(ctx, 300*time.Millisecond, true)
	if err != nil {
		b.Fatal(err)
	}
	defer s.close()
	idle, err := s.proc.PeakRSS()
	if err != nil {
		b.Fatal(err)
	}
	inst, enis := s.attachedENIs(b, rssConcurrency)
	results := s.fc.InvokeConcurrently(ctx, s.detachInvocations(inst, enis))
	for i, res := range results {
		if out, err := outcome(res); err != nil || out != eventschema.OutcomeDetached {
			b.Fatalf("%s: %s %v", enis[i], out, err)
		}
	}
	rss, err := s.proc.PeakRSS()
	if err != nil {
		b.Fatal(err)
	}
	return rssRun{idle: idle, peak: rss, inFlight: s.fc.Stats().MaxInFlight}
}

// helloPeakRSS runs 40 overlapping invocations of the hello-world binary.
func helloPeakRSS(ctx context.Context, b *testing.B) rssRun {
	srv, err := fcruntime.NewServer(fcruntime.Config{Region: region, AccountID: accountID, Timeout: fnTimeout})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	proc, err := srv.StartProcess(ctx, bins.hello, nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := srv.WaitFirstNext(ctx); err != nil {
		b.Fatal(err)
	}
	idle, err := proc.PeakRSS()
	if err != nil {
		b.Fatal(err)
	}
	invs := make([]fcruntime.Invocation, rssConcurrency)
	for i := range invs {
		invs[i] = fcruntime.Invocation{Payload: fmt.Appendf(nil, `{"n":%d,"sleepMs":300}`, i)}
	}
	for _, res := range srv.InvokeConcurrently(ctx, invs) {
		if res.Err != nil || res.Status != fcruntime.StatusResponse {
			b.Fatalf("hellofc: %v %s", res.Err, res.Body)
		}
	}
	rss, err := proc.PeakRSS()
	if err != nil {
		b.Fatal(err)
	}
	return rssRun{idle: idle, peak: rss, inFlight: srv.Stats().MaxInFlight}
}

// BenchmarkPeakRSS40: peak RSS of a process that served 40 concurrent
// invocations, the function vs the hello-world binary.
func BenchmarkPeakRSS40(b *testing.B) {
	ctx := b.Context()
	var fn, hello rssRun
	b.ResetTimer()
	for range b.N {
		f := fnPeakRSS(ctx, b)
		h := helloPeakRSS(ctx, b)
		for _, r := range []rssRun{f, h} {
			if r.inFlight < rssConcurrency/2 {
				b.Fatalf("only %d invocations were in flight at once", r.inFlight)
			}
		}
		fn, hello = maxRun(fn, f), maxRun(hello, h)
	}
	b.StopTimer()
	const mib = 1 << 20
	b.ReportMetric(float64(fn.peak)/mib, "fn-MiB")
	b.ReportMetric(float64(hello.peak)/mib, "hello-MiB")
	b.ReportMetric(float64(fn.peak)/float64(hello.peak), "x-hello")
	b.ReportMetric(float64(fn.idle)/mib, "fn-idle-MiB")
	b.ReportMetric(float64(hello.idle)/mib, "hello-idle-MiB")
	b.ReportMetric(float64(fn.inFlight), "fn-max-in-flight")
}

func maxRun(a, b rssRun) rssRun {
	return rssRun{idle: max(a.idle, b.idle), peak: max(a.peak, b.peak), inFlight: max(a.inFlight, b.inFlight)}
}
