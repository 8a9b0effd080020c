// Package schema validates JSON documents against the product's JSON
// Schemas (eventschema.FollowUpEventSchema, eventschema.RequestSchema).
// Tests and tools use it; the function binary does not import it (see
// eventschema/schema.go for why).
package schema

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/eni-detach/eni-detach/eventschema"
)

// Compiled once, on first use, and never changed after: a *jsonschema.Schema
// is read-only during validation, so concurrent callers share it.
var (
	followUpValidator = sync.OnceValues(func() (*jsonschema.Schema, error) {
		return compile("followup-event.schema.json", eventschema.FollowUpEventSchema())
	})
	requestValidator = sync.OnceValues(func() (*jsonschema.Schema, error) {
		return compile("request.schema.json", eventschema.RequestSchema())
	})
)

func compile(name string, src []byte) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(src))
	if err != nil {
		return nil, fmt.Errorf("schema: %s is not JSON: %w", name, err)
	}
	// Register the document under its own $id, so that error messages
	// name the published schema rather than a path on this machine.
	id := name
	if obj, ok := doc.(map[string]any); ok {
		if s, ok := obj["$id"].(string); ok && s != "" {
			id = s
		}
	}
	c := jsonschema.NewCompiler()
	// Formats (date-time) are annotations only in draft 2020-12 unless
	// asserted; the contract promises RFC 3339 times, so check them.
	c.AssertFormat()
	if err := c.AddResource(id, doc); err != nil {
		return nil, fmt.Errorf("schema: %s: %w", name, err)
	}
	sch, err := c.Compile(id)
	if err != nil {
		return nil, fmt.Errorf("schema: compiling %s: %w", name, err)
	}
	return sch, nil
}

// ValidateFollowUpEvent checks one JSON-encoded follow-up event against
// eventschema.FollowUpEventSchema. The error names every violation with
// its location.
func ValidateFollowUpEvent(b []byte) error {
	return validate(followUpValidator, "follow-up event", b)
}

// ValidateRequest checks one JSON-encoded request object against
// eventschema.RequestSchema (the canonical form: see its description).
func ValidateRequest(b []byte) error {
	return validate(requestValidator, "request", b)
}

func validate(compiled func() (*jsonschema.Schema, error), what string, b []byte) error {
	sch, err := compiled()
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("%s is not JSON: %w", what, err)
	}
	if err := sch.Validate(inst); err != nil {
		return fmt.Errorf("%s does not match its schema: %w", what, err)
	}
	return nil
}
