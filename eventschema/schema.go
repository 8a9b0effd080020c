package eventschema

import (
	"bytes"
	_ "embed"
)

// The JSON Schemas of the product's wire contract, embedded so that the
// binary, the tests and the docs share one copy. The validator for them is
// the package eventschema/schema, kept apart so that the function binary
// does not link github.com/santhosh-tekuri/jsonschema: that package's init
// compiles the meta-schemas of five drafts (measured 6.8 ms and 1.7 MB on
// every cold start) for a check only tests and tools make.
var (
	//go:embed schema/followup-event.schema.json
	followUpEventSchema []byte
	//go:embed schema/request.schema.json
	requestSchema []byte
)

// FollowUpEventSchema returns the JSON Schema (draft 2020-12) of the
// follow-up CloudEvent, its data object included.
func FollowUpEventSchema() []byte { return bytes.Clone(followUpEventSchema) }

// RequestSchema returns the JSON Schema (draft 2020-12) of the request
// object, in its canonical spelling.
func RequestSchema() []byte { return bytes.Clone(requestSchema) }
