package eventschema

import (
	"errors"
	"strings"
)

// ErrInvalidRequest is matched (errors.Is) by every *ValidationError, so
// callers can tell "the caller sent something wrong" from everything else.
var ErrInvalidRequest = errors.New("InvalidRequest")

// FieldError names one problem with one field. Field is the API spelling
// (NetworkInterfaceId, Wait, …) or a path such as "data.state"; it is empty
// when the problem is the payload as a whole.
type FieldError struct {
	Field   string `json:"field"`
	Problem string `json:"problem"`
}

// ValidationError collects every field problem of one payload at once, so a
// caller fixes all of them in one round instead of one per invocation.
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("InvalidRequest: ")
	for i, f := range e.Fields {
		if i > 0 {
			b.WriteString("; ")
		}
		if f.Field != "" {
			b.WriteString(f.Field)
			b.WriteString(": ")
		}
		b.WriteString(f.Problem)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrInvalidRequest) true.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalidRequest }

func (e *ValidationError) add(field, problem string) {
	e.Fields = append(e.Fields, FieldError{Field: field, Problem: problem})
}

// wholePayload reports whether e is about the payload as a whole (not
// JSON, not an object) rather than about its fields.
func (e *ValidationError) wholePayload() bool {
	return e != nil && len(e.Fields) > 0 && e.Fields[0].Field == ""
}

func invalid(field, problem string) *ValidationError {
	return &ValidationError{Fields: []FieldError{{Field: field, Problem: problem}}}
}
