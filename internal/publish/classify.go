package publish

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"strings"

	"github.com/alibabacloud-go/tea/tea"
)

// callFailure is a whole-call failure, classified.
type callFailure struct {
	code      string
	message   string
	requestID string
	retryable bool
	// credentialWide failures (bad key, token, signature, permission) fail
	// every call made with these credentials: no point sending more batches.
	credentialWide bool
}

// Codes the publisher itself assigns.
const (
	CodeInvalidCredentials = "InvalidCredentials"
	CodeInvalidEndpoint    = "InvalidEndpoint"
	CodeInvalidEvent       = "InvalidArgument"
	CodeMalformedResponse  = "MalformedResponse"
	CodeNetworkError       = "NetworkError"
	CodeTimeout            = "Timeout"
	CodeDeadlineExceeded   = "DeadlineExceeded"
	CodeCanceled           = "Canceled"
	CodeHTTPError          = "HTTPError"
	CodeSDKError           = "SDKError"
)

// classifyCall turns an SDK call error into a callFailure. The SDK drops
// the HTTP status of an error answer and keeps only the body's code, so
// 5xx and throttling are recognised by code.
func classifyCall(err error) callFailure {
	var pe *panicError
	var se *tea.SDKError
	var ne net.Error
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &pe):
		return callFailure{code: CodeMalformedResponse, message: pe.Error(), retryable: true}
	case errors.Is(err, context.DeadlineExceeded):
		return callFailure{code: CodeDeadlineExceeded, message: "the invocation's deadline came before EventBridge answered", retryable: true}
	case errors.Is(err, context.Canceled):
		return callFailure{code: CodeCanceled, message: "the invocation was cancelled", retryable: true}
	case errors.As(err, &se):
		return classifySDKError(se)
	case errors.As(err, &ne) && ne.Timeout():
		return callFailure{code: CodeTimeout, message: err.Error(), retryable: true}
	case errors.As(err, &ne):
		return callFailure{code: CodeNetworkError, message: err.Error(), retryable: true}
	case errors.As(err, &syn), errors.As(err, &typ):
		// A non-JSON body (a proxy's HTML error page, a truncated answer).
		return callFailure{code: CodeMalformedResponse, message: "response is not JSON: " + err.Error(), retryable: true}
	default:
		// tea wraps transport failures in *url.Error (a net.Error, above);
		// what is left is client-side validation: permanent.
		return callFailure{code: CodeSDKError, message: err.Error()}
	}
}

func classifySDKError(se *tea.SDKError) callFailure {
	f := callFailure{code: tea.StringValue(se.Code), message: tea.StringValue(se.Message)}
	if se.Data != nil {
		var body struct {
			RequestID string `json:"requestId"`
		}
		if json.Unmarshal([]byte(tea.StringValue(se.Data)), &body) == nil {
			f.requestID = body.RequestID
		}
	}
	// An answer from the service has its message prefixed by the SDK;
	// anything else is the SDK refusing its input (ParameterMissing...).
	fromService := strings.HasPrefix(f.message, "[EventBridgeError-")
	switch {
	case !fromService:
		if f.code == "" {
			f.code = CodeSDKError
		}
	case f.code == "":
		f.code, f.retryable = CodeHTTPError, true // error status, body without a code
	default:
		f.retryable = retryableCode(f.code)
		f.credentialWide = credentialCode(f.code)
	}
	return f
}

// retryableCode decides for codes from the service, whole-call or entry.
// Known permanent shapes are refused; everything else (throttling, internal
// errors, unknown codes) is worth another try within the deadline, since a
// lost event costs more than a few bounded retries.
func retryableCode(code string) bool {
	if credentialCode(code) {
		return false
	}
	for _, p := range []string{"Invalid", "Missing", "Malformed", "Unsupported"} {
		if strings.HasPrefix(code, p) {
			return false
		}
	}
	for _, s := range []string{"NotExist", "NotFound", "Exceed", "Exceeded", "TooLarge"} {
		if strings.HasSuffix(code, s) && !strings.Contains(code, "Throttl") && code != "TooManyRequests" {
			return false
		}
	}
	return true
}

// credentialCode recognises failures tied to the key, token, signature or
// permissions (the EventBridge error-code page's 403 family).
func credentialCode(code string) bool {
	switch code {
	case "InvalidAccessKeyId", "InvalidStsAccessKeyId", "SecurityTokenInvalid", "StsAccessIdExpired",
		"SignatureDoesNotMatch", "AccountIdNotExist", "ParentAccountNotExist", "ServiceAccessDenied",
		"InvalidAuthorization", "AccessDeniedForInternalRegion":
		return true
	}
	for _, p := range []string{"AccessDenied", "Forbidden", "InvalidSecurityToken", "SecurityToken"} {
		if strings.HasPrefix(code, p) {
			return true
		}
	}
	return false
}
