package storm

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/eni-detach/eni-detach/internal/backoff"
	"github.com/eni-detach/eni-detach/internal/creds"
	ecsemu "github.com/eni-detach/eni-detach/internal/emulator/ecs"
	ebemu "github.com/eni-detach/eni-detach/internal/emulator/eventbridge"
	"github.com/eni-detach/eni-detach/internal/emulator/fcruntime"
	"github.com/eni-detach/eni-detach/internal/emulator/identity"
)

// defaultBus is the follow-up events' bus when s.yaml names none.
const defaultBus = "eni-detach"

// stack is the storm's world: the emulators and the function's FC
// instances.
type stack struct {
	ecs   *ecsemu.Server
	eb    *ebemu.Server
	fcs   []*fcruntime.Server
	procs []*fcruntime.Process
	bus   string
}

func (s *stack) close() {
	for _, fc := range s.fcs {
		_ = fc.Close() // stops its process too
	}
	if s.ecs != nil {
		_ = s.ecs.Close()
	}
	if s.eb != nil {
		_ = s.eb.Close()
	}
}

// Run runs one storm and reports it. An error means the storm could not
// be run (bad configuration, a process that would not start); what
// happened to the ENIs is in the Report.
func Run(ctx context.Context, c Config) (*Report, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	if c.Function.Region == "" {
		c.Function.Region = ecsemu.DefaultRegion
	}
	insts := plan(c)
	st, err := setUp(ctx, c, insts)
	if st != nil {
		defer st.close()
	}
	if err != nil {
		return nil, err
	}
	q := newAsyncQueue(c, st.fcs, len(insts))
	runCtx, cancel := context.WithTimeout(ctx, c.Function.MaxEventAge+c.Function.Timeout+2*answerGrace)
	defer cancel()
	q.start(runCtx)

	start := alignedStart(time.Now().Add(200*time.Millisecond), c.Window, c.Phase)
	c.progressf("storm: %d instances × %d ENIs, %d FC instances × %d slots; first event at %s (%.1fs from now); load average %s",
		c.Instances, c.ENIsPerInstance, c.FCInstances, c.Function.InstanceConcurrency,
		start.Format("15:04:05.000"), time.Until(start).Seconds(), loadAverage())
	stopProgress := c.reportProgress(runCtx, st, q, start)
	arrivals := deliver(runCtx, c, st, q, insts, start)
	q.wait(runCtx)
	end := time.Now()
	stopProgress()

	rep := collect(c, st, q, insts, arrivals, start, end)
	if c.LogDir != "" {
		for i, p := range st.procs {
			name := filepath.Join(c.LogDir, fmt.Sprintf("fc-%d.log", i))
			if err := os.WriteFile(name, []byte(p.Output()), 0o600); err != nil {
				rep.Notes = append(rep.Notes, err.Error())
			}
		}
	}
	if runCtx.Err() != nil && ctx.Err() == nil {
		rep.Notes = append(rep.Notes, "the storm ran out of time: events older than maxAsyncEventAge plus a timeout were still open")
	}
	c.progressf("storm: done after %.1fs; load average %s", end.Sub(start).Seconds(), loadAverage())
	return rep, ctx.Err()
}

