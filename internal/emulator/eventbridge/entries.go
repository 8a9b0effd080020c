package eventbridge

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// MaxEventsPerCall is PutEvents' batch limit.
const MaxEventsPerCall = 16

// ContentType is what the SDK sends for putEvents (with "; charset=utf-8").
const ContentType = "application/cloudevents-batch+json"

// eventIDPattern is EventBridge's rule for event ids: letters, digits and
// hyphens, at most 128, starting with a letter or digit.
var eventIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,127}$`)

// putEventsResponse is the success body. Field names are those of the SDK's
// PutEventsResponse json tags (upper camel case).
type putEventsResponse struct {
	RequestId        string
	FailedEntryCount int
	EntryList        []entryResult
}

type entryResult struct {
	EventId      string
	TraceId      string `json:",omitempty"`
	ErrorCode    string `json:",omitempty"`
	ErrorMessage string `json:",omitempty"`
}

func checkContentType(v string) *apiError {
	mt, params, err := mime.ParseMediaType(v)
	if err != nil || mt != ContentType {
		return newErr(http.StatusBadRequest, CodeInvalidArgument,
			"The content type %q is not supported: use %s.", v, ContentType)
	}
	for k, val := range params {
		if k != "charset" || !strings.EqualFold(val, "utf-8") {
			return newErr(http.StatusBadRequest, CodeInvalidArgument,
				"The content type parameter %s=%s is not supported.", k, val)
		}
	}
	return nil
}

// splitArray returns the elements of a JSON array body.
func splitArray(body []byte) ([]json.RawMessage, *apiError) {
	var raw []json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, newErr(http.StatusBadRequest, CodeInvalidArgument,
			"The request body must be a JSON array of CloudEvents: %v", err)
	}
	return raw, nil
}

// accept validates each entry, applies injected entry failures and stores
// the entries that pass. Entries are answered in request order.
func (s *Server) accept(raw []json.RawMessage, id identity, requestID string) putEventsResponse {
	resp := putEventsResponse{RequestId: requestID, EntryList: make([]entryResult, 0, len(raw))}
	now := time.Now()

	s.mu.Lock()
	defer s.mu.Unlock()
	for _, elem := range raw {
		eventID, bus, code, msg := s.validate(elem)
		if code == "" {
			if c, ok := s.faults.takeEntryFailure(); ok {
				code, msg = c, defaultMessage(c)
			}
		}
		if code != "" {
			resp.FailedEntryCount++
			resp.EntryList = append(resp.EntryList, entryResult{EventId: eventID, ErrorCode: code, ErrorMessage: msg})
			continue
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, elem); err != nil {
			compact.Write(elem)
		}
		s.events = append(s.events, Received{
			Bus: bus, Event: json.RawMessage(compact.Bytes()), AccessKeyID: id.AccessKeyID,
			SecurityToken: id.SecurityToken, RequestID: requestID, Time: now,
		})
		resp.EntryList = append(resp.EntryList, entryResult{EventId: eventID, TraceId: newRequestID()})
	}
	return resp
}

// validate checks the CloudEvent 1.0 required attributes and the bus
// extension. Caller holds s.mu (for the bus table).
func (s *Server) validate(elem json.RawMessage) (eventID, bus, code, msg string) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(elem, &obj); err != nil || obj == nil {
		return "", "", CodeInvalidArgument, "The event is not a JSON object."
	}
	str := func(name string) (string, bool) {
		v, ok := obj[name]
		if !ok {
			return "", false
		}
		var s string
		if json.Unmarshal(v, &s) != nil {
			return "", false
		}
		return s, true
	}
	eventID, _ = str("id")
	if v, _ := str("specversion"); v != "1.0" {
		return eventID, "", CodeInvalidArgument, "The attribute specversion must be \"1.0\"."
	}
	for _, name := range []string{"id", "source", "type"} {
		if v, ok := str(name); !ok || v == "" {
			return eventID, "", CodeInvalidArgument, "The attribute " + name + " is required and must be a non-empty string."
		}
	}
	if !eventIDPattern.MatchString(eventID) {
		return eventID, "", CodeInvalidArgument,
			"The attribute id must be letters, digits and hyphens, at most 128, starting with a letter or digit."
	}
	bus, ok := str("aliyuneventbusname")
	if !ok || bus == "" {
		return eventID, "", CodeInvalidArgument, "The extension aliyuneventbusname is required."
	}
	if !s.buses[bus] {
		return eventID, bus, CodeEventBusNotExist, "The event bus [" + bus + "] does not exist."
	}
	return eventID, bus, "", ""
}
