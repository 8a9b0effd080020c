package fcruntime

import (
	"time"

	"github.com/eni-detach/eni-detach/internal/creds"
)

// Config describes the emulated function and instance. Zero fields take the
// defaults below; Invocation fields, when set, override the per-invocation ones.
type Config struct {
	Region       string // default "cn-hangzhou"
	AccountID    string // default "1234567890123456"
	FunctionName string // default "hellofc"
	Handler      string // default "main"
	Memory       int    // MB, default 128
	InstanceID   string // default a random "c-..." id

	// Timeout is the default function timeout; FC's default is 3 s.
	Timeout time.Duration
	// Credentials are the default per-invocation STS credentials.
	Credentials creds.Credentials

	// InstanceConcurrency caps how many invocations are dispatched and not yet
	// completed, like FC's instanceConcurrency (whose default is 1). Zero means
	// no cap: whatever the SDK is ready to take (it is always ready).
	InstanceConcurrency int

	// ShutdownGrace bounds how long Close waits for children it did not start
	// to disconnect before it closes their connections (which makes a still
	// running SDK spin). Default 2 s.
	ShutdownGrace time.Duration
}

func (c Config) withDefaults() Config {
	if c.Region == "" {
		c.Region = "cn-hangzhou"
	}
	if c.AccountID == "" {
		c.AccountID = "1234567890123456"
	}
	if c.FunctionName == "" {
		c.FunctionName = "hellofc"
	}
	if c.Handler == "" {
		c.Handler = "main"
	}
	if c.Memory == 0 {
		c.Memory = 128
	}
	if c.InstanceID == "" {
		c.InstanceID = "c-" + randomHex(12)
	}
	if c.Timeout <= 0 {
		c.Timeout = 3 * time.Second
	}
	if c.ShutdownGrace <= 0 {
		c.ShutdownGrace = 2 * time.Second
	}
	return c
}