// setUp starts the emulators with the fleet and quotas, and the FC
// instances of the function, each waiting for work.
func setUp(ctx context.Context, c Config, insts []*instance) (*stack, error) {
	st := &stack{bus: c.Function.Env["EVENT_BUS_NAME"]}
	if st.bus == "" {
		st.bus = defaultBus
	}
	var err error
	if st.ecs, err = ecsemu.Start(ecsemu.WithDetachDelay(c.DetachDelay)); err != nil {
		return st, err
	}
	account, region := identity.DefaultAccount, c.Function.Region
	for action, limit := range map[string]int{"DetachNetworkInterface": c.DetachQuota, "DescribeNetworkInterfaces": c.DescribeQuota} {
		if limit <= 0 {
			continue
		}
		if err := st.ecs.PutQuota(ecsemu.Quota{Action: action, Account: account, Region: region, Limit: limit, Window: c.Window}); err != nil {
			return st, err
		}
	}
	if err := seed(st.ecs, c, insts, tagsFor(c.Function.Env["ENI_TAG_SELECTOR"])); err != nil {
		return st, err
	}
	st.eb = ebemu.New()
	if err := st.eb.Start(""); err != nil {
		return st, err
	}
	st.eb.AddBus(st.bus)

	env := []string{}
	for k, v := range c.Function.Env {
		env = append(env, k+"="+v)
	}
	env = append(env, "EVENT_BUS_NAME="+st.bus, "ECS_ENDPOINT="+st.ecs.URL(), "EVENTBRIDGE_ENDPOINT="+st.eb.URL())
	env = append(env, c.ExtraEnv...)
	for i := range c.FCInstances {
		// Each FC instance gets the role's credentials of its own
		// (STS triples are per instance in FC), all in one account.
		cr := creds.Credentials{
			AccessKeyID:     fmt.Sprintf("STS.storm%02d", i),
			AccessKeySecret: fmt.Sprintf("storm-secret-%02d", i),
			SecurityToken:   fmt.Sprintf("storm-token-%02d", i),
		}
		st.ecs.AddCredentials(cr)
		st.eb.AddCredentials(cr)
		fc, err := fcruntime.NewServer(fcruntime.Config{
			Region: region, AccountID: account, FunctionName: c.Function.Name, Memory: c.Function.Memory,
			Timeout: c.Function.Timeout, Credentials: cr, InstanceConcurrency: c.Function.InstanceConcurrency,
			InstanceID: fmt.Sprintf("c-storm%02d", i),
		})
		if err != nil {
			return st, err
		}
		st.fcs = append(st.fcs, fc)
		p, err := fc.StartProcess(ctx, c.Binary, env)
		if err != nil {
			return st, err
		}
		st.procs = append(st.procs, p)
	}
	for i, fc := range st.fcs {
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		_, err := fc.WaitFirstNext(wctx)
		cancel()
		if err != nil {
			return st, fmt.Errorf("FC instance %d never asked for work: %w\n%s", i, err, st.procs[i].Output())
		}
	}
	return st, nil
}

// alignedStart is the first instant at or after t that lies phase into a
// quota window.
func alignedStart(t time.Time, window, phase time.Duration) time.Time {
	if window <= 0 {
		return t
	}
	s := t.Truncate(window).Add(phase)
	for s.Before(t) {
		s = s.Add(window)
	}
	return s
}

// deliver hands every event to FC at its arrival time and returns the
// arrival times, by instance id.
func deliver(ctx context.Context, c Config, st *stack, q *asyncQueue, insts []*instance, start time.Time) map[string]time.Time {
	arrivals := make(map[string]time.Time, len(insts))
	for _, in := range insts {
		at := start.Add(in.offset)
		if d := time.Until(at); d > 0 && backoff.Sleep(ctx, d) != nil {
			return arrivals
		}
		now := time.Now()
		if in.stopping {
			// The instance stops as its event is sent; it is Stopped
			// StopTime later.
			_ = st.ecs.SetInstanceStatus(in.id, ecsemu.InstanceStopping)
			_ = st.ecs.ScheduleInstanceStatus(in.id, ecsemu.InstanceStopped, c.StopTime)
		}
		in.payload = in.event(c.Function.Region, identity.DefaultAccount, now)
		arrivals[in.id] = now
		q.submit(&job{inst: in, requestID: "storm-" + strings.TrimPrefix(in.id, "i-"), arrival: now})
	}
	return arrivals
}

func (c Config) progressf(format string, args ...any) {
	if c.Progress != nil {
		fmt.Fprintf(c.Progress, format+"\n", args...)
	}
}

// reportProgress prints a status line every ProgressEvery until stopped.
func (c Config) reportProgress(ctx context.Context, st *stack, q *asyncQueue, start time.Time) func() {
	if c.Progress == nil || c.ProgressEvery <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(c.ProgressEvery)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
			case <-done:
				return
			case <-ctx.Done():
				return
			}
			if time.Now().Before(start) {
				continue // still waiting for the window the storm starts in
			}
			available := 0
			for _, e := range st.ecs.ENIs() {
				if e.Type == ecsemu.ENISecondary && e.Status == ecsemu.ENIAvailable {
					available++
				}
			}
			calls, throttled := 0, 0
			for _, w := range st.ecs.QuotaStats() {
				calls += w.Accepted + w.Throttled
				throttled += w.Throttled
			}
			attempts, _ := q.attempts()
			c.progressf("storm: t=%5.1fs available=%d/%d invocations=%d in_flight=%d calls=%d throttled=%d",
				time.Since(start).Seconds(), available, c.Instances*c.ENIsPerInstance, len(attempts), q.inFlight(), calls, throttled)
		}
	}()
	return func() { close(done); <-stopped }
}

// loadAverage is /proc/loadavg's first three fields ("?" elsewhere): the
// machine is shared, and its load moves the figures.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
