package rpc

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// maxBody bounds a form body; the gateway rejects far smaller requests.
const maxBody = 1 << 20

// ReadParams merges the query string and a form body (the body wins, as in
// the SDK's signing). Only the first value of a repeated key counts.
func ReadParams(r *http.Request) (map[string]string, *Error) {
	params := map[string]string{}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return params, Errorf(http.StatusBadRequest, "InvalidParameter", "The query string is malformed: %v", err)
	}
	for k, v := range q {
		params[k] = v[0]
	}
	if r.Body == nil {
		return params, nil
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return params, Errorf(http.StatusBadRequest, "InvalidParameter", "The request body could not be read: %v", err)
	}
	if len(raw) > maxBody {
		return params, Errorf(http.StatusBadRequest, "InvalidParameter", "The request body is larger than %d bytes.", maxBody)
	}
	if len(strings.TrimSpace(string(raw))) == 0 {
		return params, nil
	}
	form, err := url.ParseQuery(string(raw))
	if err != nil {
		return params, Errorf(http.StatusBadRequest, "InvalidParameter", "The form body is malformed: %v", err)
	}
	for k, v := range form {
		params[k] = v[0]
	}
	return params, nil
}

// CheckRequest validates everything that does not need the credential
// registry, in roughly the order the gateway does: find the API (version
// and one of the service's actions) first, then the signature parameters.
func CheckRequest(r *http.Request, p map[string]string, version string, served func(action string) bool) *Error {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		return Errorf(http.StatusMethodNotAllowed, "UnsupportedHTTPMethod",
			"The HTTP method %s is not supported; use POST or GET.", r.Method)
	}
	if r.URL.Path != "/" && r.URL.Path != "" {
		return Errorf(http.StatusNotFound, "InvalidAction.NotFound",
			"Specified api is not found, please check your url and method.")
	}
	for _, name := range []string{"Action", "Version"} {
		if p[name] == "" {
			return ErrMissing(name)
		}
	}
	if p["Version"] != version {
		return Errorf(http.StatusBadRequest, "InvalidVersion", "Specified parameter Version is not valid.")
	}
	if !served(p["Action"]) {
		return Errorf(http.StatusNotFound, "InvalidAction.NotFound",
			"Specified api is not found, please check your url and method.")
	}
	for _, name := range []string{"AccessKeyId", "Signature", "SignatureMethod", "SignatureVersion", "SignatureNonce", "Timestamp", "Format"} {
		if p[name] == "" {
			return ErrMissing(name)
		}
	}
	if !strings.EqualFold(p["Format"], "JSON") {
		return ErrInvalidParam("Format", "the emulator answers JSON only")
	}
	if p["SignatureMethod"] != "HMAC-SHA1" {
		return ErrInvalidParam("SignatureMethod", "only HMAC-SHA1 is supported")
	}
	if p["SignatureVersion"] != "1.0" {
		return ErrInvalidParam("SignatureVersion", "only 1.0 is supported")
	}
	if p["SignatureType"] != "" {
		return ErrInvalidParam("SignatureType", "bearer tokens are not supported")
	}
	return nil
}

// HostOf is the HostId an answer names.
func HostOf(r *http.Request, fallback string) string {
	if r.Host != "" {
		return r.Host
	}
	return fallback
}

// WriteJSON sends body with the request id header the SDK reads.
func WriteJSON(w http.ResponseWriter, status int, requestID string, body any) {
	data, err := json.Marshal(body)
	if err != nil {
		status = http.StatusInternalServerError
		data, _ = json.Marshal(NewErrorBody(Errorf(status, "InternalError", "%v", err), requestID, "", ""))
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.Header().Set("x-acs-request-id", requestID)
	w.WriteHeader(status)
	_, _ = w.Write(data)
}
