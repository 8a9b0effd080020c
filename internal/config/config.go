// Package config reads the function's environment (README, "Configuration").
// Every variable is one row of a table: its name, how a value is parsed into
// Config, and how it is logged. Load parses all of them and reports every
// problem at once, naming the variable.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

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
	EnvECSQuotaWindow      = "ECS_QUOTA_WINDOW"
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
	// DefaultQuotaWindow is ECS's flow-control window: quotas count calls
	// per minute, and a call throttled in minute T works from minute T+1.
	DefaultQuotaWindow = time.Minute
	// MaxQuotaWindow bounds ECS_QUOTA_WINDOW: no flow-control window of
	// ECS is longer than an hour.
	MaxQuotaWindow = time.Hour
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
	// EventBridgeEndpoint is a scheme://host[:port] override; nil means
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
	// QuotaWindow is the length of ECS's flow-control window.
	QuotaWindow time.Duration

	// Cross-account (README, "One function for an organisation").
	// TargetRoleARN is the role to assume in a member account, with
	// AccountPlaceholder where the account goes; empty: own account only.
	TargetRoleARN        string
	TargetAccounts       TargetAccounts
	TargetRoleExternalID string
	// STSEndpoint is a scheme://host[:port] override; nil means the SDK's
	// regional STS endpoint over HTTPS.
	STSEndpoint *url.URL

	// rejected holds the raw value of every variable Load refused, by
	// name, so that the start-up log shows it instead of the default the
	// field kept.
	rejected map[string]string
}

// Default returns the configuration of an empty environment.
func Default() Config {
	return Config{DetachTimeout: DefaultDetachTimeout, RedetachAfter: DefaultRedetachAfter, LogLevel: DefaultLogLevel,
		MaintenanceLead: DefaultMaintenanceLead, QuotaWindow: DefaultQuotaWindow}
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

// variable is one row of the configuration table. parse is given the
// trimmed, non-empty value and sets its field, or returns the problem
// (leaving the default); log writes the field to the start-up log line.
type variable struct {
	name  string
	parse func(c *Config, v string) error
	log   func(c Config, e *zerolog.Event)
}

// variables is every environment variable the function reads, in the order
// problems are reported.
var variables = append(baseVariables, targetVariables...)

var baseVariables = []variable{
	{EnvEventBusName, func(c *Config, v string) error {
		if !validBusName(v) {
			return fmt.Errorf("%q is not a bus name (letters, digits, '_', '-', '.', at most 127)", v)
		}
		c.EventBusName = v
		return nil
	}, func(c Config, e *zerolog.Event) { e.Str("event_bus_name", c.EventBusName) }},

	{EnvEventSource, func(c *Config, v string) error {
		if len(v) > 128 {
			return errors.New("longer than 128 characters (EventBridge's limit for an event source)")
		}
		c.EventSource = v
		return nil
	}, func(c Config, e *zerolog.Event) { e.Str("event_source", c.EventSource) }},

	{EnvECSEndpoint, parsedVar(ParseEndpoint, func(c *Config) **url.URL { return &c.ECSEndpoint }), func(c Config, e *zerolog.Event) {
		if c.ECSEndpoint != nil {
			e.Str("ecs_endpoint", c.ECSEndpoint.String())
		}
	}},

	{EnvEventBridgeEndpoint, parsedVar(ParseEndpoint, func(c *Config) **url.URL { return &c.EventBridgeEndpoint }), func(c Config, e *zerolog.Event) {
		if c.EventBridgeEndpoint != nil {
			e.Str("eventbridge_endpoint", c.EventBridgeEndpoint.String())
		}
	}},

	{EnvTagSelector, parsedVar(ParseTagSelector, func(c *Config) *TagSelector { return &c.TagSelector }),
		func(c Config, e *zerolog.Event) { e.Str("eni_tag_selector", c.TagSelector.String()) }},

	{EnvDetachTimeout, parsedVar(durationIn(time.Nanosecond, MaxDetachTimeout, "more than 0, at most 24h"),
		func(c *Config) *time.Duration { return &c.DetachTimeout }),
		func(c Config, e *zerolog.Event) { e.Dur("detach_timeout_ms", c.DetachTimeout) }},

	{EnvRedetachAfter, parsedVar(durationIn(time.Nanosecond, MaxDetachTimeout, "more than 0, at most 24h"),
		func(c *Config) *time.Duration { return &c.RedetachAfter }),
		func(c Config, e *zerolog.Event) { e.Dur("redetach_after_ms", c.RedetachAfter) }},

	{EnvDryRun, func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%q is not a boolean (true or false)", v)
		}
		c.DryRun = b
		return nil
	}, func(c Config, e *zerolog.Event) { e.Bool("dry_run", c.DryRun) }},

	{EnvLogLevel, func(c *Config, v string) error {
		lvl, err := zerolog.ParseLevel(strings.ToLower(v))
		if err != nil || lvl == zerolog.NoLevel {
			return fmt.Errorf("%q is not a level (trace, debug, info, warn, error, fatal, panic, disabled)", v)
		}
		c.LogLevel = lvl
		return nil
	}, func(c Config, e *zerolog.Event) { e.Str("log_level", c.LogLevel.String()) }},

	{EnvMaintenanceLead, parsedVar(durationIn(0, MaxMaintenanceLead, "0 to act on Executing events only, at most 24h"),
		func(c *Config) *time.Duration { return &c.MaintenanceLead }),
		func(c Config, e *zerolog.Event) { e.Dur("maintenance_lead_ms", c.MaintenanceLead) }},

	{EnvECSQuotaWindow, parsedVar(durationIn(time.Second, MaxQuotaWindow, "at least 1s, at most 1h; ECS's window is 1m"),
		func(c *Config) *time.Duration { return &c.QuotaWindow }),
		func(c Config, e *zerolog.Event) { e.Dur("ecs_quota_window_ms", c.QuotaWindow) }},
}

