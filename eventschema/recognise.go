package eventschema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// MaxPayloadBytes is the largest payload accepted (README "What it accepts"). FC itself caps
// synchronous payloads at a few MiB; a detach request is a few hundred bytes,
// so anything this big is a mistake or an attack.
const MaxPayloadBytes = 1 << 20

// DefaultMaxBatch bounds a batch: each element may fan out to a whole
// instance's ENIs, and the invocation has one deadline for all of them.
const DefaultMaxBatch = 100

// Item is one unit of work found in a payload: a request to carry out, or a
// reason not to act, or a field-level problem with that one element.
type Item struct {
	Trigger Trigger
	// Request is set when the item is actionable (Ignored and Err empty).
	Request Request
	// EventRegion comes from the CloudEvent envelope (aliyunregionid);
	// empty for direct invocations.
	EventRegion string
	// AccountID is the account the CloudEvent is about: the envelope's
	// aliyunoriginalaccountid (the sending account, after EventBridge
	// routed the event across accounts), else its aliyunaccountid; empty
	// for direct invocations (README, "One function for an
	// organisation").
	AccountID string
	Ignored   string
	Err       *ValidationError
}

// Actionable reports whether the item asks for a detach.
func (it Item) Actionable() bool { return it.Ignored == "" && it.Err == nil }

// Recognition is what a payload turned out to be.
type Recognition struct {
	// Batch is true when the payload was a JSON array.
	Batch bool
	Items []Item
	// HTTP is set when the payload was an HTTP trigger event; Items is then
	// empty and the body is parsed by ParseHTTPBody.
	HTTP *HTTPTriggerEvent
}

// Recogniser turns raw payloads into work items (README "What it accepts",
// in its order: array, CloudEvent, HTTP trigger event, request object).
// It is a value: the handler sets OwnSource per invocation on a copy.
type Recogniser struct {
	// OwnSource is the follow-up events' source (EVENT_SOURCE, or the
	// function's ARN when that is unset): events from it are the product's
	// own and are never acted on, whatever their type. Empty compares with
	// nothing.
	OwnSource string
	// MaintenanceLead is MAINTENANCE_LEAD: a Scheduled or Inquiring system
	// event is acted on when its notBefore is at most this far ahead. Zero
	// (or less) acts on Executing system events only.
	MaintenanceLead time.Duration
	// Now is the clock notBefore is compared with; nil means time.Now.
	Now func() time.Time
	// MaxBatch bounds the number of batch elements (DefaultMaxBatch if 0).
	MaxBatch int
}

func (rc Recogniser) now() time.Time {
	if rc.Now != nil {
		return rc.Now()
	}
	return time.Now()
}

// Recognise classifies a payload. The error is a *ValidationError when the
// payload as a whole is unusable; per-element problems of a batch are in
// the items instead.
func (rc Recogniser) Recognise(payload []byte) (Recognition, error) {
	// One reading of the clock for the whole payload: the elements of a
	// batch are judged at the same instant.
	now := rc.now()
	trimmed := bytes.TrimSpace(payload)
	if len(payload) > MaxPayloadBytes {
		// An HTTP request with an oversized body still deserves an HTTP
		// answer (400), so look for the envelope before refusing.
		if len(trimmed) > 0 && trimmed[0] == '{' {
			if readEnvelope(trimmed).http() {
				return Recognition{HTTP: httpEvent(trimmed)}, nil
			}
		}
		return Recognition{}, invalid("", fmt.Sprintf("the payload is %d bytes; the limit is %d (1 MiB)", len(payload), MaxPayloadBytes))
	}
	if len(trimmed) == 0 {
		return Recognition{}, invalid("", "the payload is empty; send a request object such as {\"NetworkInterfaceId\":\"eni-…\"}")
	}
	if !json.Valid(trimmed) {
		var probe any
		err := json.Unmarshal(payload, &probe) // offsets count from the first byte sent
		return Recognition{}, invalid("", "the payload is not JSON: "+notJSON(payload, err))
	}
	switch trimmed[0] {
	case '[':
		return rc.batch(trimmed, now)
	case '{':
		env := readEnvelope(trimmed)
		if env.http() {
			return Recognition{HTTP: httpEvent(trimmed)}, nil
		}
		item := rc.object(trimmed, env, now)
		if item.Err != nil {
			return Recognition{}, item.Err
		}
		return Recognition{Items: []Item{item}}, nil
	default:
		return Recognition{}, invalid("", "the payload must be a JSON object (a request or a CloudEvent) or an array of them")
	}
}

