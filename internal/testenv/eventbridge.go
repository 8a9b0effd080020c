package testenv

import (
	"net/url"
	"testing"
	"time"

	"github.com/eni-detach/eni-detach/internal/creds"
	ebemu "github.com/eni-detach/eni-detach/internal/emulator/eventbridge"
	"github.com/eni-detach/eni-detach/internal/publish"
)

// Bus is the event bus StartEventBridge creates.
const Bus = "eni-detach-test"

// EventBridge is a running EventBridge emulator with Bus created.
type EventBridge struct {
	Srv *ebemu.Server
	// URL is http://127.0.0.1:port, the form EVENTBRIDGE_ENDPOINT and
	// publish.Config.Endpoint take.
	URL string
	Bus string

	endpoint *url.URL
}

// StartEventBridge starts an EventBridge emulator, creates Bus, registers
// the given credentials (pass the ones the invocations carry, e.g.
// (*ECS).Creds, so that both emulators accept the same STS triple) and
// closes it at cleanup.
func StartEventBridge(t testing.TB, registered ...creds.Credentials) *EventBridge {
	t.Helper()
	srv := ebemu.New()
	if err := srv.Start(""); err != nil {
		t.Fatal(err)
	}
	u := serving(t, srv)
	srv.AddBus(Bus)
	for _, c := range registered {
		srv.AddCredentials(c)
	}
	return &EventBridge{Srv: srv, URL: srv.URL(), Bus: Bus, endpoint: u}
}

// PublishConfig points the production publisher at the emulator, with
// retry delays shrunk so that a test riding out several failed rounds
// still takes milliseconds.
func (e *EventBridge) PublishConfig() publish.Config {
	return publish.Config{
		Endpoint:       e.Endpoint(),
		MaxAttempts:    4,
		BaseBackoff:    time.Millisecond,
		MaxBackoff:     5 * time.Millisecond,
		MaxCallTimeout: 2 * time.Second,
	}
}

// Endpoint is URL parsed, the form publish.Config.Endpoint takes; a copy,
// which the caller may change.
func (e *EventBridge) Endpoint() *url.URL {
	u := *e.endpoint
	return &u
}

// Publisher is publish.New(e.PublishConfig()).
func (e *EventBridge) Publisher() *publish.Publisher { return publish.New(e.PublishConfig()) }
