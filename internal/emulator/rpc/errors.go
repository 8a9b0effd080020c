package rpc

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Error is an error answer: HTTP status plus Alibaba's Code and Message.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

// Errorf returns an *Error with a formatted message.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// MsgThrottling is the gateway's wording for flow control, which product
// code and people grep for.
const MsgThrottling = "Request was denied due to user flow control."

// ErrMissing is the gateway's answer to a missing mandatory parameter.
func ErrMissing(name string) *Error {
	return Errorf(http.StatusBadRequest, "MissingParameter",
		"The input parameter %q that is mandatory for processing this request is not supplied.", name)
}

// ErrInvalidParam is the gateway's answer to a malformed parameter.
func ErrInvalidParam(name, why string) *Error {
	return Errorf(http.StatusBadRequest, "InvalidParameter", "The specified parameter %q is not valid: %s", name, why)
}

// ErrThrottled is the answer to a call over a flow-control limit.
func ErrThrottled() *Error {
	return Errorf(http.StatusBadRequest, "Throttling.User", MsgThrottling)
}

// ErrorBody is the JSON shape the SDK's NewServerError reads with jmespath.
type ErrorBody struct {
	RequestId string
	HostId    string
	Code      string
	Message   string
	Recommend string
}

// NewErrorBody renders e as product (e.g. "Ecs", "Sts") answers it.
func NewErrorBody(e *Error, requestID, host, product string) ErrorBody {
	return ErrorBody{
		RequestId: requestID,
		HostId:    host,
		Code:      e.Code,
		Message:   e.Message,
		Recommend: "https://api.aliyun.com/troubleshoot?q=" + url.QueryEscape(e.Code) +
			"&product=" + product + "&requestId=" + requestID,
	}
}

// NewRequestID returns an upper-case UUID v4, the form ECS and STS use.
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return strings.ToUpper(fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]))
}
