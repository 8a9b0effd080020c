package eventschema

import (
	"encoding/json"
)

// HTTPTriggerEvent is what an FC 3.0 HTTP trigger hands an event function.
type HTTPTriggerEvent struct {
	Version         string             `json:"version"`
	RawPath         string             `json:"rawPath"`
	Body            string             `json:"body"`
	IsBase64Encoded bool               `json:"isBase64Encoded"`
	Headers         map[string]string  `json:"headers,omitempty"`
	QueryParameters map[string]string  `json:"queryParameters,omitempty"`
	RequestContext  HTTPRequestContext `json:"requestContext"`
}

// HTTPRequestContext is the requestContext of an HTTP trigger event.
type HTTPRequestContext struct {
	AccountID    string          `json:"accountId,omitempty"`
	DomainName   string          `json:"domainName,omitempty"`
	DomainPrefix string          `json:"domainPrefix,omitempty"`
	HTTP         HTTPRequestLine `json:"http"`
	RequestID    string          `json:"requestId,omitempty"`
	Time         string          `json:"time,omitempty"`
	TimeEpoch    string          `json:"timeEpoch,omitempty"`
}

// HTTPRequestLine is requestContext.http.
type HTTPRequestLine struct {
	Method    string `json:"method"`
	Path      string `json:"path,omitempty"`
	Protocol  string `json:"protocol,omitempty"`
	SourceIP  string `json:"sourceIp,omitempty"`
	UserAgent string `json:"userAgent,omitempty"`
}

// asHTTPEvent reports whether raw is an HTTP trigger event (version "v1",
// rawPath and requestContext present) and decodes it.
func asHTTPEvent(raw []byte) (*HTTPTriggerEvent, bool, error) {
	var probe struct {
		Version        *string         `json:"version"`
		RawPath        *string         `json:"rawPath"`
		RequestContext json.RawMessage `json:"requestContext"`
	}
	if json.Unmarshal(raw, &probe) != nil || probe.Version == nil || *probe.Version != "v1" ||
		probe.RawPath == nil || len(probe.RequestContext) == 0 {
		return nil, false, nil
	}
	var ev HTTPTriggerEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, true, invalid("", "the HTTP trigger event is malformed: "+jsonProblem(err))
	}
	return &ev, true, nil
}
