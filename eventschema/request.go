package eventschema

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Request is the request object (README "The request object"): what a console test, `s invoke`,
// a custom CloudEvent's data or an HTTP body names. Field names follow the
// ECS API and are matched case-insensitively on input.
type Request struct {
	RegionID               string `json:"RegionId,omitempty"`
	NetworkInterfaceID     string `json:"NetworkInterfaceId,omitempty"`
	InstanceID             string `json:"InstanceId,omitempty"`
	TrunkNetworkInstanceID string `json:"TrunkNetworkInstanceId,omitempty"`
	DryRun                 *bool  `json:"DryRun,omitempty"`
	Wait                   *bool  `json:"Wait,omitempty"`
	// AccountID is the account that owns the ENI or instance (16 digits),
	// when it is not the function's own (README, "One function for an
	// organisation").
	AccountID string `json:"AccountId,omitempty"`
}

// WantsDryRun reports the request's DryRun flag (absent = false).
func (r Request) WantsDryRun() bool { return r.DryRun != nil && *r.DryRun }

// WantsWait reports the request's Wait flag (absent = true: the product's
// promise is "tell me when it really is detached").
func (r Request) WantsWait() bool { return r.Wait == nil || *r.Wait }

// Hand-written checks rather than regular expressions: counted repetitions
// such as {1,60} compile into large programs at process start, which
// showed up in the function's cold start.

// ValidENIID reports whether s has the form of an ENI id: "eni-" and 1–60
// lower-case letters and digits.
func ValidENIID(s string) bool { return validID(s, "eni-") }

// ValidInstanceID reports whether s has the form of an instance id: "i-"
// and 1–60 lower-case letters and digits.
func ValidInstanceID(s string) bool { return validID(s, "i-") }

func validID(s, prefix string) bool {
	rest, ok := strings.CutPrefix(s, prefix)
	return ok && len(rest) >= 1 && len(rest) <= 60 && lowerAlnum(rest, false)
}

