package ecsapi

import (
	"context"
	"errors"
	"net"
	"regexp"
	"strconv"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"

	"github.com/eni-detach/eni-detach/internal/creds"
)

// Kind says where an error came from.
type Kind string

// Error kinds.
const (
	// KindServer: ECS answered with an error code.
	KindServer Kind = "server"
	// KindTransport: no usable answer (connection, timeout, garbage body).
	KindTransport Kind = "transport"
	// KindClient: the request could not be built (bad region, …).
	KindClient Kind = "client"
)

// Transport-level codes the adapter assigns when ECS did not answer.
const (
	CodeTimeout      = "Transport.Timeout"
	CodeNetwork      = "Transport.Network"
	CodeBadResponse  = "Transport.BadResponse"
	CodeClient       = "Client.InvalidRequest"
	CodeNoCredential = "Client.NoCredentials"
)

// Error is every error the adapter returns. Message is safe to log and to
// return to callers: it never contains the access key secret, the security
// token or a signed URL.
type Error struct {
	Kind       Kind
	Code       string
	Message    string
	RequestID  string
	HTTPStatus int
}

func (e *Error) Error() string {
	s := e.Code + ": " + e.Message
	if e.RequestID != "" {
		s += " (RequestId " + e.RequestID + ")"
	}
	return s
}

// signedURL matches URLs with a query string: the SDK's transport errors
// quote the whole signed request URL (AccessKeyId, SecurityToken, Signature).
var signedURL = regexp.MustCompile(`(https?://[^\s"?]+)\?[^\s"]*`)

// stringToSign matches ECS's echo of its string to sign in
// SignatureDoesNotMatch / IncompleteSignature messages: the whole canonical
// request, SecurityToken included, percent-encoded twice.
var stringToSign = regexp.MustCompile(`(?is)(string to sign is:).*`)

const maxMessage = 512

// sanitize removes query strings, strings to sign and every secret of c
// from third-party text.
func sanitize(s string, c creds.Credentials) string {
	s = signedURL.ReplaceAllString(s, "$1?[REDACTED]")
	s = stringToSign.ReplaceAllString(s, "$1 [REDACTED]")
	s = c.Redact(s)
	if len(s) > maxMessage {
		s = s[:maxMessage] + "…"
	}
	return s
}

// convert maps whatever the SDK returned to *Error.
func convert(ctx context.Context, err error, c creds.Credentials) error {
	if err == nil {
		return nil
	}
	var se *sdkerrors.ServerError
	if errors.As(err, &se) {
		code := se.ErrorCode()
		if code == "" {
			// A non-JSON error body (a proxy's HTML page, say) has no code.
			return &Error{Kind: KindTransport, Code: CodeBadResponse, HTTPStatus: se.HttpStatus(),
				Message: sanitize("ECS answered HTTP "+strconv.Itoa(se.HttpStatus())+" without an error code", c)}
		}
		return &Error{Kind: KindServer, Code: code, Message: sanitize(se.Message(), c),
			RequestID: se.RequestId(), HTTPStatus: se.HttpStatus()}
	}
	if ctx.Err() != nil || isTimeout(err) {
		return &Error{Kind: KindTransport, Code: CodeTimeout, Message: "no answer from ECS before the call's deadline"}
	}
	var ce *sdkerrors.ClientError
	if errors.As(err, &ce) {
		if ce.ErrorCode() == sdkerrors.JsonUnmarshalErrorCode {
			return &Error{Kind: KindTransport, Code: CodeBadResponse, Message: "ECS answered with a body that is not the expected JSON"}
		}
		if ce.OriginError() != nil {
			return &Error{Kind: KindTransport, Code: CodeNetwork, Message: sanitize(ce.OriginError().Error(), c)}
		}
		return &Error{Kind: KindClient, Code: CodeClient, Message: sanitize(ce.ErrorCode()+": "+ce.Message(), c)}
	}
	return &Error{Kind: KindTransport, Code: CodeNetwork, Message: sanitize(err.Error(), c)}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}
