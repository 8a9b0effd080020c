package eventschema

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// schemaDoc is a parsed schema, read with plain encoding/json so that the
// drift checks below do not depend on the validator they check.
type schemaDoc struct{ root map[string]any }

func loadSchema(t testing.TB, b []byte) schemaDoc {
	t.Helper()
	var root map[string]any
	if err := json.Unmarshal(b, &root); err != nil {
		t.Fatal(err)
	}
	return schemaDoc{root: root}
}

// at resolves a local reference: "#" or "#/$defs/name/...".
func (d schemaDoc) at(ref string) map[string]any {
	node := d.root
	for _, part := range strings.Split(strings.TrimPrefix(strings.TrimPrefix(ref, "#"), "/"), "/") {
		if part == "" {
			continue
		}
		next, _ := node[part].(map[string]any)
		node = next
	}
	return node
}

// refOf is the $ref of a node, directly or as the first $ref of its allOf.
func (d schemaDoc) refOf(n map[string]any) string {
	if r, ok := n["$ref"].(string); ok {
		return r
	}
	all, _ := n["allOf"].([]any)
	for _, a := range all {
		if m, ok := a.(map[string]any); ok {
			if r := d.refOf(m); r != "" {
				return r
			}
		}
	}
	return ""
}

// types is the set of JSON types a node admits, from type, const, enum,
// $ref and allOf.
func (d schemaDoc) types(n map[string]any) map[string]bool {
	out := map[string]bool{}
	if r, ok := n["$ref"].(string); ok {
		for k := range d.types(d.at(r)) {
			out[k] = true
		}
	}
	switch t := n["type"].(type) {
	case string:
		out[t] = true
	case []any:
		for _, v := range t {
			out[v.(string)] = true
		}
	}
	if c, ok := n["const"]; ok {
		out[valueKind(c)] = true
	}
	enum, _ := n["enum"].([]any)
	for _, v := range enum {
		out[valueKind(v)] = true
	}
	all, _ := n["allOf"].([]any)
	for _, a := range all {
		for k := range d.types(a.(map[string]any)) {
			out[k] = true
		}
	}
	return out
}

func valueKind(v any) string {
	switch x := v.(type) {
	case string:
		return "string"
	case bool:
		return "boolean"
	case float64:
		if x == float64(int64(x)) {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "null"
}

func (d schemaDoc) resolve(n map[string]any) map[string]any {
	if r := d.refOf(n); r != "" {
		return d.at(r)
	}
	return n
}

func strs(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		out = append(out, x.(string))
	}
	sort.Strings(out)
	return out
}

var timeType = reflect.TypeFor[time.Time]()

// jsonKind is the JSON type encoding/json gives a Go type.
func jsonKind(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType, t.Kind() == reflect.String:
		return "string"
	case t.Kind() == reflect.Bool:
		return "boolean"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return "integer"
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return "number"
	case t.Kind() == reflect.Slice:
		return "array"
	case t.Kind() == reflect.Struct || t.Kind() == reflect.Map:
		return "object"
	}
	return "?" + t.String()
}

// driftProblems compares a Go struct with the schema object at ref, both
// ways: every json field is a property of the same JSON type, every
// property is a field, a field without omitempty is required (and one with
// it is not), unknown properties are refused, and nested structs point at
// the schema definition defs names for their Go type.
func driftProblems(d schemaDoc, typ reflect.Type, ref string, defs map[reflect.Type]string) []string {
	var problems []string
	add := func(format string, args ...any) {
		problems = append(problems, typ.Name()+": "+fmt.Sprintf(format, args...))
	}
	node := d.at(ref)
	if node == nil {
		return []string{typ.Name() + ": no schema object at " + ref}
	}
	props, _ := node["properties"].(map[string]any)
	required := map[string]bool{}
	for _, r := range strs(node["required"]) {
		required[r] = true
	}
	fields := map[string]bool{}
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields[name] = true
		omit := slices.Contains(strings.Split(opts, ","), "omitempty")
		p, ok := props[name].(map[string]any)
		if !ok {
			add("field %s (json %q) is not a schema property", f.Name, name)
			continue
		}
		switch {
		case !omit && !required[name]:
			add("%q is always encoded but the schema does not require it", name)
		case omit && required[name]:
			add("%q is omitted when empty but the schema requires it", name)
		}
		problems = append(problems, checkType(d, typ.Name()+"."+name, f.Type, p, defs)...)
	}
	for name := range props {
		if !fields[name] {
			add("schema property %q has no Go field", name)
		}
	}
	for name := range required {
		if !fields[name] {
			add("schema requires %q, which has no Go field", name)
		}
	}
	if node["additionalProperties"] != false {
		add("additionalProperties is not false: an unknown property would pass unnoticed")
	}
	return problems
}