// ValidAccountID reports whether s has the form of an Alibaba Cloud
// account id: 16 digits.
func ValidAccountID(s string) bool {
	if len(s) != 16 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ValidRegionID reports whether s has the form of a region id: lower-case
// words joined by hyphens, the first of at least two letters, two to five
// words (cn-hangzhou, ap-southeast-1, cn-shanghai-finance-1).
func ValidRegionID(s string) bool {
	parts := strings.Split(s, "-")
	if len(parts) < 2 || len(parts) > 5 || len(parts[0]) < 2 || !lowerAlnum(parts[0], true) {
		return false
	}
	for _, p := range parts[1:] {
		if p == "" || !lowerAlnum(p, false) {
			return false
		}
	}
	return true
}

// lowerAlnum reports whether s is made of a–z (and 0–9 unless lettersOnly).
func lowerAlnum(s string, lettersOnly bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (lettersOnly || c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// requestFields maps the lower-cased field name to its API spelling and a
// setter. Unknown fields are ignored: callers often send whole objects from
// elsewhere (an ECS describe result, say) and only these fields matter.
var requestFields = map[string]struct {
	name string
	set  func(r *Request, raw json.RawMessage) string
}{
	"regionid":               {"RegionId", setString(func(r *Request) *string { return &r.RegionID })},
	"networkinterfaceid":     {"NetworkInterfaceId", setString(func(r *Request) *string { return &r.NetworkInterfaceID })},
	"instanceid":             {"InstanceId", setString(func(r *Request) *string { return &r.InstanceID })},
	"trunknetworkinstanceid": {"TrunkNetworkInstanceId", setString(func(r *Request) *string { return &r.TrunkNetworkInstanceID })},
	"dryrun":                 {"DryRun", setBool(func(r *Request) **bool { return &r.DryRun })},
	"wait":                   {"Wait", setBool(func(r *Request) **bool { return &r.Wait })},
	"accountid":              {"AccountId", setString(func(r *Request) *string { return &r.AccountID })},
}

func setString(field func(*Request) *string) func(*Request, json.RawMessage) string {
	return func(r *Request, raw json.RawMessage) string {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "must be a string"
		}
		*field(r) = strings.TrimSpace(s)
		return ""
	}
}

func setBool(field func(*Request) **bool) func(*Request, json.RawMessage) string {
	return func(r *Request, raw json.RawMessage) string {
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil {
			return "must be a boolean (true or false)"
		}
		*field(r) = &b
		return ""
	}
}

// ParseRequest decodes and validates a request object. Every problem is
// reported at once in a *ValidationError.
func ParseRequest(raw []byte) (Request, error) {
	r, v := parseRequest(raw)
	if v != nil {
		return Request{}, v
	}
	return r, nil
}

// parseRequest is ParseRequest with the concrete error type, for callers
// in this package that re-locate the fields.
func parseRequest(raw []byte) (Request, *ValidationError) {
	r, v := decodeRequest(raw)
	if v.wholePayload() {
		return Request{}, v
	}
	if v := r.check(v); v != nil {
		return Request{}, v
	}
	return r, nil
}

// decodeRequest does the type checks; validate does the value checks.
// Callers that merge in more fields (HTTP query parameters) decode first
// and validate after. On a field of the wrong type it goes on with the
// others and returns what it could decode along with every type problem,
// so that a caller can add the value problems of the other fields (every
// problem at once); a payload that is not a JSON object gives a single
// problem about the whole payload (field "") and no request.
func decodeRequest(raw []byte) (Request, *ValidationError) {
	var obj map[string]json.RawMessage
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return Request{}, invalid("", "the request must be a JSON object")
	}
	// raw, not trimmed: the offsets in a syntax error count from the
	// start of what the caller sent.
	if err := json.Unmarshal(raw, &obj); err != nil {
		return Request{}, invalid("", "the request is not JSON: "+notJSON(raw, err))
	}
	var r Request
	v := &ValidationError{}
	seen := make(map[string]string, len(obj))
	for key, val := range obj {
		f, ok := requestFields[strings.ToLower(key)]
		if !ok {
			continue
		}
		if prev, dup := seen[f.name]; dup {
			v.add(f.name, "given twice (as "+quote(prev)+" and "+quote(key)+"); field names are case-insensitive")
			continue
		}
		seen[f.name] = key
		if bytes.Equal(bytes.TrimSpace(val), []byte("null")) {
			continue
		}
		if problem := f.set(&r, val); problem != "" {
			v.add(f.name, problem)
		}
	}
	if len(v.Fields) > 0 {
		sortFieldErrors(v.Fields)
		return r, v
	}
	return r, nil
}

// Validate checks the values: at least one target, and well-formed ids.
func (r Request) Validate() error {
	if v := r.validate(); v != nil {
		return v
	}
	return nil
}

func (r Request) validate() *ValidationError { return r.check(nil) }

// check adds the value problems of r to known (the type problems found
// while decoding, maybe more) and returns them all, nil when there are
// none. A field known already to be wrong is not checked again, and a
// target of the wrong type is not reported missing as well.
func (r Request) check(known *ValidationError) *ValidationError {
	v := &ValidationError{}
	named := map[string]bool{}
	if known != nil {
		v.Fields = append(v.Fields, known.Fields...)
		for _, f := range known.Fields {
			named[f.Field] = true
		}
	}
	if r.NetworkInterfaceID == "" && r.InstanceID == "" && !named["NetworkInterfaceId"] && !named["InstanceId"] {
		v.add("NetworkInterfaceId", "NetworkInterfaceId or InstanceId is required")
	}
	if r.NetworkInterfaceID != "" && !named["NetworkInterfaceId"] && !ValidENIID(r.NetworkInterfaceID) {
		v.add("NetworkInterfaceId", "must be an ENI id: \"eni-\" followed by lower-case letters and digits, got "+quote(r.NetworkInterfaceID))
	}
	if r.InstanceID != "" && !named["InstanceId"] && !ValidInstanceID(r.InstanceID) {
		v.add("InstanceId", "must be an instance id: \"i-\" followed by lower-case letters and digits, got "+quote(r.InstanceID))
	}
	if r.TrunkNetworkInstanceID != "" && !named["TrunkNetworkInstanceId"] && !ValidENIID(r.TrunkNetworkInstanceID) {
		v.add("TrunkNetworkInstanceId", "must be an ENI id: \"eni-\" followed by lower-case letters and digits, got "+quote(r.TrunkNetworkInstanceID))
	}
	if r.AccountID != "" && !named["AccountId"] && !ValidAccountID(r.AccountID) {
		v.add("AccountId", "must be an account id of 16 digits, got "+quote(r.AccountID))
	}
	if r.RegionID != "" && !named["RegionId"] && !ValidRegionID(r.RegionID) {
		v.add("RegionId", "must be a region id such as cn-hangzhou, got "+quote(r.RegionID))
	}
	if len(v.Fields) == 0 {
		return nil
	}
	sortFieldErrors(v.Fields)
	return v
}

// quote keeps echoed user input short and printable in error messages.
func quote(s string) string {
	const max = 80
	if len(s) > max {
		s = s[:max] + "…"
	}
	b, _ := json.Marshal(s)
	return string(b)
}
