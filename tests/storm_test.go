package tests

import (
	"strings"
	"testing"
	"time"

	"github.com/eni-detach/eni-detach/internal/storm"
)

// A short storm of the built binary (the full one is `go run ./bench/storm`,
// BENCHMARKS.md "Storm"): 40 instance events within 2 s, two FC instances
// as s.yaml configures them, FC's async retries, and the account's ECS
// quotas in 5 s windows, small enough to be used up. Every ENI must end
// Available with a final follow-up event, and no invocation may answer
// after its deadline.
func TestShortStorm(t *testing.T) {
	needBinary(t)
	t.Parallel()
	fn, err := storm.LoadFunction("../s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := storm.DefaultConfig(built.bin, fn)
	c.Instances, c.FCInstances = 40, 2
	// 80 detaches against 30 a window take three windows; the function
	// is told the window's length as it would be in production, through
	// ECS_QUOTA_WINDOW.
	c.Window, c.Spread, c.DetachDelay = 5*time.Second, 2*time.Second, 500*time.Millisecond
	c.DetachQuota, c.DescribeQuota = 30, 60
	c.ExtraEnv = []string{"ECS_QUOTA_WINDOW=5s"}
	c.StoppingShare, c.StopTime = 0.25, time.Second
	var progress strings.Builder
	c.Progress, c.ProgressEvery = &progress, 5*time.Second

	began := time.Now()
	rep, err := storm.Run(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	var details strings.Builder
	rep.WriteDetails(&details)
	t.Logf("%s%s%s (%.1fs with set-up)", progress.String(), details.String(), rep.Line(), time.Since(began).Seconds())
	if rep.ENIs != 80 || rep.Detached != rep.ENIs || rep.Lost != 0 || rep.Late != 0 {
		t.Errorf("want every one of 80 ENIs detached, none lost, no late answer: %s", rep.Line())
	}
	if rep.Dropped != 0 {
		t.Errorf("FC gave up on %d events", rep.Dropped)
	}
	if rep.FollowUps < rep.ENIs || rep.Invocations < c.Instances {
		t.Errorf("%d follow-up events and %d invocations for %d ENIs of %d instances", rep.FollowUps, rep.Invocations, rep.ENIs, c.Instances)
	}
	spent := false
	for _, w := range rep.Windows {
		spent = spent || w.Accepted == w.Limit
	}
	if !spent {
		t.Errorf("no quota window was used up: the storm did not test the function against the quota: %+v", rep.Windows)
	}
}
