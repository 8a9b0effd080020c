// Package loopback is how every emulator is served: on a free port of
// 127.0.0.1, with a Close that also releases the requests it holds, and a
// way to drop a connection the way a failing cloud endpoint does.
package loopback

import (
	"errors"
	"net"
	"net/http"
	"sync"
	"time"
)

// Listener is where an emulator listens. An emulator embeds it to offer
// Addr, URL and Close; its zero value listens nowhere, and the emulator is
// then only an http.Handler (in-process tests). All methods are safe for
// concurrent use.
type Listener struct {
	mu     sync.Mutex
	addr   string
	srv    *http.Server
	closed chan struct{} // made on first use; closed by Close
}

// Serve listens on addr ("" means 127.0.0.1:0, a free loopback port) and
// serves h there until Close. It is a function rather than a method so that
// the emulators embedding a Listener do not offer it.
func Serve(l *Listener, addr string, h http.Handler) error {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	l.mu.Lock()
	l.addr, l.srv = ln.Addr().String(), srv
	l.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
	return nil
}

// Closed is closed by Close: a request an emulator holds on purpose (an
// injected hang or latency) waits on it too, so that Close releases it even
// when the emulator is only an http.Handler.
func Closed(l *Listener) <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closedLocked()
}

func (l *Listener) closedLocked() chan struct{} {
	if l.closed == nil {
		l.closed = make(chan struct{})
	}
	return l.closed
}

// Addr is "127.0.0.1:PORT", the bare host:port SDK clients take as their
// domain or endpoint; "" until served.
func (l *Listener) Addr() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.addr
}

// URL is "http://127.0.0.1:PORT"; "" until served.
func (l *Listener) URL() string {
	if a := l.Addr(); a != "" {
		return "http://" + a
	}
	return ""
}

// Close releases held requests and, if serving, stops listening and closes
// every connection (handlers see their request context cancelled). Later
// calls do nothing.
func (l *Listener) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	closed := l.closedLocked()
	select {
	case <-closed:
		return nil
	default:
	}
	close(closed)
	if l.srv == nil {
		return nil
	}
	err := l.srv.Close()
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// ResetConn drops the connection without an answer: the client sees a
// transport error (EOF, connection reset), as from a crashed or overloaded
// load balancer.
func ResetConn(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		// HTTP/2 or a test recorder: the closest thing is aborting the
		// handler, which makes the server drop the stream.
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		// Linger 0 sends RST instead of FIN: a real "connection reset".
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}
