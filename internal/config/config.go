// Package config reads the function's environment (README "Configuration"). Every
// variable is an env key with a default constant beside it; Load parses
// all of them and reports every problem at once, naming the variable.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// Environment variable names.
const (
	EnvEventBusName        = "EVENT_BUS_NAME"
	EnvEventSource         = "EVENT_SOURCE"
	EnvECSEndpoint         = "ECS_ENDPOINT"
	EnvEventBridgeEndpoint = "EVENTBRIDGE_ENDPOINT"
	EnvTagSelector         = "ENI_TAG_SELECTOR"
	EnvDetachTimeout       = "DETACH_TIMEOUT"
	EnvRedetachAfter       = "REDETACH_AFTER"
	EnvDryRun              = "DRY_RUN"
	EnvLogLevel            = "LOG_LEVEL"
	EnvMaintenanceLead     = "MAINTENANCE_LEAD"
)

// Defaults.
const (
	DefaultDetachTimeout = 120 * time.Second
	DefaultRedetachAfter = 20 * time.Second
	DefaultLogLevel      = zerolog.InfoLevel
	// MaxDetachTimeout is FC's longest function timeout: waiting longer
	// than the function can live is always a mistake.
	MaxDetachTimeout = 24 * time.Hour
	// DefaultMaintenanceLead: act on a Scheduled system event when its work
	// is due within this. Long enough for a few EventBridge delivery and FC
	// async retries before the instance goes down, short enough that the
	// ENIs are not cut off while the instance still serves.
	DefaultMaintenanceLead = 10 * time.Minute
	// MaxMaintenanceLead: a lead of more than a day brings back what the
	// lead is for avoiding, ENIs detached days before the work.
	MaxMaintenanceLead = 24 * time.Hour
)

// Config is the validated configuration.
type Config struct {
	EventBusName string
	// EventSource is the follow-up events' source; empty means the
	// function's ARN, known only per invocation.
	EventSource string
	// ECSEndpoint is a scheme://host[:port] override; nil means the SDK's
	// regional endpoint over HTTPS.
	ECSEndpoint *url.URL
	// EventBridgeEndpoint is a full URL override; nil means
	// https://{accountId}.eventbridge.{region}.aliyuncs.com.
	EventBridgeEndpoint *url.URL
	TagSelector         TagSelector
	DetachTimeout       time.Duration
	RedetachAfter       time.Duration
	DryRun              bool
	LogLevel            zerolog.Level
	// MaintenanceLead: how far ahead of its notBefore a Scheduled or
	// Inquiring system event is acted on; 0 acts on Executing only.
	MaintenanceLead time.Duration
}

// Default returns the configuration of an empty environment.
func Default() Config {
	return Config{DetachTimeout: DefaultDetachTimeout, RedetachAfter: DefaultRedetachAfter, LogLevel: DefaultLogLevel,
		MaintenanceLead: DefaultMaintenanceLead}
}

// Problem is one invalid variable.
type Problem struct {
	Var     string
	Problem string
}

// Error lists every invalid variable.
type Error struct {
	Problems []Problem
}

// ErrInvalidConfiguration is matched by every *Error.
var ErrInvalidConfiguration = errors.New("InvalidConfiguration")

func (e *Error) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Var + ": " + p.Problem
	}
	return "InvalidConfiguration: " + strings.Join(parts, "; ")
}

// Is makes errors.Is(err, ErrInvalidConfiguration) true.
func (e *Error) Is(target error) bool { return target == ErrInvalidConfiguration }

// validBusName checks EventBridge's bus name rule: letters, digits, '_',
// '-', '.', at most 127, starting with a letter or digit. (Not a regular
// expression: a counted repetition compiles at process start, which costs
// cold-start time.)
func validBusName(s string) bool {
	if s == "" || len(s) > 127 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || (c != '_' && c != '-' && c != '.')) {
			return false
		}
	}
	return true
}

