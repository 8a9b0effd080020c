package loopback

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestUnservedListener(t *testing.T) {
	var l Listener
	if l.Addr() != "" || l.URL() != "" {
		t.Fatalf("an unserved listener has an address: %q %q", l.Addr(), l.URL())
	}
	closed := Closed(&l)
	select {
	case <-closed:
		t.Fatal("closed before Close")
	default:
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-closed:
	default:
		t.Fatal("Close did not release held requests")
	}
	if err := l.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
}

func TestServeThenClose(t *testing.T) {
	var l Listener
	held := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/hold":
			close(held)
			<-Closed(&l)
		case "/reset":
			ResetConn(w)
		default:
			_, _ = io.WriteString(w, "ok")
		}
	})
	if err := Serve(&l, "", h); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(l.Addr(), "127.0.0.1:") || l.URL() != "http://"+l.Addr() {
		t.Fatalf("Addr %q URL %q", l.Addr(), l.URL())
	}
	resp, err := http.Get(l.URL() + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "ok" {
		t.Fatalf("body %q", body)
	}

	// A reset connection is a transport error, not an answer.
	if resp, err := http.Get(l.URL() + "/reset"); err == nil {
		resp.Body.Close()
		t.Fatalf("reset answered %d", resp.StatusCode)
	}

	// Close releases a held request and stops serving.
	done := make(chan struct{})
	go func() {
		defer close(done)
		if resp, err := http.Get(l.URL() + "/hold"); err == nil {
			resp.Body.Close()
		}
	}()
	<-held
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close left a held request hanging")
	}
	if resp, err := http.Get(l.URL() + "/"); err == nil {
		resp.Body.Close()
		t.Fatal("still serving after Close")
	}
}

func TestServeBadAddress(t *testing.T) {
	var l Listener
	if err := Serve(&l, "127.0.0.1:-1", http.NotFoundHandler()); err == nil {
		t.Fatal("listened on an impossible address")
	}
	if l.Addr() != "" {
		t.Fatalf("Addr %q after a failed Serve", l.Addr())
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}
