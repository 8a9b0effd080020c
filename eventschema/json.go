package eventschema

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
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

func sortFieldErrors(f []FieldError) {
	sort.SliceStable(f, func(i, j int) bool { return f[i].Field < f[j].Field })
}