// Load reads the configuration through getenv (os.Getenv in production).
// It always returns a usable Config (defaults where a value is bad) so the
// caller can log it; err lists what was wrong.
func Load(getenv func(string) string) (Config, error) {
	c := Default()
	e := &Error{}
	bad := func(v, format string, args ...any) {
		e.Problems = append(e.Problems, Problem{Var: v, Problem: fmt.Sprintf(format, args...)})
	}
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }

	if v := get(EnvEventBusName); v != "" {
		if !validBusName(v) {
			bad(EnvEventBusName, "%q is not a bus name (letters, digits, '_', '-', '.', at most 127)", v)
		} else {
			c.EventBusName = v
		}
	}
	if v := get(EnvEventSource); v != "" {
		if len(v) > 128 {
			bad(EnvEventSource, "longer than 128 characters (EventBridge's limit for an event source)")
		} else {
			c.EventSource = v
		}
	}
	if v := get(EnvECSEndpoint); v != "" {
		u, err := parseEndpoint(v)
		if err != nil {
			bad(EnvECSEndpoint, "%v", err)
		} else {
			c.ECSEndpoint = u
		}
	}
	if v := get(EnvEventBridgeEndpoint); v != "" {
		u, err := parseEndpoint(v)
		if err != nil {
			bad(EnvEventBridgeEndpoint, "%v", err)
		} else {
			c.EventBridgeEndpoint = u
		}
	}
	if v := get(EnvTagSelector); v != "" {
		sel, err := ParseTagSelector(v)
		if err != nil {
			bad(EnvTagSelector, "%v", err)
		} else {
			c.TagSelector = sel
		}
	}
	if v := get(EnvDetachTimeout); v != "" {
		d, err := parseDuration(v)
		switch {
		case err != nil:
			bad(EnvDetachTimeout, "%v", err)
		case d <= 0 || d > MaxDetachTimeout:
			bad(EnvDetachTimeout, "%s is out of range (more than 0, at most 24h)", v)
		default:
			c.DetachTimeout = d
		}
	}
	if v := get(EnvRedetachAfter); v != "" {
		d, err := parseDuration(v)
		switch {
		case err != nil:
			bad(EnvRedetachAfter, "%v", err)
		case d <= 0 || d > MaxDetachTimeout:
			bad(EnvRedetachAfter, "%s is out of range (more than 0, at most 24h)", v)
		default:
			c.RedetachAfter = d
		}
	}
	if v := get(EnvDryRun); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			bad(EnvDryRun, "%q is not a boolean (true or false)", v)
		} else {
			c.DryRun = b
		}
	}
	if v := get(EnvLogLevel); v != "" {
		lvl, err := zerolog.ParseLevel(strings.ToLower(v))
		if err != nil || lvl == zerolog.NoLevel {
			bad(EnvLogLevel, "%q is not a level (trace, debug, info, warn, error, fatal, panic, disabled)", v)
		} else {
			c.LogLevel = lvl
		}
	}
	if v := get(EnvMaintenanceLead); v != "" {
		d, err := parseDuration(v)
		switch {
		case err != nil:
			bad(EnvMaintenanceLead, "%v", err)
		case d < 0 || d > MaxMaintenanceLead:
			bad(EnvMaintenanceLead, "%s is out of range (0 to act on Executing events only, at most 24h)", v)
		default:
			c.MaintenanceLead = d
		}
	}
	if len(e.Problems) > 0 {
		return c, e
	}
	return c, nil
}

// parseDuration accepts Go durations ("90s", "2m") and bare seconds ("90"),
// the form FC's own timeout setting uses.
func parseDuration(v string) (time.Duration, error) {
	if n, err := strconv.Atoi(v); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (e.g. 120s, 2m, or seconds as a number)", v)
	}
	return d, nil
}

// parseEndpoint accepts scheme://host[:port] with an optional trailing "/".
func parseEndpoint(v string) (*url.URL, error) {
	u, err := url.Parse(v)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%q is not a URL of the form http(s)://host[:port]", v)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%q: the scheme must be http or https", v)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil || u.Fragment != "" {
		return nil, fmt.Errorf("%q: only scheme, host and port are allowed", v)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("%q: bad port", v)
		}
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, nil
}

// MarshalZerologObject logs the configuration. It holds no secret.
func (c Config) MarshalZerologObject(e *zerolog.Event) {
	e.Str("event_bus_name", c.EventBusName).
		Str("event_source", c.EventSource).
		Str("eni_tag_selector", c.TagSelector.String()).
		Dur("detach_timeout_ms", c.DetachTimeout).
		Dur("redetach_after_ms", c.RedetachAfter).
		Bool("dry_run", c.DryRun).
		Dur("maintenance_lead_ms", c.MaintenanceLead).
		Str("log_level", c.LogLevel.String())
	if c.ECSEndpoint != nil {
		e.Str("ecs_endpoint", c.ECSEndpoint.String())
	}
	if c.EventBridgeEndpoint != nil {
		e.Str("eventbridge_endpoint", c.EventBridgeEndpoint.String())
	}
}
