package eventschema

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode"
)

// jsonProblem turns a decoder error into a short phrase without Go type
// names, which mean nothing to the caller.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf("%s (at byte %d)", syn.Error(), syn.Offset)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return "unexpected " + typ.Value
	}
	return err.Error()
}

// fieldOrder is the order problems are listed in: the request's fields
// as the README lists them; other names (body, query.wait, …) after them,
// in the order they were found.
var fieldOrder = map[string]int{
	"": -1, "NetworkInterfaceId": 1, "InstanceId": 2, "RegionId": 3, "TrunkNetworkInstanceId": 4, "DryRun": 5, "Wait": 6,
}

func sortFieldErrors(f []FieldError) {
	rank := func(name string) int {
		if r, ok := fieldOrder[name]; ok {
			return r
		}
		return len(fieldOrder)
	}
	sort.SliceStable(f, func(i, j int) bool { return rank(f[i].Field) < rank(f[j].Field) })
}

// notJSON says, in plain words, where raw stops being JSON: the byte
// offset (counted from 0) of the first byte that cannot be there, what
// that byte is, and the text around it. Decoder wording such as "invalid
// character 'o' in literal null (expecting 'u')" means little to a
// caller who never meant to write null. The excerpt is shown as it is
// (not quoted), so that it reads the same inside a JSON answer.
func notJSON(raw []byte, err error) string {
	var syn *json.SyntaxError
	if !errors.As(err, &syn) || len(raw) == 0 {
		return jsonProblem(err)
	}
	if strings.HasPrefix(syn.Error(), "unexpected end") {
		return fmt.Sprintf("it ends after %d bytes, before the JSON value is complete (an object, array or string is not closed)", len(raw))
	}
	// The decoder counts the offending byte as read.
	at := min(max(int(syn.Offset)-1, 0), len(raw)-1)
	return fmt.Sprintf("unexpected %s at byte offset %d, near %s", describeByte(raw[at]), at, excerpt(raw, at))
}

func describeByte(c byte) string {
	switch {
	case c < 0x20 || c == 0x7f:
		return fmt.Sprintf("control character 0x%02x", c)
	case c >= 0x80:
		return fmt.Sprintf("non-ASCII byte 0x%02x", c)
	default:
		return "'" + string(c) + "'"
	}
}

// excerpt is up to 20 bytes either side of at, with "…" where it was cut
// and anything unprintable written as an escape.
func excerpt(raw []byte, at int) string {
	const span = 20
	from, to := max(at-span, 0), min(at+span+1, len(raw))
	var b strings.Builder
	if from > 0 {
		b.WriteString("…")
	}
	for _, r := range strings.ToValidUTF8(string(raw[from:to]), "\ufffd") {
		if unicode.IsPrint(r) {
			b.WriteRune(r)
		} else {
			fmt.Fprintf(&b, "\\u%04x", r)
		}
	}
	if to < len(raw) {
		b.WriteString("…")
	}
	return b.String()
}
