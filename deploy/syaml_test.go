package deploy_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// repoRoot is where s.yaml, build.sh and main.go live, seen from this package.
const repoRoot = ".."

// syaml is the part of a Serverless Devs project file these tests read.
type syaml struct {
	Edition   string                 `yaml:"edition"`
	Name      string                 `yaml:"name"`
	Vars      map[string]any         `yaml:"vars"`
	Resources map[string]syamlObject `yaml:"resources"`
}

type syamlObject struct {
	Component string         `yaml:"component"`
	Props     map[string]any `yaml:"props"`
}

// loadSYAML parses s.yaml and resolves its ${vars.x} references, as
// Serverless Devs does before handing props to the component.
func loadSYAML(t *testing.T) *syaml {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "s.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var s syaml
	if err := yaml.Unmarshal(b, &s); err != nil {
		t.Fatalf("s.yaml: %v", err)
	}
	for name, r := range s.Resources {
		props, err := resolveVars(r.Props, s.Vars, "resources."+name+".props")
		if err != nil {
			t.Fatalf("s.yaml: %v", err)
		}
		r.Props = props.(map[string]any)
		s.Resources[name] = r
	}
	return &s
}

// fc3Props returns the props of the single fc3 resource; the project has one
// function, and a second resource would be a change worth a test update.
func fc3Props(t *testing.T, s *syaml) map[string]any {
	t.Helper()
	if len(s.Resources) != 1 {
		t.Fatalf("s.yaml has %d resources, want exactly one fc3 function", len(s.Resources))
	}
	for name, r := range s.Resources {
		if r.Component != "fc3" {
			t.Fatalf("resources.%s.component = %q, want fc3", name, r.Component)
		}
		return r.Props
	}
	panic("unreachable")
}

var (
	exprRE    = regexp.MustCompile(`\$\{([^}]*)\}`)
	varNameRE = regexp.MustCompile(`^vars\.([A-Za-z_][A-Za-z0-9_]*)$`)
)

// resolveVars replaces ${vars.x}. A string that is exactly one reference
// takes the variable's value with its type (so `timeout: ${vars.t}` stays a
// number); references inside a longer string are spliced in as text. Any
// other ${…} expression is an error, so that using a Serverless Devs feature
// these tests do not model is noticed rather than validated as a literal.
func resolveVars(v any, vars map[string]any, path string) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			r, err := resolveVars(e, vars, path+"."+k)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			r, err := resolveVars(e, vars, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	case string:
		return resolveString(v, vars, path)
	}
	return v, nil
}

func resolveString(s string, vars map[string]any, path string) (any, error) {
	lookup := func(expr string) (any, error) {
		m := varNameRE.FindStringSubmatch(strings.TrimSpace(expr))
		if m == nil {
			return nil, fmt.Errorf("%s: unsupported expression ${%s}", path, expr)
		}
		val, ok := vars[m[1]]
		if !ok {
			return nil, fmt.Errorf("%s: ${%s}: no such var", path, expr)
		}
		return val, nil
	}
	if m := exprRE.FindStringSubmatch(s); m != nil && m[0] == s {
		return lookup(m[1])
	}
	var firstErr error
	out := exprRE.ReplaceAllStringFunc(s, func(ref string) string {
		val, err := lookup(ref[2 : len(ref)-1])
		if err == nil {
			switch val.(type) {
			case map[string]any, []any:
				err = fmt.Errorf("%s: %s is not a scalar and cannot be spliced into a string", path, ref)
			}
		}
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			return ref
		}
		return fmt.Sprint(val)
	})
	return out, firstErr
}

func TestResolveVars(t *testing.T) {
	vars := map[string]any{"region": "cn-hangzhou", "timeout": 180, "list": []any{"a"}}
	tests := []struct {
		name    string
		in      any
		want    any
		wantErr string
	}{
		{"whole string keeps the type", "${vars.timeout}", 180, ""},
		{"spliced into text", "acs:fc:${vars.region}:x", "acs:fc:cn-hangzhou:x", ""},
		{"two references", "${vars.region}/${vars.timeout}", "cn-hangzhou/180", ""},
		{"nested", map[string]any{"a": []any{"${vars.region}"}}, map[string]any{"a": []any{"cn-hangzhou"}}, ""},
		{"no references", "plain {json}", "plain {json}", ""},
		{"unknown var", "${vars.nope}", nil, "no such var"},
		{"other expression", "${env('X')}", nil, "unsupported expression"},
		{"list spliced", "x${vars.list}", nil, "not a scalar"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := resolveVars(tt.in, vars, "p")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestSYAMLTopLevel(t *testing.T) {
	s := loadSYAML(t)
	if s.Edition != "3.0.0" {
		t.Errorf("edition = %q, want 3.0.0", s.Edition)
	}
	if s.Name == "" {
		t.Error("name is empty")
	}
	props := fc3Props(t, s)
	if props["role"] != s.Vars["role"] || props["region"] != s.Vars["region"] {
		t.Errorf("role/region should come from vars: role=%v region=%v", props["role"], props["region"])
	}
	if !regexp.MustCompile(`^acs:ram::\d+:role/[A-Za-z0-9._-]+$`).MatchString(fmt.Sprint(s.Vars["role"])) {
		t.Errorf("vars.role = %v, want a RAM role ARN acs:ram::{accountId}:role/{name}", s.Vars["role"])
	}
}