// parsedVar is the parse of a variable whose value parse turns into the
// field; on error the field keeps its default.
func parsedVar[T any](parse func(string) (T, error), field func(*Config) *T) func(*Config, string) error {
	return func(c *Config, v string) error {
		x, err := parse(v)
		if err != nil {
			return err
		}
		*field(c) = x
		return nil
	}
}

// durationIn returns a parser of durations from lo to hi; want says the
// range in its error.
func durationIn(lo, hi time.Duration, want string) func(string) (time.Duration, error) {
	return func(v string) (time.Duration, error) {
		d, err := parseDuration(v)
		if err == nil && (d < lo || d > hi) {
			err = fmt.Errorf("%s is out of range (%s)", v, want)
		}
		return d, err
	}
}

// Load reads the configuration through getenv (os.Getenv in production).
// It always returns a usable Config (defaults where a value is bad) so the
// caller can log it; err lists what was wrong.
func Load(getenv func(string) string) (Config, error) {
	c := Default()
	e := &Error{}
	for _, v := range variables {
		raw := strings.TrimSpace(getenv(v.name))
		if raw == "" {
			continue
		}
		if err := v.parse(&c, raw); err != nil {
			e.Problems = append(e.Problems, Problem{Var: v.name, Problem: err.Error()})
			if c.rejected == nil {
				c.rejected = map[string]string{}
			}
			c.rejected[v.name] = raw
		}
	}
	// A variable that was rejected already is not reported again for
	// what it lacks.
	for _, p := range crossAccountProblems(c) {
		if _, bad := c.rejected[p.Var]; !bad {
			e.Problems = append(e.Problems, p)
		}
	}
	if len(e.Problems) > 0 {
		return c, e
	}
	return c, nil
}

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

// ParseEndpoint is the one parser of service endpoint overrides
// (ECS_ENDPOINT, EVENTBRIDGE_ENDPOINT): scheme://host[:port] with an
// optional trailing "/", scheme http or https. It returns just the scheme
// and host, which is what both SDK adapters take.
func ParseEndpoint(v string) (*url.URL, error) {
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

// maxLoggedValue bounds a rejected value in the log: enough to recognise
// it, never a whole pasted file.
const maxLoggedValue = 200

// MarshalZerologObject logs the configuration. It holds no secret. A
// variable Load rejected is logged under "rejected" with its raw value,
// quoted, instead of the default its field kept: a rejected
// ENI_TAG_SELECTOR must not read as "no selector".
func (c Config) MarshalZerologObject(e *zerolog.Event) {
	var rejected *zerolog.Event
	for _, v := range variables {
		raw, bad := c.rejected[v.name]
		if !bad {
			v.log(c, e)
			continue
		}
		if rejected == nil {
			rejected = zerolog.Dict()
		}
		rejected.Str(v.name, quoteValue(raw))
	}
	if rejected != nil {
		e.Dict("rejected", rejected)
	}
}

// quoteValue quotes a raw environment value for a log line: Go syntax, so
// control characters and invisible spaces show, cut at maxLoggedValue.
func quoteValue(s string) string {
	if len(s) > maxLoggedValue {
		cut := maxLoggedValue
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "…"
	}
	return strconv.Quote(s)
}
