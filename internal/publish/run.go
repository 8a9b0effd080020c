package publish

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	eb "github.com/alibabacloud-go/eventbridge-sdk/eventbridge"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/eni-detach/eni-detach/eventschema"
	"github.com/eni-detach/eni-detach/internal/backoff"
	"github.com/eni-detach/eni-detach/internal/creds"
)

// run is the state of one Publish call.
type run struct {
	p      *Publisher
	ctx    context.Context
	client *eb.Client
	ep     endpoint
	events []eventschema.FollowUpEvent
	data   [][]byte          // events[i].Data, encoded once
	creds  creds.Credentials // for redacting error text
	rep    Report
	// failed holds the final or latest failure per event index; an index
	// is settled once it is published or permanently failed.
	failed  map[int]Failure
	settled map[int]bool
}

// Publish sends events, at most MaxBatch a call, signed with c. It never
// panics and returns by ctx's deadline. Entries that failed in the
// EntryList and calls that failed transiently are retried (only the events
// concerned) with jittered backoff while MaxAttempts and the deadline allow.
func (p *Publisher) Publish(ctx context.Context, c creds.Credentials, region, accountID string, events []eventschema.FollowUpEvent) (rep Report) {
	r := &run{p: p, ctx: ctx, events: events, data: make([][]byte, len(events)), creds: c,
		failed: map[int]Failure{}, settled: map[int]bool{}}
	if len(events) == 0 {
		return r.rep
	}
	defer func() {
		// Belt and braces: nothing below should panic, but a publisher
		// that can take the function down is worse than a lost event.
		if v := recover(); v != nil {
			r.failRest(CodeSDKError, "publisher panic: "+fmt.Sprint(v), false)
		}
		r.finish()
		rep = r.rep
	}()

	if p.cfgErr != nil {
		r.failRest(CodeInvalidEndpoint, p.cfgErr.Error(), false)
		return r.rep
	}
	if !c.Valid() {
		r.failRest(CodeInvalidCredentials, "no access key id or secret for this invocation", false)
		return r.rep
	}
	ep, err := p.resolve(region, accountID)
	if err != nil {
		r.failRest(CodeInvalidEndpoint, err.Error(), false)
		return r.rep
	}
	r.ep = ep
	client, err := newClient(c, ep, region)
	if err != nil {
		r.failRest(CodeSDKError, "creating the EventBridge client: "+err.Error(), false)
		return r.rep
	}
	r.client = client

	var pending []int
	for i, e := range events {
		data, err := json.Marshal(e.Data)
		if err != nil {
			r.settle(i, &Failure{EventID: e.ID, Code: CodeInvalidEvent, Message: "event data cannot be encoded: " + err.Error()})
			continue
		}
		r.data[i] = data
		if msg := validateEvent(e); msg != "" {
			r.settle(i, &Failure{EventID: e.ID, Code: CodeInvalidEvent, Message: msg})
			continue
		}
		pending = append(pending, i)
	}
	r.loop(pending)
	return r.rep
}

func (r *run) loop(pending []int) {
	for round := 1; len(pending) > 0; round++ {
		var retry []int
		for start := 0; start < len(pending); start += MaxBatch {
			batch := pending[start:min(start+MaxBatch, len(pending))]
			timeout, ok := callTimeout(r.ctx, r.p.cfg.MaxCallTimeout)
			if !ok || r.ctx.Err() != nil {
				r.failRest(CodeDeadlineExceeded, "no time left before the invocation's deadline", true)
				return
			}
			again, fatal := r.send(batch, timeout)
			retry = append(retry, again...)
			if fatal != nil {
				// The same credentials would fail every further call.
				r.failRest(fatal.code, fatal.message, false)
				return
			}
		}
		if len(retry) == 0 {
			return
		}
		if round >= r.p.cfg.MaxAttempts {
			r.failRest("", "", false)
			return
		}
		if !r.backoff(round) {
			r.failRest("", "", false)
			return
		}
		pending = retry
	}
}

