// Command storm runs a fleet-wide storm against the built function and
// prints, as its last line,
//
//	storm: enis=600 detached=600 lost=0 late=0 floor_s=F took_s=T ratio=R throttled_pct=P calls=C peak_rss_mib=M
//
// From the repository root:
//
//	go run ./bench/storm                      # build.sh, then the default storm
//	go run ./bench/storm -fc-instances 8 -build=false
//
// Every default is a flag (-h lists them). FC's settings (timeout,
// instanceConcurrency, async retries, environment) come from s.yaml.
// BENCHMARKS.md ("Storm") explains the figures, floor_s in particular.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/eni-detach/eni-detach/internal/storm"
)

type envFlags []string

func (e *envFlags) String() string { return strings.Join(*e, ",") }
func (e *envFlags) Set(v string) error {
	if !strings.Contains(v, "=") {
		return fmt.Errorf("%q is not KEY=VALUE", v)
	}
	*e = append(*e, v)
	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "storm:", err)
		os.Exit(1)
	}
}

func run() error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	var (
		build         = flag.Bool("build", true, "run build.sh first (it writes dist/main)")
		bin           = flag.String("bin", filepath.Join(root, "dist", "main"), "the built function")
		syaml         = flag.String("syaml", filepath.Join(root, "s.yaml"), "the Serverless Devs project that says how FC runs the function")
		instances     = flag.Int("instances", storm.DefaultInstances, "ECS instances hit by the storm, one event each")
		enis          = flag.Int("enis", storm.DefaultENIsPerInstance, "eligible secondary ENIs per instance")
		fcInstances   = flag.Int("fc-instances", storm.DefaultFCInstances, "FC instances (processes of the function)")
		concurrency   = flag.Int("instance-concurrency", 0, "invocations per FC instance (0: s.yaml's instanceConcurrency)")
		timeout       = flag.Duration("timeout", 0, "function timeout (0: s.yaml's)")
		retries       = flag.Int("async-retries", -1, "FC async retries after an error (-1: s.yaml's maxAsyncRetryAttempts)")
		detachQuota   = flag.Int("detach-quota", storm.DefaultDetachQuota, "DetachNetworkInterface calls per window for the account (0: unlimited)")
		describeQuota = flag.Int("describe-quota", storm.DefaultDescribeQuota, "DescribeNetworkInterfaces calls per window for the account (0: unlimited)")
		window        = flag.Duration("window", storm.DefaultWindow, "quota window of the ECS emulator")
		detachDelay   = flag.Duration("detach-delay", storm.DefaultDetachDelay, "Detaching → Available in the ECS emulator")
		spread        = flag.Duration("spread", storm.DefaultSpread, "the events arrive within this")
		phase         = flag.Duration("phase", 0, "the first event arrives this far into a quota window")
		stopping      = flag.Float64("stopping-share", 0, "share (0-1) of instances sent StateChange Stopping instead of a preemption notice")
		stopTime      = flag.Duration("stop-time", storm.DefaultStopTime, "how long a stopping instance stays Stopping")
		retryDelay    = flag.Duration("retry-delay", storm.DefaultRetryDelay, "FC's wait before the first async retry (doubled per retry)")
		seed          = flag.Uint64("seed", storm.DefaultSeed, "seed of the arrival pattern")
		progress      = flag.Duration("progress", 10*time.Second, "status line interval (0: none)")
		logDir        = flag.String("logs", "", "directory for each FC instance's output (fc-N.log)")
		extraEnv      envFlags
	)
	flag.Var(&extraEnv, "env", "KEY=VALUE added to the function's environment (repeatable)")
	flag.Parse()

	if *build {
		cmd := exec.Command("bash", filepath.Join(root, "build.sh")) //nolint:gosec // G204: the repository's own build.sh, found from go.mod
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("build.sh: %w", err)
		}
	}
	fn, err := storm.LoadFunction(*syaml)
	if err != nil {
		return err
	}
	if *concurrency > 0 {
		fn.InstanceConcurrency = *concurrency
	}
	if *timeout > 0 {
		fn.Timeout = *timeout
	}
	if *retries >= 0 {
		fn.MaxAsyncRetries = *retries
	}
	c := storm.DefaultConfig(*bin, fn)
	c.ExtraEnv = extraEnv
	c.Instances, c.ENIsPerInstance, c.FCInstances = *instances, *enis, *fcInstances
	c.DetachQuota, c.DescribeQuota, c.Window = *detachQuota, *describeQuota, *window
	c.DetachDelay, c.Spread, c.Phase = *detachDelay, *spread, *phase
	c.StoppingShare, c.StopTime, c.RetryDelay, c.Seed = *stopping, *stopTime, *retryDelay, *seed
	c.Progress, c.ProgressEvery, c.LogDir = os.Stdout, *progress, *logDir

	fmt.Printf("storm: %s\n", strings.Join(os.Args[1:], " "))
	fmt.Printf("storm: FC timeout %v, instanceConcurrency %d, async retries %d, event age %v (from %s)\n",
		fn.Timeout, fn.InstanceConcurrency, fn.MaxAsyncRetries, fn.MaxEventAge, *syaml)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := storm.Run(ctx, c)
	if rep != nil {
		rep.WriteDetails(os.Stdout)
		fmt.Println(rep.Line())
	}
	return err
}

// moduleRoot is the nearest directory upwards with a go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory: run from the repository")
		}
		dir = parent
	}
}
