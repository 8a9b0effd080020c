package deploy_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The fc3 component's published schema for a function resource's props (see
// testdata/SOURCE.md). Validating against it is the offline `s verify`.
const schemaURL = "https://github.com/devsapp/fc3/src/schema.json"

func compileSchema(t *testing.T, fragment string) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "fc3-function-props.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(schemaURL, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(schemaURL + fragment)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// asJSON turns YAML-decoded values into the JSON values the validator
// expects (numbers as json.Number, maps with string keys).
func asJSON(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The props schema accepts any object as a triggerConfig (one anyOf branch,
// IOtsConfig, is an empty object schema), so each trigger config is also
// validated against the definition of its own type.
var triggerDefinitions = map[string]string{
	"http":        "#/definitions/IHttpTriggerConfig",
	"eventbridge": "#/definitions/IEventBridge",
}

func validateSYAMLProps(t *testing.T, props map[string]any) []error {
	t.Helper()
	var errs []error
	if err := compileSchema(t, "").Validate(asJSON(t, props)); err != nil {
		errs = append(errs, err)
	}
	list, _ := props["triggers"].([]any)
	for _, e := range list {
		tr, _ := e.(map[string]any)
		typ, _ := tr["triggerType"].(string)
		def, ok := triggerDefinitions[typ]
		if !ok {
			continue // checkProps reports unexpected trigger types
		}
		if err := compileSchema(t, def).Validate(asJSON(t, tr["triggerConfig"])); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

func TestSYAMLMatchesFC3Schema(t *testing.T) {
	props := fc3Props(t, loadSYAML(t))
	for _, err := range validateSYAMLProps(t, props) {
		t.Error(err)
	}
}

// TestBrokenSYAMLFailsSchema shows the schema is really applied: each
// mutation of the real s.yaml is one it forbids.
func TestBrokenSYAMLFailsSchema(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(p map[string]any)
		wantErr string
	}{
		{"runtime go2", func(p map[string]any) { p["runtime"] = "go2" }, "/runtime"},
		{"timeout a string", func(p map[string]any) { p["timeout"] = "abc" }, "/timeout"},
		{"timeout fractional", func(p map[string]any) { p["timeout"] = 1.5 }, "/timeout"},
		{"memorySize not a multiple of 64", func(p map[string]any) { p["memorySize"] = 100 }, "/memorySize"},
		{"instanceConcurrency over 200", func(p map[string]any) { p["instanceConcurrency"] = 500 }, "/instanceConcurrency"},
		{"env value a boolean", func(p map[string]any) { p["environmentVariables"].(map[string]any)["DRY_RUN"] = false }, "/environmentVariables/DRY_RUN"},
		{"unknown region", func(p map[string]any) { p["region"] = "mars-north-1" }, "/region"},
		{"no handler", func(p map[string]any) { delete(p, "handler") }, "handler"},
		{"async retries over 8", func(p map[string]any) { p["asyncInvokeConfig"].(map[string]any)["maxAsyncRetryAttempts"] = 9 }, "/asyncInvokeConfig/maxAsyncRetryAttempts"},
		{"http authType unknown", func(p map[string]any) { triggerByType(p, "http")["authType"] = "none" }, "/authType"},
		{"http method unknown", func(p map[string]any) { triggerByType(p, "http")["methods"] = []any{"FETCH"} }, "/methods/0"},
		{"eventbridge without runOptions", func(p map[string]any) { delete(firstEBTrigger(p), "runOptions") }, "runOptions"},
		{"eventbridge pattern not a string", func(p map[string]any) {
			firstEBTrigger(p)["eventRuleFilterPattern"] = map[string]any{"source": []any{"acs.ecs"}}
		}, "/eventRuleFilterPattern"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			props := fc3Props(t, loadSYAML(t))
			tt.mutate(props)
			errs := validateSYAMLProps(t, props)
			if len(errs) == 0 {
				t.Fatal("schema accepted the broken props")
			}
			for _, err := range errs {
				if strings.Contains(err.Error(), tt.wantErr) {
					return
				}
			}
			t.Errorf("no schema error mentioning %q; got %v", tt.wantErr, errs)
		})
	}
}
