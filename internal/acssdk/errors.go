package acssdk

import (
	"context"
	"errors"
	"net"
	"regexp"
	"strconv"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"

	"github.com/eni-detach/eni-detach/internal/creds"
)

// Services, as Error.Service names them.
const (
	ServiceECS = "ECS"
	// ServiceSTS: the error came from STS, asked for the credentials of
	// the account a call was about; no call to the service followed.
	ServiceSTS = "STS"
)

// Kind says where an error came from.
type Kind string

// Error kinds.
const (
	// KindServer: the service answered with an error code.
	KindServer Kind = "server"
	// KindTransport: no usable answer (connection, timeout, garbage body).
	KindTransport Kind = "transport"
	// KindClient: the request could not be built (bad region, …).
	KindClient Kind = "client"
)

// Transport-level codes assigned when the service did not answer.
const (
	CodeTimeout      = "Transport.Timeout"
	CodeNetwork      = "Transport.Network"
	CodeBadResponse  = "Transport.BadResponse"
	CodeClient       = "Client.InvalidRequest"
	CodeNoCredential = "Client.NoCredentials"
)

// Error is every error of a call. Message is safe to log and to return to
// callers: it never contains an access key secret, a security token or a
// signed URL.
type Error struct {
	// Service is ServiceECS, ServiceSTS, or "" (an ECS call, for errors
	// made up by the engine).
	Service    string
	Kind       Kind
	Code       string
	Message    string
	RequestID  string
	HTTPStatus int
}

func (e *Error) Error() string {
	s := e.Code + ": " + e.Message
	if e.Service == ServiceSTS {
		s = "STS " + s
	}
	if e.RequestID != "" {
		s += " (RequestId " + e.RequestID + ")"
	}
	return s
}

// signedURL matches URLs with a query string: the SDK's transport errors
// quote the whole signed request URL (AccessKeyId, SecurityToken, Signature).
var signedURL = regexp.MustCompile(`(https?://[^\s"?]+)\?[^\s"]*`)

// stringToSign matches the gateway's echo of its string to sign in
// SignatureDoesNotMatch / IncompleteSignature messages: the whole canonical
// request, SecurityToken included, percent-encoded twice.
var stringToSign = regexp.MustCompile(`(?is)(string to sign is:).*`)

const maxMessage = 512

// Sanitize removes query strings, strings to sign and every secret of c
// from third-party text.
func Sanitize(s string, c creds.Credentials) string {
	s = signedURL.ReplaceAllString(s, "$1?[REDACTED]")
	s = stringToSign.ReplaceAllString(s, "$1 [REDACTED]")
	s = c.Redact(s)
	if len(s) > maxMessage {
		s = s[:maxMessage] + "…"
	}
	return s
}

// convert maps whatever the SDK returned to *Error.
func convert(ctx context.Context, service string, err error, c creds.Credentials) error {
	if err == nil {
		return nil
	}
	var own *Error
	if errors.As(err, &own) {
		return own
	}
	var se *sdkerrors.ServerError
	if errors.As(err, &se) {
		code := se.ErrorCode()
		if code == "" {
			// A non-JSON error body (a proxy's HTML page, say) has no code.
			return &Error{Service: service, Kind: KindTransport, Code: CodeBadResponse, HTTPStatus: se.HttpStatus(),
				Message: service + " answered HTTP " + strconv.Itoa(se.HttpStatus()) + " without an error code"}
		}
		return &Error{Service: service, Kind: KindServer, Code: code, Message: Sanitize(se.Message(), c),
			RequestID: se.RequestId(), HTTPStatus: se.HttpStatus()}
	}
	if ctx.Err() != nil || isTimeout(err) {
		return &Error{Service: service, Kind: KindTransport, Code: CodeTimeout, Message: "no answer from " + service + " before the call's deadline"}
	}
	var ce *sdkerrors.ClientError
	if errors.As(err, &ce) {
		if ce.ErrorCode() == sdkerrors.JsonUnmarshalErrorCode {
			return &Error{Service: service, Kind: KindTransport, Code: CodeBadResponse, Message: service + " answered with a body that is not the expected JSON"}
		}
		if ce.OriginError() != nil {
			return &Error{Service: service, Kind: KindTransport, Code: CodeNetwork, Message: Sanitize(ce.OriginError().Error(), c)}
		}
		return &Error{Service: service, Kind: KindClient, Code: CodeClient, Message: Sanitize(ce.ErrorCode()+": "+ce.Message(), c)}
	}
	return &Error{Service: service, Kind: KindTransport, Code: CodeNetwork, Message: Sanitize(err.Error(), c)}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}