// send makes one call and settles what it can. It returns the events to
// retry, and fatal when a credential-wide failure makes further calls futile.
func (r *run) send(batch []int, timeout time.Duration) (retry []int, fatal *callFailure) {
	ces := make([]*eb.CloudEvent, len(batch))
	for k, i := range batch {
		ces[k] = toCloudEvent(r.events[i], r.data[i])
	}
	res := put(r.ctx, r.client, r.ep, ces, timeout)
	r.rep.Attempts++

	if res.err != nil {
		f := classifyCall(res.err)
		if f.requestID != "" {
			r.rep.RequestIDs = append(r.rep.RequestIDs, f.requestID)
		}
		msg := r.creds.Redact(f.message)
		for _, i := range batch {
			fl := &Failure{EventID: r.events[i].ID, Code: f.code, Message: msg, Retryable: f.retryable}
			if f.retryable {
				r.failed[i] = *fl
				retry = append(retry, i)
			} else {
				r.settle(i, fl)
			}
		}
		if f.credentialWide {
			return retry, &f
		}
		return retry, nil
	}
	if res.resp == nil {
		// Not seen from the SDK, but "all accepted" would be a guess.
		for _, i := range batch {
			r.failed[i] = Failure{EventID: r.events[i].ID, Code: CodeMalformedResponse, Message: "empty answer", Retryable: true}
		}
		return batch, nil
	}

	if id := tea.StringValue(res.resp.RequestId); id != "" {
		r.rep.RequestIDs = append(r.rep.RequestIDs, id)
	}
	for k, i := range batch {
		entry := matchEntry(res.resp, batch, k, r.events)
		switch {
		case entry == nil && tea.IntValue(res.resp.FailedEntryCount) > countFailedEntries(res.resp):
			// Some failures were not attributed to an event: resend the
			// unaccounted ones (event ids are deterministic, so a duplicate
			// is harmless).
			r.failed[i] = Failure{EventID: r.events[i].ID, Code: CodeMalformedResponse,
				Message: "the answer does not say whether this event was accepted", Retryable: true}
			retry = append(retry, i)
		case entry == nil || tea.StringValue(entry.ErrorCode) == "":
			r.settle(i, nil)
		default:
			code := tea.StringValue(entry.ErrorCode)
			fl := Failure{EventID: r.events[i].ID, Code: code,
				Message: r.creds.Redact(tea.StringValue(entry.ErrorMessage)), Retryable: retryableCode(code)}
			if fl.Retryable {
				r.failed[i] = fl
				retry = append(retry, i)
			} else {
				r.settle(i, &fl)
			}
		}
	}
	return retry, nil
}

// matchEntry finds the EntryList element of batch[k]: by position when the
// list matches the batch one to one (the service answers in order), else
// by event id.
func matchEntry(resp *eb.PutEventsResponse, batch []int, k int, events []eventschema.FollowUpEvent) *eb.PutEventsResponseEntry {
	id := events[batch[k]].ID
	if len(resp.EntryList) == len(batch) {
		if e := resp.EntryList[k]; e != nil && (tea.StringValue(e.EventId) == id || tea.StringValue(e.EventId) == "") {
			return e
		}
	}
	for _, e := range resp.EntryList {
		if e != nil && tea.StringValue(e.EventId) == id {
			return e
		}
	}
	return nil
}

func countFailedEntries(resp *eb.PutEventsResponse) int {
	n := 0
	for _, e := range resp.EntryList {
		if e != nil && tea.StringValue(e.ErrorCode) != "" {
			n++
		}
	}
	return n
}

// backoff sleeps before the next round: exponential with equal jitter,
// skipped (false) when the deadline would not leave room for another call.
func (r *run) backoff(round int) bool {
	sleep := backoff.Delay(round, r.p.cfg.BaseBackoff, r.p.cfg.MaxBackoff)
	if dl, ok := r.ctx.Deadline(); ok && time.Until(dl) < sleep+minCall {
		return false
	}
	return backoff.Sleep(r.ctx, sleep) == nil
}

// settle records a final outcome: nil means published.
func (r *run) settle(i int, f *Failure) {
	r.settled[i] = true
	if f == nil {
		delete(r.failed, i)
		r.rep.Published++
		return
	}
	r.failed[i] = *f
}

// failRest settles every unsettled event as failed: with its latest
// failure if it has one, else with code and msg (redacted here).
func (r *run) failRest(code, msg string, retryable bool) {
	for i, e := range r.events {
		if r.settled[i] {
			continue
		}
		f, ok := r.failed[i]
		if !ok || f.Code == "" {
			f = Failure{EventID: e.ID, Code: code, Message: r.creds.Redact(msg), Retryable: retryable}
			if f.Code == "" {
				f.Code, f.Message = CodeSDKError, "not sent"
			}
		}
		r.settle(i, &f)
	}
}

// finish orders the failures as the events were given and sets Err.
func (r *run) finish() {
	r.rep.Failed = nil
	allRetryable := true
	for i := range r.events {
		if f, ok := r.failed[i]; ok && r.settled[i] {
			r.rep.Failed = append(r.rep.Failed, f)
			allRetryable = allRetryable && f.Retryable
		}
	}
	if len(r.rep.Failed) > 0 {
		first := r.rep.Failed[0]
		r.rep.Err = &Error{Code: first.Code, Message: first.Message, Retryable: allRetryable,
			Failed: len(r.rep.Failed), Total: len(r.events)}
	}
}

// validateEvent catches what the SDK would reject for the whole batch
// (its tea.Validate on one event fails the call for all of them), so one
// bad event fails alone.
func validateEvent(e eventschema.FollowUpEvent) string {
	switch {
	case e.ID == "":
		return "event id is empty"
	case e.Source == "":
		return "event source is empty"
	case utf8.RuneCountInString(e.Source) > 128:
		return "event source is longer than 128 characters"
	case e.Type == "":
		return "event type is empty"
	case utf8.RuneCountInString(e.Type) > 64:
		return "event type is longer than 64 characters"
	case e.AliyunEventBusName == "":
		return "event bus name is empty"
	}
	return ""
}