func checkType(d schemaDoc, path string, t reflect.Type, prop map[string]any, defs map[reflect.Type]string) []string {
	want, got := jsonKind(t), d.types(prop)
	if len(got) != 1 || !got[want] {
		return []string{fmt.Sprintf("%s: Go encodes %s, the schema admits %v", path, want, slices.Sorted(maps.Keys(got)))}
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		if d.resolve(prop)["format"] != "date-time" {
			return []string{path + ": a time.Time without format date-time"}
		}
	case t.Kind() == reflect.Struct:
		if ref := d.refOf(prop); ref != defs[t] {
			return []string{fmt.Sprintf("%s: refers to %q, want %q (the definition of %s)", path, ref, defs[t], t.Name())}
		}
	case t.Kind() == reflect.Slice:
		items, _ := d.resolve(prop)["items"].(map[string]any)
		if items == nil {
			return []string{path + ": an array without items"}
		}
		return checkType(d, path+"[]", t.Elem(), items, defs)
	}
	return nil
}

// followUpDefs maps each Go type of the event to its schema definition.
var followUpDefs = map[reflect.Type]string{
	reflect.TypeFor[FollowUpEvent](): "#",
	reflect.TypeFor[Result]():        "#/$defs/result",
	reflect.TypeFor[ErrorInfo]():     "#/$defs/error",
	reflect.TypeFor[FieldError]():    "#/$defs/fieldError",
	reflect.TypeFor[Trigger]():       "#/$defs/trigger",
}

// TestFollowUpSchemaMatchesGoTypes is the drift check between the Go types
// that produce the event and the schema that documents it. It catches, for
// example:
//   - a field added to Result (say `Zone string json:"zone"`) and not to the
//     schema: "field Zone (json "zone") is not a schema property" — and the
//     handler tests would fail too, since data refuses unknown properties;
//   - a property added to the schema that the code never sends, or a json
//     tag renamed on one side only (`requestIds` → `requestIDs`): both
//     directions are reported;
//   - `omitempty` added to or removed from a field without updating
//     `required` (consumers would rely on a member that may be absent);
//   - a field's type changed (DurationMs to a string, Trigger to a pointer
//     of another struct) without the schema following.
//
// TestDriftCheckCatchesMutations runs exactly these mutations against the
// same comparator, so the check is known to fail when it should.
func TestFollowUpSchemaMatchesGoTypes(t *testing.T) {
	d := loadSchema(t, FollowUpEventSchema())
	for typ, ref := range followUpDefs {
		t.Run(typ.Name(), func(t *testing.T) {
			for _, p := range driftProblems(d, typ, ref, followUpDefs) {
				t.Error(p)
			}
		})
	}
}

// TestDriftCheckCatchesMutations proves the comparator fails: each case
// rebuilds Result with one change and expects a complaint.
func TestDriftCheckCatchesMutations(t *testing.T) {
	d := loadSchema(t, FollowUpEventSchema())
	base := reflect.TypeFor[Result]()
	fieldsOf := func() []reflect.StructField {
		out := make([]reflect.StructField, base.NumField())
		for i := range out {
			out[i] = base.Field(i)
		}
		return out
	}
	edit := func(name string, f func(*reflect.StructField)) []reflect.StructField {
		fs := fieldsOf()
		for i := range fs {
			if fs[i].Name == name {
				f(&fs[i])
			}
		}
		return fs
	}
	tests := []struct {
		name   string
		fields []reflect.StructField
		want   string
	}{
		{"field added in Go", append(fieldsOf(), reflect.StructField{Name: "Zone", Type: reflect.TypeFor[string](), Tag: `json:"zone,omitempty"`}),
			`"zone"`},
		{"field dropped in Go", slices.DeleteFunc(fieldsOf(), func(f reflect.StructField) bool { return f.Name == "RequestIDs" }),
			`"requestIds" has no Go field`},
		{"tag renamed", edit("RequestIDs", func(f *reflect.StructField) { f.Tag = `json:"requestIDs"` }), `"requestIDs"`},
		{"omitempty added", edit("Outcome", func(f *reflect.StructField) { f.Tag = `json:"outcome,omitempty"` }),
			`"outcome" is omitted when empty`},
		{"omitempty removed", edit("Status", func(f *reflect.StructField) { f.Tag = `json:"status"` }),
			`"status" is always encoded`},
		{"type changed", edit("DurationMs", func(f *reflect.StructField) { f.Type = reflect.TypeFor[string]() }),
			"Go encodes string"},
		{"nested type changed", edit("Trigger", func(f *reflect.StructField) { f.Type = reflect.TypeFor[FieldError]() }),
			"#/$defs/trigger"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mutated := reflect.StructOf(tc.fields)
			problems := strings.Join(driftProblems(d, mutated, "#/$defs/result", followUpDefs), "\n")
			if !strings.Contains(problems, tc.want) {
				t.Fatalf("mutation not reported (want %s); problems:\n%s", tc.want, problems)
			}
		})
	}
}

