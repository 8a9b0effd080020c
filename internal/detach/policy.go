// Package detach is the detach policy: look at the ENIs, refuse what must
// not be touched, call DetachNetworkInterface, follow the asynchronous
// detach to Available, re-issue a stuck one, and stop in time for the
// function to answer before its deadline.
package detach

import (
	"time"

	"github.com/eni-detach/eni-detach/internal/config"
)

// Policy holds the engine's knobs. DetachTimeout, RedetachAfter and
// TagSelector come from the environment; the rest are tuned constants
// (README, "Configuration") that tests shrink.
type Policy struct {
	DetachTimeout time.Duration
	RedetachAfter time.Duration
	// MaxReissues bounds re-issued detaches per ENI (README, "What it
	// does": at most 3, so at most four accepted detach calls).
	MaxReissues int
	// DeadlineMargin is kept free before the FC deadline: waiting stops
	// this early so that publishing and answering still fit.
	DeadlineMargin time.Duration
	// CallReserve is kept free before the FC deadline even for ECS calls:
	// a hung call ends this early.
	CallReserve time.Duration
	Poll        PollSchedule
	Retry       RetryPolicy
	// StateRetryDelay is the first wait before retrying a detach that ECS
	// refused for a transient state (instance Stopping); it doubles up to
	// StateRetryMax.
	StateRetryDelay time.Duration
	StateRetryMax   time.Duration
	TagSelector     config.TagSelector
	// PageSize is MaxResults for instance-wide listings.
	PageSize int
	// QuotaWindow is ECS's flow-control window (ECS_QUOTA_WINDOW).
	QuotaWindow time.Duration
	// FollowReserve is the time a detach needs to be seen Available: a
	// detach call that would have to wait for ECS's quota until later
	// than this before the end of the wait budget is not made, and the
	// ENI ends Failed (retryable) for FC's retry to take over.
	FollowReserve time.Duration
	// DetachConcurrency bounds detach calls in flight per invocation.
	DetachConcurrency int
	// Clock is the time source; nil means the real clock.
	Clock Clock
}

// PollSchedule spaces the describes that follow a detach: First after the
// detach, then each gap Step longer than the last, up to Max. ENI detaches
// usually take 2–6 s; with 1 s, 1.2 s, 1.4 s, 1.6 s … a 2 s detach is seen
// at 2.2 s and a 5 s one at 5.2 s, within four describes.
type PollSchedule struct {
	First time.Duration
	Step  time.Duration
	Max   time.Duration
}

// gap returns the wait before poll number n (0-based) after a detach.
func (s PollSchedule) gap(n int) time.Duration {
	d := s.First + time.Duration(n)*s.Step
	if d > s.Max {
		d = s.Max
	}
	return d
}

// DefaultPolicy returns the production policy for a configuration.
func DefaultPolicy(c config.Config) Policy {
	return Policy{
		DetachTimeout:     c.DetachTimeout,
		RedetachAfter:     c.RedetachAfter,
		MaxReissues:       3,
		DeadlineMargin:    3 * time.Second,
		CallReserve:       time.Second,
		Poll:              PollSchedule{First: time.Second, Step: 200 * time.Millisecond, Max: 5 * time.Second},
		Retry:             DefaultRetryPolicy(),
		StateRetryDelay:   2 * time.Second,
		StateRetryMax:     10 * time.Second,
		TagSelector:       c.TagSelector,
		PageSize:          100,
		DetachConcurrency: 8,
		QuotaWindow:       c.QuotaWindow,
		FollowReserve:     10 * time.Second,
	}
}
