package eventbridge

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
)

// apiError is a whole-call failure: the gateway answers with an HTTP error
// status and {"code","message","requestId"}, which the SDK turns into a
// tea.SDKError carrying only the code (the status is lost).
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

func newErr(status int, code, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Codes and messages follow the EventBridge "Error codes" page where it lists
// them, because product code classifies on them.
const (
	CodeInvalidAccessKeyID    = "InvalidAccessKeyId"
	CodeInvalidStsAccessKeyID = "InvalidStsAccessKeyId"
	CodeSecurityTokenInvalid  = "SecurityTokenInvalid"
	CodeStsAccessIDExpired    = "StsAccessIdExpired"
	CodeSignatureDoesNotMatch = "SignatureDoesNotMatch"
	CodeTooManyRequests       = "TooManyRequests"
	CodeInvalidArgument       = "InvalidArgument"
	CodeEventBusNotExist      = "EventBusNotExist"
	CodeInternalError         = "InternalError"
	CodeServiceUnavailable    = "ServiceUnavailable"
	CodeInvalidAuthorization  = "InvalidAuthorization"
)

// defaultMessage gives injected errors a realistic text.
func defaultMessage(code string) string {
	switch code {
	case CodeTooManyRequests:
		return "The request is denied by flow limiter for too many requests."
	case CodeInvalidAccessKeyID:
		return "The access Id you provided is not exist."
	case CodeInvalidStsAccessKeyID:
		return "The sts access Id you provided is not exist."
	case CodeSecurityTokenInvalid:
		return "The Security token that your provide is invalid."
	case CodeStsAccessIDExpired:
		return "The sts accessid has expired."
	case CodeSignatureDoesNotMatch:
		return "The request signature we calculated does not match the signature you provided. Check your key and signing method."
	case CodeEventBusNotExist:
		return "The event bus does not exist."
	case CodeServiceUnavailable:
		return "The request has failed due to a temporary failure of the server."
	default:
		return "The request processing has failed due to some unknown error."
	}
}

// errorBody is the error shape the SDK reads: tmp["code"], tmp["message"],
// tmp["requestId"] (lower camel case, unlike the success body).
type errorBody struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"requestId"`
}

func writeJSON(w http.ResponseWriter, status int, requestID string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"code":"InternalError","message":"marshal"}`)
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.Header().Set("x-acs-request-id", requestID)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeError(w http.ResponseWriter, requestID string, e *apiError) {
	writeJSON(w, e.Status, requestID, errorBody{Code: e.Code, Message: e.Message, RequestID: requestID})
}

// newRequestID looks like the gateway's: upper-case UUID.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%X-%X-%X-%X-%X", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