// packageConsts reads the package's non-test sources and returns the
// string constants for which keep(name, type) is true: the exhaustive
// lists (Outcomes) are checked against the declarations themselves.
func packageConsts(t *testing.T, keep func(name, typ string) bool) map[string]string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	fset := token.NewFileSet()
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				typ := ""
				if id, ok := vs.Type.(*ast.Ident); ok {
					typ = id.Name
				}
				for i, name := range vs.Names {
					if i >= len(vs.Values) || !keep(name.Name, typ) {
						continue
					}
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						t.Fatalf("%s: %s is not a string literal", path, name.Name)
					}
					v, _ := strconv.Unquote(lit.Value)
					out[name.Name] = v
				}
			}
		}
	}
	return out
}

func values(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

func sortedOutcomes(os []Outcome) []string {
	out := make([]string, len(os))
	for i, o := range os {
		out[i] = string(o)
	}
	sort.Strings(out)
	return out
}

// TestSchemaEnumsMatchGo ties every enum of the schema to the Go
// declarations: a new Outcome constant missing from Outcomes or from the
// schema, a new event type, a changed outcome→type mapping, a new status
// or trigger kind all fail here.
func TestSchemaEnumsMatchGo(t *testing.T) {
	d := loadSchema(t, FollowUpEventSchema())
	result := d.at("#/$defs/result")
	prop := func(node map[string]any, name string) map[string]any {
		p, _ := node["properties"].(map[string]any)[name].(map[string]any)
		return d.resolve(p)
	}
	t.Run("outcomes", func(t *testing.T) {
		declared := values(packageConsts(t, func(_, typ string) bool { return typ == "Outcome" }))
		if listed := sortedOutcomes(Outcomes); !slices.Equal(declared, listed) {
			t.Fatalf("Outcome constants %v, Outcomes lists %v", declared, listed)
		}
		if enum := strs(prop(result, "outcome")["enum"]); !slices.Equal(enum, declared) {
			t.Fatalf("schema outcome enum %v, Go %v", enum, declared)
		}
	})
	t.Run("event types", func(t *testing.T) {
		byType := map[string][]string{}
		for _, o := range Outcomes {
			if typ := o.EventType(); typ != "" {
				byType[typ] = append(byType[typ], string(o))
			}
		}
		want := []string{TypeDetachFailed, TypeDetachPending, TypeDetached}
		if got := slices.Sorted(maps.Keys(byType)); !slices.Equal(got, want) {
			t.Fatalf("EventType yields %v, the Type constants are %v", got, want)
		}
		if enum := strs(prop(d.root, "type")["enum"]); !slices.Equal(enum, want) {
			t.Fatalf("schema type enum %v, want %v", enum, want)
		}
		// The schema's if/then pins each type to its outcomes.
		seen := map[string]bool{}
		for _, c := range d.root["allOf"].([]any) {
			cond := c.(map[string]any)
			typ := cond["if"].(map[string]any)["properties"].(map[string]any)["type"].(map[string]any)["const"].(string)
			data := cond["then"].(map[string]any)["properties"].(map[string]any)["data"].(map[string]any)
			got := strs(data["properties"].(map[string]any)["outcome"].(map[string]any)["enum"])
			want := slices.Sorted(slices.Values(byType[typ]))
			if !slices.Equal(got, want) {
				t.Errorf("schema: type %s carries outcomes %v; EventType maps %v to it", typ, got, want)
			}
			seen[typ] = true
		}
		if len(seen) != len(byType) {
			t.Errorf("schema constrains %d types, Go has %d", len(seen), len(byType))
		}
	})
	t.Run("statuses", func(t *testing.T) {
		declared := values(packageConsts(t, func(name, _ string) bool { return strings.HasPrefix(name, "Status") }))
		for _, name := range []string{"status", "previousStatus"} {
			if enum := strs(prop(result, name)["enum"]); !slices.Equal(enum, declared) {
				t.Errorf("schema %s enum %v, Go Status* constants %v", name, enum, declared)
			}
		}
	})
	t.Run("trigger kinds", func(t *testing.T) {
		declared := values(packageConsts(t, func(_, typ string) bool { return typ == "TriggerKind" }))
		if enum := strs(prop(d.at("#/$defs/trigger"), "kind")["enum"]); !slices.Equal(enum, declared) {
			t.Fatalf("schema trigger kinds %v, Go %v", enum, declared)
		}
	})
	t.Run("id patterns", func(t *testing.T) {
		for name, valid := range map[string]func(string) bool{
			"regionId": ValidRegionID, "networkInterfaceId": ValidENIID,
			"instanceId": ValidInstanceID, "trunkNetworkInstanceId": ValidENIID,
		} {
			samePattern(t, name, prop(result, name)["pattern"], valid)
		}
	})
}

// idSamples probe the edges of the id rules.
var idSamples = []string{
	"", "eni-", "eni-a", "eni-a1b2", "eni-A1", "eni-a_1", "eni-" + strings.Repeat("a", 60), "eni-" + strings.Repeat("a", 61),
	"i-", "i-a", "i-bp1xyz", "i-Bp1", "i-a-b", "i-" + strings.Repeat("9", 60), "i-" + strings.Repeat("9", 61), "eni-i-a",
	"cn-hangzhou", "ap-southeast-1", "cn-shanghai-finance-1", "cn-a-b-c-d", "cn-a-b-c-d-e", "c-hangzhou", "cn-",
	"cn--x", "1n-x", "cn-Hangzhou", "hangzhou", "cn_hangzhou", "cn-hangzhou ",
}

// samePattern checks that the schema's pattern and the Go validator agree
// on every sample: the code validates by hand, the schema by regexp.
func samePattern(t *testing.T, name string, pattern any, valid func(string) bool) {
	t.Helper()
	ps, ok := pattern.(string)
	if !ok {
		t.Errorf("schema %s has no pattern", name)
		return
	}
	re, err := regexp.Compile(ps)
	if err != nil {
		t.Errorf("schema %s pattern %q: %v", name, ps, err)
		return
	}
	for _, s := range idSamples {
		if re.MatchString(s) != valid(s) {
			t.Errorf("schema %s pattern %q and the code disagree on %q (code says %v)", name, ps, s, valid(s))
		}
	}
}

// TestRequestSchemaMatchesGo: the request schema has exactly the fields
// the parser knows (requestFields, by their canonical spelling) and the
// Request type encodes, with the parser's patterns.
func TestRequestSchemaMatchesGo(t *testing.T) {
	d := loadSchema(t, RequestSchema())
	for _, p := range driftProblems(d, reflect.TypeFor[Request](), "#", nil) {
		t.Error(p)
	}
	var parsed []string
	for _, f := range requestFields {
		parsed = append(parsed, f.name)
	}
	sort.Strings(parsed)
	props := d.root["properties"].(map[string]any)
	if got := slices.Sorted(maps.Keys(props)); !slices.Equal(got, parsed) {
		t.Fatalf("schema properties %v, the parser reads %v", got, parsed)
	}
	for name, valid := range map[string]func(string) bool{
		"RegionId": ValidRegionID, "NetworkInterfaceId": ValidENIID,
		"InstanceId": ValidInstanceID, "TrunkNetworkInstanceId": ValidENIID,
	} {
		samePattern(t, name, props[name].(map[string]any)["pattern"], valid)
	}
}

func TestSchemasCarryTheirID(t *testing.T) {
	for name, b := range map[string][]byte{"followup-event": FollowUpEventSchema(), "request": RequestSchema()} {
		d := loadSchema(t, b)
		if id, _ := d.root["$id"].(string); !strings.HasSuffix(id, "/eventschema/schema/"+name+".schema.json") {
			t.Errorf("%s: $id %q", name, id)
		}
		if d.root["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
			t.Errorf("%s: $schema %v", name, d.root["$schema"])
		}
	}
	// The accessors hand out copies: a caller cannot corrupt the schema.
	b := FollowUpEventSchema()
	b[0] = 'x'
	if FollowUpEventSchema()[0] != '{' {
		t.Fatal("FollowUpEventSchema returned the embedded bytes themselves")
	}
}
