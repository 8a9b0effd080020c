// Package testenv starts the emulators and wires the production adapters
// to them, for tests in any package. Nothing here is used by the binary.
package testenv

import (
	"fmt"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eni-detach/eni-detach/internal/config"
	"github.com/eni-detach/eni-detach/internal/creds"
	"github.com/eni-detach/eni-detach/internal/detach"
	"github.com/eni-detach/eni-detach/internal/ecsapi"
	ecsemu "github.com/eni-detach/eni-detach/internal/emulator/ecs"
)

// Region is the emulators' default region.
const Region = "cn-hangzhou"

// ECS is a running ECS emulator and a production client factory pointed
// at it.
type ECS struct {
	Srv     *ecsemu.Server
	URL     *url.URL
	Factory *ecsapi.Factory
	Creds   creds.Credentials
}

var credSeq atomic.Int64

// NewCreds registers and returns a fresh STS triple with srv.
func NewCreds(srv *ecsemu.Server) creds.Credentials {
	n := credSeq.Add(1)
	c := creds.Credentials{
		AccessKeyID:     fmt.Sprintf("STS.test%04d", n),
		AccessKeySecret: fmt.Sprintf("secret-%04d-do-not-log", n),
		SecurityToken:   fmt.Sprintf("token-%04d-do-not-log", n),
	}
	srv.AddCredentials(c)
	return c
}

// StartECS starts an ECS emulator with a 100 ms detach delay (unless opts
// say otherwise), registers one STS credential, and closes it at cleanup.
func StartECS(t testing.TB, opts ...ecsemu.Option) *ECS {
	t.Helper()
	srv, err := ecsemu.Start(append([]ecsemu.Option{ecsemu.WithDetachDelay(100 * time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	u := serving(t, srv)
	return &ECS{Srv: srv, URL: u, Factory: ecsapi.NewFactory(ecsapi.Options{Endpoint: u}), Creds: NewCreds(srv)}
}

// serving closes a started emulator at cleanup and returns its URL.
func serving(t testing.TB, srv interface {
	URL() string
	Close() error
}) *url.URL {
	t.Helper()
	t.Cleanup(func() { _ = srv.Close() })
	u, err := url.Parse(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// API returns a client signing with the default test credentials.
func (e *ECS) API() ecsapi.API { return e.Factory.Client(e.Creds) }

// FastPolicy is the production policy with every delay shrunk so that a
// whole detach (100 ms in the emulator) runs in well under a second.
func FastPolicy() detach.Policy {
	p := detach.DefaultPolicy(config.Default())
	p.DetachTimeout = 5 * time.Second
	p.RedetachAfter = 300 * time.Millisecond
	p.DeadlineMargin = 300 * time.Millisecond
	p.CallReserve = 100 * time.Millisecond
	p.Poll = detach.PollSchedule{First: 30 * time.Millisecond, Step: 10 * time.Millisecond, Max: 100 * time.Millisecond}
	p.Retry = detach.RetryPolicy{MaxAttempts: 4, BaseDelay: 10 * time.Millisecond, MaxDelay: 50 * time.Millisecond}
	p.QuotaWindow = 500 * time.Millisecond
	p.FollowReserve = 200 * time.Millisecond
	p.StateRetryDelay = 20 * time.Millisecond
	p.StateRetryMax = 100 * time.Millisecond
	return p
}

// Instance adds a Running instance with a primary ENI and n secondary ENIs
// (InUse, tagged team=sre) and returns the secondary ids.
func (e *ECS) Instance(t testing.TB, instanceID string, n int) []string {
	t.Helper()
	if err := e.Srv.AddInstance(ecsemu.Instance{ID: instanceID, Status: ecsemu.InstanceRunning}); err != nil {
		t.Fatal(err)
	}
	suffix := instanceID[len("i-"):]
	if err := e.Srv.AddENI(ecsemu.ENI{ID: "eni-p" + suffix, Type: ecsemu.ENIPrimary, InstanceID: instanceID}); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("eni-%s%03d", suffix, i)
		if err := e.Srv.AddENI(ecsemu.ENI{ID: ids[i], InstanceID: instanceID, Tags: map[string]string{"team": "sre"}}); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}
