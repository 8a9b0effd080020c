// Package publish sends the product's follow-up CloudEvents
// (eventschema.FollowUpEvent) to EventBridge with eventbridge-sdk, owning everything the SDK leaves to its caller:
// batching, retries of failed entries and transient errors, a bound on every
// call from the invocation's deadline, panic recovery, per-invocation
// credentials and secret-free error text.
package publish

import (
	"fmt"
	"net/url"
	"time"
)

// MaxBatch is the PutEvents limit of events per call.
const MaxBatch = 16

// Config tunes a Publisher. Zero values take the defaults noted.
type Config struct {
	// Endpoint overrides the service URL: scheme and host[:port] as
	// config.ParseEndpoint returns them (EVENTBRIDGE_ENDPOINT). Nil means
	// https://{accountId}.eventbridge.{region}.aliyuncs.com.
	Endpoint *url.URL
	// MaxAttempts is how many times one event may be sent (default 4).
	MaxAttempts int
	// BaseBackoff is the first retry delay before jitter (default 200ms);
	// it doubles per round up to MaxBackoff (default 3s).
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	// MaxCallTimeout bounds one SDK call even when the context allows more
	// (default 10s).
	MaxCallTimeout time.Duration
}

const (
	defaultMaxAttempts    = 4
	defaultBaseBackoff    = 200 * time.Millisecond
	defaultMaxBackoff     = 3 * time.Second
	defaultMaxCallTimeout = 10 * time.Second
)

// Validate reports a configuration that can never work, so that it can be
// rejected at start-up rather than on the first invocation.
func (c Config) Validate() error {
	if c.Endpoint != nil && ((c.Endpoint.Scheme != "http" && c.Endpoint.Scheme != "https") || c.Endpoint.Host == "") {
		return fmt.Errorf("publish: endpoint %q is not of the form http(s)://host[:port]", c.Endpoint)
	}
	if c.MaxAttempts < 0 || c.BaseBackoff < 0 || c.MaxBackoff < 0 || c.MaxCallTimeout < 0 {
		return fmt.Errorf("publish: negative retry or timeout setting")
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.MaxAttempts == 0 {
		c.MaxAttempts = defaultMaxAttempts
	}
	if c.BaseBackoff == 0 {
		c.BaseBackoff = defaultBaseBackoff
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = defaultMaxBackoff
	}
	if c.MaxCallTimeout == 0 {
		c.MaxCallTimeout = defaultMaxCallTimeout
	}
	return c
}

// Failure is one event that was not published.
type Failure struct {
	EventID   string
	Code      string
	Message   string // never holds a secret or token
	Retryable bool   // a later attempt (e.g. FC's async retry) may succeed
}

// Report is the outcome of one Publish call.
type Report struct {
	Published  int
	Failed     []Failure // in the order the events were given
	Err        error     // non-nil exactly when some event was not published; *Error
	Attempts   int       // PutEvents calls made
	RequestIDs []string  // RequestIds of every answered call, failed ones included
}

// Error summarises a Publish that left events unpublished.
type Error struct {
	Code      string // the first failure's code
	Message   string // the first failure's message, redacted
	Retryable bool   // every failure was transient
	Failed    int
	Total     int
}

func (e *Error) Error() string {
	return fmt.Sprintf("eventbridge: %d of %d events not published: %s: %s", e.Failed, e.Total, e.Code, e.Message)
}

// Publisher is shared by all invocations of a process. It holds no
// credentials and no SDK client: those are per Publish call.
type Publisher struct {
	cfg      Config
	override *endpoint // from Config.Endpoint, nil for the regional default
	cfgErr   error
}

// New returns a Publisher. A bad Config does not panic: every Publish then
// reports it (use Config.Validate to fail earlier).
func New(cfg Config) *Publisher {
	p := &Publisher{cfg: cfg.withDefaults()}
	if err := cfg.Validate(); err != nil {
		p.cfgErr = err
		return p
	}
	if cfg.Endpoint != nil {
		p.override = &endpoint{protocol: cfg.Endpoint.Scheme, host: cfg.Endpoint.Host}
	}
	return p
}
