// Package storm simulates a fleet-wide storm against the built function:
// hundreds of ECS instance events arriving within seconds, FC scaling the
// function out to several instances (each a process of the binary under
// the FC runtime-API emulator, with the s.yaml instanceConcurrency), FC's
// asynchronous invocation semantics (an invocation that returns an error
// is invoked again, up to s.yaml's maxAsyncRetryAttempts), one account's
// ECS flow-control quotas (the ECS emulator, fixed windows), and the
// EventBridge emulator collecting the follow-up events.
//
// `go run ./bench/storm` is the command; BENCHMARKS.md has the figures.
// Run returns a Report whose Line is the command's last line.
package storm

import (
	"errors"
	"fmt"
	"io"
	"time"
)

// Defaults of the storm (BENCHMARKS.md, "Storm").
const (
	DefaultInstances       = 300
	DefaultENIsPerInstance = 2
	DefaultFCInstances     = 4
	DefaultDetachQuota     = 300 // DetachNetworkInterface calls per window, for the account
	DefaultDescribeQuota   = 600 // DescribeNetworkInterfaces calls per window, for the account
	DefaultWindow          = time.Minute
	DefaultDetachDelay     = 2 * time.Second
	DefaultSpread          = 5 * time.Second
	// DefaultRetryDelay is FC's wait before the first asynchronous retry,
	// doubled for each further one. FC documents 0.5 s, 1 s, 2 s … for
	// throttled invocations and no interval for function errors; the
	// storm uses the documented schedule for both.
	DefaultRetryDelay = 500 * time.Millisecond
	DefaultStopTime   = 3 * time.Second
	DefaultSeed       = 1
)

// Config is one storm. Zero numeric fields are not defaults: start from
// DefaultConfig.
type Config struct {
	// Binary is the built function (build.sh's dist/main).
	Binary string
	// Function is how FC runs it (LoadFunction of s.yaml).
	Function Function
	// ExtraEnv is added to the function's environment after s.yaml's.
	ExtraEnv []string

	Instances       int // ECS instances the storm hits
	ENIsPerInstance int // eligible secondary ENIs of each (plus one primary)
	FCInstances     int // FC instances (processes of the binary)

	DetachQuota   int           // DetachNetworkInterface per window for the account; <= 0: none
	DescribeQuota int           // DescribeNetworkInterfaces per window for the account; <= 0: none
	Window        time.Duration // quota window length in the ECS emulator
	DetachDelay   time.Duration // Detaching → Available in the ECS emulator

	// Spread is how long the events take to arrive (uniformly, the first
	// at the start). Phase is where in a quota window the first arrives:
	// the storm waits for that point, so that runs are comparable.
	Spread time.Duration
	Phase  time.Duration
	// StoppingShare of the instances (0–1) get ecs:Instance:StateChange
	// Stopping, and stay Stopping for StopTime; the others get
	// ecs:Instance:PreemptibleInstanceInterruption and keep running.
	StoppingShare float64
	StopTime      time.Duration
	// RetryDelay is FC's wait before the first async retry, doubled per
	// retry.
	RetryDelay time.Duration
	// Seed makes the arrival pattern reproducible.
	Seed uint64

	// LogDir, when set, receives each FC instance's output (the
	// function's JSON logs) as fc-N.log.
	LogDir string

	// Progress receives a status line every ProgressEvery; nil: none.
	Progress      io.Writer
	ProgressEvery time.Duration
}

// DefaultConfig is the storm of the README with fn's FC settings.
func DefaultConfig(binary string, fn Function) Config {
	return Config{
		Binary:          binary,
		Function:        fn,
		Instances:       DefaultInstances,
		ENIsPerInstance: DefaultENIsPerInstance,
		FCInstances:     DefaultFCInstances,
		DetachQuota:     DefaultDetachQuota,
		DescribeQuota:   DefaultDescribeQuota,
		Window:          DefaultWindow,
		DetachDelay:     DefaultDetachDelay,
		Spread:          DefaultSpread,
		StopTime:        DefaultStopTime,
		RetryDelay:      DefaultRetryDelay,
		Seed:            DefaultSeed,
		ProgressEvery:   10 * time.Second,
	}
}

// validate reports every problem at once.
func (c Config) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Binary == "" {
		bad("Binary: the built function is required")
	}
	if c.Instances < 1 || c.ENIsPerInstance < 1 || c.FCInstances < 1 {
		bad("Instances, ENIsPerInstance, FCInstances must be at least 1 (got %d, %d, %d)", c.Instances, c.ENIsPerInstance, c.FCInstances)
	}
	if c.Function.InstanceConcurrency < 1 || c.Function.Timeout <= 0 {
		bad("Function: instanceConcurrency %d and timeout %v must be positive", c.Function.InstanceConcurrency, c.Function.Timeout)
	}
	if (c.DetachQuota > 0 || c.DescribeQuota > 0) && c.Window <= 0 {
		bad("Window must be positive with a quota (got %v)", c.Window)
	}
	if c.Phase < 0 || (c.Window > 0 && c.Phase >= c.Window) {
		bad("Phase %v must be within the window %v", c.Phase, c.Window)
	}
	if c.StoppingShare < 0 || c.StoppingShare > 1 {
		bad("StoppingShare %v must be between 0 and 1", c.StoppingShare)
	}
	if c.DetachDelay < 0 || c.Spread < 0 || c.StopTime < 0 || c.RetryDelay < 0 {
		bad("DetachDelay, Spread, StopTime and RetryDelay must not be negative")
	}
	return errors.Join(errs...)
}
