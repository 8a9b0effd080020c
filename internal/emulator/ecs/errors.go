package ecs

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// apiError is an ECS error answer: HTTP status plus Alibaba's Code/Message.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

func newErr(status int, code, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Messages below follow the wording of the real gateway where it is known,
// because product code and people grep for them.
const (
	msgThrottling = "Request was denied due to user flow control."
)

func errMissing(name string) *apiError {
	return newErr(http.StatusBadRequest, "MissingParameter",
		"The input parameter %q that is mandatory for processing this request is not supplied.", name)
}

func errInvalidParam(name, why string) *apiError {
	return newErr(http.StatusBadRequest, "InvalidParameter", "The specified parameter %q is not valid: %s", name, why)
}

func errThrottled() *apiError {
	return newErr(http.StatusBadRequest, "Throttling.User", msgThrottling)
}

func errENINotFound(id string) *apiError {
	return newErr(http.StatusNotFound, "InvalidEniId.NotFound", "The specified ENI ID %q does not exist.", id)
}

// errorBody is the JSON shape the SDK's NewServerError reads with jmespath.
type errorBody struct {
	RequestId string
	HostId    string
	Code      string
	Message   string
	Recommend string
}

func newErrorBody(e *apiError, requestID, host string) errorBody {
	return errorBody{
		RequestId: requestID,
		HostId:    host,
		Code:      e.Code,
		Message:   e.Message,
		Recommend: "https://api.aliyun.com/troubleshoot?q=" + url.QueryEscape(e.Code) +
			"&product=Ecs&requestId=" + requestID,
	}
}

// newRequestID returns an upper-case UUID v4, the form ECS uses.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return strings.ToUpper(fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]))
}