func (rc Recogniser) batch(raw []byte, now time.Time) (Recognition, error) {
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return Recognition{}, invalid("", "the batch is not a JSON array: "+jsonProblem(err))
	}
	max := rc.MaxBatch
	if max <= 0 {
		max = DefaultMaxBatch
	}
	switch {
	case len(elems) == 0:
		return Recognition{}, invalid("", "the batch is empty")
	case len(elems) > max:
		return Recognition{}, invalid("", fmt.Sprintf("the batch has %d elements; the limit is %d", len(elems), max))
	}
	out := Recognition{Batch: true, Items: make([]Item, 0, len(elems))}
	for i, el := range elems {
		el = unwrapJSONString(el)
		var item Item
		if len(el) == 0 || el[0] != '{' {
			item = Item{Trigger: Trigger{Kind: TriggerDirect}, Err: invalid("", "a batch element must be an object or a JSON string holding one")}
		} else {
			item = rc.object(el, readEnvelope(el), now)
		}
		if item.Err != nil {
			item.Err = prefixFields(item.Err, fmt.Sprintf("[%d]", i))
		}
		out.Items = append(out.Items, item)
	}
	return out, nil
}

// object recognises a CloudEvent or a bare request object, by the
// envelope already read from raw.
func (rc Recogniser) object(raw []byte, env envelope, now time.Time) Item {
	if env.cloudEvent() {
		return rc.cloudEvent(raw, now)
	}
	req, v := parseRequest(raw)
	return Item{Trigger: Trigger{Kind: TriggerDirect}, Request: req, Err: v}
}

func (rc Recogniser) cloudEvent(raw []byte, now time.Time) Item {
	var ev CloudEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		return Item{Trigger: Trigger{Kind: TriggerEventBridge}, Err: invalid("", "the CloudEvent envelope is malformed: "+jsonProblem(err))}
	}
	item := Item{
		Trigger:     Trigger{Kind: TriggerEventBridge, EventID: ev.ID, EventType: ev.Type, EventSource: ev.Source},
		EventRegion: ev.AliyunRegionID,
		AccountID:   ev.OwnerAccountID(),
	}
	v := &ValidationError{}
	if ev.ID == "" {
		v.add("id", "a CloudEvent needs an id")
	}
	if ev.Type == "" {
		v.add("type", "a CloudEvent needs a type")
	}
	if ev.Source == "" {
		v.add("source", "a CloudEvent needs a source")
	}
	if len(v.Fields) > 0 {
		item.Err = v
		return item
	}
	switch {
	case strings.HasPrefix(ev.Type, FollowUpTypePrefix):
		item.Ignored = "event type " + quote(ev.Type) + " is this function's own follow-up event"
	case rc.OwnSource != "" && ev.Source == rc.OwnSource:
		item.Ignored = "event source " + quote(ev.Source) + " is this function's own (the source of its follow-up events: EVENT_SOURCE, default the function's ARN)"
	case ev.Source == SourceECS:
		d := decideECS(ev, now, rc.MaintenanceLead)
		switch {
		case d.err != nil:
			item.Err = d.err
		case d.ignored != "":
			item.Ignored = d.ignored
		default:
			item.Request = Request{InstanceID: d.instanceID}
		}
	default:
		item.Request, item.Err = customRequest(ev.Data)
	}
	return item
}

// customRequest reads a custom CloudEvent's data as a request object.
func customRequest(data json.RawMessage) (Request, *ValidationError) {
	data = unwrapJSONString(data)
	if len(data) == 0 || data[0] != '{' {
		return Request{}, invalid("data", "a custom event's data must be a request object such as {\"NetworkInterfaceId\":\"eni-…\"}")
	}
	req, v := parseRequest(data)
	if v != nil {
		return Request{}, prefixFields(v, "data")
	}
	return req, nil
}

// unwrapJSONString returns the JSON text held in a JSON string, or raw
// unchanged when it is not a string.
func unwrapJSONString(raw json.RawMessage) json.RawMessage {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '"' {
		return raw
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return raw
	}
	return bytes.TrimSpace([]byte(s))
}

// prefixFields qualifies field names with where they were found.
func prefixFields(v *ValidationError, prefix string) *ValidationError {
	out := &ValidationError{Fields: make([]FieldError, len(v.Fields))}
	for i, f := range v.Fields {
		name := prefix
		if f.Field != "" {
			name = prefix + "." + f.Field
		}
		out.Fields[i] = FieldError{Field: name, Problem: f.Problem}
	}
	return out
}
