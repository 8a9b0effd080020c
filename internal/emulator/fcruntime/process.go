package fcruntime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// stopGrace is how long Stop lets the child handle SIGTERM before SIGKILL.
const stopGrace = 2 * time.Second

// Line is one line the child wrote.
type Line struct {
	Stream string // "stdout" or "stderr"
	Text   string
	At     time.Time
}

// Process is a function binary running against a Server.
type Process struct {
	cmd       *exec.Cmd
	StartedAt time.Time // just before exec: cold start = WaitFirstNext − StartedAt

	out *lineLog

	exited   chan struct{}
	waitErr  error            // valid once exited is closed
	state    *os.ProcessState // valid once exited is closed
	stopOnce sync.Once
	stopErr  error
}

// StartProcess runs the binary at path with the Server's Env plus extraEnv
// (later entries win) and nothing inherited from the test process, as on an
// FC instance. ctx bounds the process's life: when it ends the child is
// killed. Close stops the process too.
func (s *Server) StartProcess(ctx context.Context, path string, extraEnv []string) (*Process, error) {
	if s.isClosed() {
		return nil, ErrClosed
	}
	cmd := exec.CommandContext(ctx, path)
	cmd.Env = append(s.Env(), extraEnv...)
	out := &lineLog{}
	cmd.Stdout = out.writer("stdout")
	cmd.Stderr = out.writer("stderr")
	// A grandchild holding the pipes must not keep Wait from returning.
	cmd.WaitDelay = time.Second

	p := &Process{cmd: cmd, out: out, exited: make(chan struct{})}
	p.StartedAt = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("fcruntime: start %s: %w", path, err)
	}
	go func() {
		p.waitErr = cmd.Wait()
		p.state = cmd.ProcessState
		close(p.exited)
	}()
	s.mu.Lock()
	s.procs = append(s.procs, p)
	s.mu.Unlock()
	return p, nil
}

// PID is the child's process id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Exited is closed when the child has exited, for whatever reason.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Lines returns everything the child wrote so far, in order of arrival.
func (p *Process) Lines() []Line { return p.out.lines() }

// Output returns the text of every line so far, "stream: text" per line, for
// failure messages.
func (p *Process) Output() string {
	var b strings.Builder
	for _, l := range p.Lines() {
		b.WriteString(l.Stream + ": " + l.Text + "\n")
	}
	return b.String()
}

// Stop sends SIGTERM, then SIGKILL after a grace period, and waits for the
// child to exit. It reports an error only if the child had already exited on
// its own with a failure, or could not be signalled; being stopped is not one.
func (p *Process) Stop() error {
	p.stopOnce.Do(func() {
		select {
		case <-p.exited:
			p.stopErr = p.waitErr
			return
		default:
		}
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
			p.stopErr = err
		}
		select {
		case <-p.exited:
		case <-time.After(stopGrace):
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
	return p.stopErr
}

// PeakRSS is the child's peak resident set size in bytes: VmHWM from
// /proc/PID/status while it runs, the kernel's ru_maxrss once it has exited.
func (p *Process) PeakRSS() (int64, error) {
	select {
	case <-p.exited:
		return p.exitedMaxRSS()
	default:
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(p.PID()) + "/status")
	if err != nil {
		// It may have exited between the check and the read.
		select {
		case <-p.exited:
			return p.exitedMaxRSS()
		default:
			return 0, fmt.Errorf("fcruntime: peak RSS: %w", err)
		}
	}
	return parseVmHWM(b)
}

func (p *Process) exitedMaxRSS() (int64, error) {
	if p.state == nil {
		return 0, errors.New("fcruntime: peak RSS: no process state")
	}
	ru, ok := p.state.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, errors.New("fcruntime: peak RSS: no rusage on this platform")
	}
	return ru.Maxrss * 1024, nil // Linux reports kilobytes
}

func parseVmHWM(status []byte) (int64, error) {
	for line := range bytes.Lines(status) {
		rest, ok := bytes.CutPrefix(line, []byte("VmHWM:"))
		if !ok {
			continue
		}
		f := strings.Fields(string(rest))
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("fcruntime: unexpected VmHWM line %q", line)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("fcruntime: VmHWM: %w", err)
		}
		return kb * 1024, nil
	}
	return 0, errors.New("fcruntime: no VmHWM in /proc status")
}

// lineLog splits both output streams into lines as they arrive.
type lineLog struct {
	mu   sync.Mutex
	all  []Line
	part map[string][]byte // unterminated tail per stream
}

func (l *lineLog) writer(stream string) *streamWriter { return &streamWriter{log: l, stream: stream} }

func (l *lineLog) lines() []Line {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Line, len(l.all), len(l.all)+len(l.part))
	copy(out, l.all)
	for _, stream := range []string{"stdout", "stderr"} {
		if tail := l.part[stream]; len(tail) > 0 {
			out = append(out, Line{Stream: stream, Text: string(tail)})
		}
	}
	return out
}

type streamWriter struct {
	log    *lineLog
	stream string
}

func (w *streamWriter) Write(b []byte) (int, error) {
	l := w.log
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.part == nil {
		l.part = map[string][]byte{}
	}
	buf := append(l.part[w.stream], b...)
	now := time.Now()
	for {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			break
		}
		l.all = append(l.all, Line{Stream: w.stream, Text: string(bytes.TrimSuffix(buf[:i], []byte("\r"))), At: now})
		buf = buf[i+1:]
	}
	l.part[w.stream] = append([]byte(nil), buf...)
	return len(b), nil
}
