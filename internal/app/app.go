// Package app wires the production pieces together from the environment.
// FC mode, the detach CLI and local mode all build their handler here, so
// they run the same code.
package app

import (
	"io"
	"time"

	"github.com/rs/zerolog"

	"github.com/eni-detach/eni-detach/handler"
	"github.com/eni-detach/eni-detach/internal/config"
	"github.com/eni-detach/eni-detach/internal/crossaccount"
	"github.com/eni-detach/eni-detach/internal/detach"
	"github.com/eni-detach/eni-detach/internal/ecsapi"
	"github.com/eni-detach/eni-detach/internal/publish"
	"github.com/eni-detach/eni-detach/internal/stsapi"
)

// Options adjust the wiring for tests and local mode.
type Options struct {
	// Policy, when set, edits the engine policy (tests shrink its delays).
	Policy func(*detach.Policy)
}

// New reads the configuration through getenv and returns the handler. An
// invalid configuration is logged here, at start-up, and the handler
// answers every invocation with it (README, "Configuration"); it is also
// returned.
func New(getenv func(string) string, logOut io.Writer, o Options) (*handler.Handler, error) {
	cfg, cfgErr := config.Load(getenv)
	logger := NewLogger(logOut, cfg.LogLevel)
	if cfgErr != nil {
		logger.Error().Err(cfgErr).Object("config", cfg).Msg("invalid configuration: every invocation will fail until it is fixed")
	} else {
		logger.Info().Object("config", cfg).Msg("configuration loaded")
	}
	if cfg.TargetAccounts.Any {
		logger.Warn().Str("target_role_arn", cfg.TargetRoleARN).
			Msg("TARGET_ACCOUNTS is *: the function may act in any account whose role trusts it; list the accounts to limit it")
	}
	var cross *crossaccount.Cache
	if cfg.CrossAccount() {
		cross = crossaccount.NewCache(stsapi.New(stsapi.Options{Endpoint: cfg.STSEndpoint}))
	}
	policy := detach.DefaultPolicy(cfg)
	if o.Policy != nil {
		o.Policy(&policy)
	}
	var pub handler.Publisher
	if cfg.EventBusName != "" {
		pub = publish.New(publish.Config{Endpoint: cfg.EventBridgeEndpoint})
	}
	h := handler.New(handler.Deps{
		Config:       cfg,
		ConfigErr:    cfgErr,
		ECS:          ecsapi.NewFactory(ecsapi.Options{Endpoint: cfg.ECSEndpoint}),
		CrossAccount: cross,
		Publisher:    pub,
		Engine:       detach.NewEngine(policy),
		Logger:       logger,
		Getenv:       getenv,
	})
	return h, cfgErr
}

// NewLogger returns the JSON logger: snake_case fields, RFC 3339 times in
// milliseconds, level from LOG_LEVEL.
func NewLogger(w io.Writer, level zerolog.Level) zerolog.Logger {
	return zerolog.New(w).Level(level).With().Timestamp().Str("service", "eni-detach").Logger()
}

func init() {
	// zerolog's field names and time format are package settings; set
	// once here, before any logger exists, and never changed after.
	zerolog.TimeFieldFormat = time.RFC3339Nano
	zerolog.DurationFieldUnit = time.Millisecond
	zerolog.DurationFieldInteger = true
}
