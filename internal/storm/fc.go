package storm

import (
	"context"
	"sync"
	"time"

	"github.com/eni-detach/eni-detach/internal/emulator/fcruntime"
)

// answerGrace is how long past its deadline the storm waits for an
// invocation's answer before counting it as never answered (FC would
// have killed it; the storm counts it late and lets FC retry it).
const answerGrace = 30 * time.Second

// job is one event on its way through FC's asynchronous queue.
type job struct {
	inst      *instance
	requestID string
	arrival   time.Time
	attempt   int // 0: first invocation; n: n-th async retry
}

// attemptLog is one invocation of an event.
type attemptLog struct {
	requestID  string
	attempt    int
	fcInstance int
	dispatched time.Time
	deadline   time.Time
	completed  time.Time
	status     string // fcruntime.StatusResponse / StatusError; "" never answered
	late       bool
	message    string // the error an invocation returned
}

// asyncQueue is FC's asynchronous invocation of one function: events
// wait in a queue, any free slot of any instance takes the next one, and
// an invocation that returns an error (or never answers) is invoked again
// after RetryDelay, doubled per retry, until maxAsyncRetryAttempts or the
// event's maximum age.
type asyncQueue struct {
	cfg     Config
	servers []*fcruntime.Server
	queue   chan *job      // holds every event at most once: sends never block
	stop    chan struct{}  // closed when the storm is over
	events  sync.WaitGroup // events not yet finished (answered or given up)
	workers sync.WaitGroup

	mu      sync.Mutex
	log     []attemptLog
	dropped []string // request ids FC gave up on
}

func newAsyncQueue(cfg Config, servers []*fcruntime.Server, events int) *asyncQueue {
	return &asyncQueue{cfg: cfg, servers: servers, queue: make(chan *job, events), stop: make(chan struct{})}
}

// start runs one worker per slot of every FC instance.
func (q *asyncQueue) start(ctx context.Context) {
	for i, srv := range q.servers {
		for range q.cfg.Function.InstanceConcurrency {
			q.workers.Go(func() {
				for {
					select {
					case j := <-q.queue:
						q.invoke(ctx, i, srv, j)
					case <-q.stop:
						return
					}
				}
			})
		}
	}
}

// submit queues an event that has just arrived.
func (q *asyncQueue) submit(j *job) {
	q.events.Add(1)
	q.queue <- j
}

// wait returns when every event is finished or ctx ends, then stops the
// workers.
func (q *asyncQueue) wait(ctx context.Context) {
	done := make(chan struct{})
	go func() { q.events.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
	close(q.stop)
	q.workers.Wait()
}

func (q *asyncQueue) invoke(ctx context.Context, fcInstance int, srv *fcruntime.Server, j *job) {
	if ctx.Err() != nil {
		q.events.Done()
		return
	}
	ictx, cancel := context.WithTimeout(ctx, q.cfg.Function.Timeout+answerGrace)
	res, err := srv.Invoke(ictx, fcruntime.Invocation{
		RequestID: j.requestID, Payload: j.inst.payload, Timeout: q.cfg.Function.Timeout, RetryCount: j.attempt,
	})
	cancel()
	a := attemptLog{
		requestID: j.requestID, attempt: j.attempt, fcInstance: fcInstance,
		dispatched: res.DispatchedAt, deadline: res.Deadline, completed: res.CompletedAt, status: res.Status,
	}
	if err != nil {
		a.status, a.late, a.message = "", true, err.Error()
	} else {
		a.late = res.CompletedAt.After(res.Deadline)
		a.message = res.ErrorMessage
	}
	q.mu.Lock()
	q.log = append(q.log, a)
	q.mu.Unlock()
	if a.status == fcruntime.StatusResponse || ctx.Err() != nil {
		q.events.Done()
		return
	}
	q.retry(ctx, j)
}

// retry invokes the event again later, unless FC would give up on it.
func (q *asyncQueue) retry(ctx context.Context, j *job) {
	delay := q.cfg.RetryDelay << min(j.attempt, 20)
	next := &job{inst: j.inst, requestID: j.requestID, arrival: j.arrival, attempt: j.attempt + 1}
	if next.attempt > q.cfg.Function.MaxAsyncRetries || time.Since(j.arrival)+delay > q.cfg.Function.MaxEventAge {
		q.mu.Lock()
		q.dropped = append(q.dropped, j.requestID)
		q.mu.Unlock()
		q.events.Done()
		return
	}
	go func() {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
			q.queue <- next
		case <-q.stop:
		}
	}()
}

// attempts returns a copy of the invocation log.
func (q *asyncQueue) attempts() ([]attemptLog, []string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]attemptLog(nil), q.log...), append([]string(nil), q.dropped...)
}

// inFlight counts invocations dispatched and not answered, over every
// FC instance.
func (q *asyncQueue) inFlight() int {
	n := 0
	for _, s := range q.servers {
		n += s.Stats().InFlight
	}
	return n
}
