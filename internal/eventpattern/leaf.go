package eventpattern

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"
	"strings"
)

// matcher tests one present, non-array event value. "exists" is the only
// operator that looks at absence, so it is a separate type (existsMatcher).
type matcher interface {
	matchValue(v any) bool
}

// Operators lists the operator names Compile accepts inside a leaf array.
func Operators() []string {
	ops := make([]string, 0, len(operatorCompilers))
	for k := range operatorCompilers {
		ops = append(ops, k)
	}
	sort.Strings(ops)
	return ops
}

var operatorCompilers = map[string]func(arg any, path string) (matcher, error){
	"prefix":       stringOp(func(s string) matcher { return prefixMatcher(s) }),
	"suffix":       stringOp(func(s string) matcher { return suffixMatcher(s) }),
	"contains":     stringOp(func(s string) matcher { return containsMatcher(s) }),
	"anything-but": compileAnythingBut,
	"exists":       compileExists,
	"numeric":      compileNumeric,
	"cidr":         compileCIDR,
}

func compileLeaf(alts []any, path string) ([]matcher, error) {
	if len(alts) == 0 {
		return nil, fmt.Errorf("%s: an empty array matches nothing", path)
	}
	ms := make([]matcher, 0, len(alts))
	for i, a := range alts {
		p := fmt.Sprintf("%s[%d]", path, i)
		switch v := a.(type) {
		case map[string]any:
			m, err := compileOperator(v, p)
			if err != nil {
				return nil, err
			}
			ms = append(ms, m)
		case []any:
			return nil, fmt.Errorf("%s: nested arrays are not a pattern", p)
		default:
			ms = append(ms, exactMatcher{want: v})
		}
	}
	return ms, nil
}

func compileOperator(op map[string]any, path string) (matcher, error) {
	if len(op) != 1 {
		return nil, fmt.Errorf("%s: an operator object must have exactly one key, got %d", path, len(op))
	}
	for name, arg := range op {
		compile, ok := operatorCompilers[name]
		if !ok {
			return nil, fmt.Errorf("%s: unsupported operator %q (supported: %s)", path, name, strings.Join(Operators(), ", "))
		}
		return compile(arg, path+"."+name)
	}
	panic("unreachable")
}

func matchLeaf(ms []matcher, present bool, v any) bool {
	for _, m := range ms {
		if e, ok := m.(existsMatcher); ok {
			if e.matchField(present, v) {
				return true
			}
			continue
		}
		if !present {
			continue
		}
		// An array-valued field matches when any of its elements does.
		if arr, ok := v.([]any); ok {
			for _, el := range arr {
				if m.matchValue(el) {
					return true
				}
			}
			continue
		}
		if m.matchValue(v) {
			return true
		}
	}
	return false
}

// exactMatcher is a bare value in a leaf array: a string, number, boolean or
// null, compared with the event value of the same JSON type.
type exactMatcher struct{ want any }

func (m exactMatcher) matchValue(v any) bool { return scalarEqual(m.want, v) }

func scalarEqual(a, b any) bool {
	switch a := a.(type) {
	case nil:
		return b == nil
	case string:
		s, ok := b.(string)
		return ok && s == a
	case bool:
		x, ok := b.(bool)
		return ok && x == a
	case json.Number:
		bn, ok := b.(json.Number)
		if !ok {
			return false
		}
		af, err1 := a.Float64()
		bf, err2 := bn.Float64()
		return err1 == nil && err2 == nil && af == bf
	}
	return false
}

func isScalar(v any) bool {
	switch v.(type) {
	case nil, string, bool, json.Number:
		return true
	}
	return false
}

func stringOp(mk func(string) matcher) func(any, string) (matcher, error) {
	return func(arg any, path string) (matcher, error) {
		s, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("%s: must be a string, got %s", path, kind(arg))
		}
		return mk(s), nil
	}
}

type prefixMatcher string

func (m prefixMatcher) matchValue(v any) bool {
	s, ok := v.(string)
	return ok && strings.HasPrefix(s, string(m))
}

type suffixMatcher string

func (m suffixMatcher) matchValue(v any) bool {
	s, ok := v.(string)
	return ok && strings.HasSuffix(s, string(m))
}

type containsMatcher string

func (m containsMatcher) matchValue(v any) bool {
	s, ok := v.(string)
	return ok && strings.Contains(s, string(m))
}

// anythingButMatcher matches any scalar equal to none of its values; an
// object value is not "anything" a rule author means to let through.
type anythingButMatcher struct{ not []any }

func (m anythingButMatcher) matchValue(v any) bool {
	if !isScalar(v) {
		return false
	}
	for _, n := range m.not {
		if scalarEqual(n, v) {
			return false
		}
	}
	return true
}

// anythingButPrefixMatcher matches strings that do not start with the prefix.
type anythingButPrefixMatcher string

func (m anythingButPrefixMatcher) matchValue(v any) bool {
	s, ok := v.(string)
	return ok && !strings.HasPrefix(s, string(m))
}

func compileAnythingBut(arg any, path string) (matcher, error) {
	switch v := arg.(type) {
	case string, json.Number:
		return anythingButMatcher{not: []any{v}}, nil
	case []any:
		if len(v) == 0 {
			return nil, fmt.Errorf("%s: an empty list excludes nothing", path)
		}
		for i, el := range v {
			switch el.(type) {
			case string, json.Number:
			default:
				return nil, fmt.Errorf("%s[%d]: must be a string or a number, got %s", path, i, kind(el))
			}
		}
		return anythingButMatcher{not: v}, nil
	case map[string]any:
		p, ok := v["prefix"]
		if len(v) != 1 || !ok {
			return nil, fmt.Errorf("%s: only {\"prefix\": …} is supported inside anything-but", path)
		}
		s, ok := p.(string)
		if !ok {
			return nil, fmt.Errorf("%s.prefix: must be a string, got %s", path, kind(p))
		}
		return anythingButPrefixMatcher(s), nil
	}
	return nil, fmt.Errorf("%s: must be a string, a number, a list of them or {\"prefix\": …}, got %s", path, kind(arg))
}

// existsMatcher tests presence: true matches a present leaf value (an object
// is not a leaf), false matches an absent field.
type existsMatcher bool

func (m existsMatcher) matchValue(any) bool { return false } // never called: see matchLeaf

func (m existsMatcher) matchField(present bool, v any) bool {
	if !bool(m) {
		return !present
	}
	_, isObject := v.(map[string]any)
	return present && !isObject
}

func compileExists(arg any, path string) (matcher, error) {
	b, ok := arg.(bool)
	if !ok {
		return nil, fmt.Errorf("%s: must be true or false, got %s", path, kind(arg))
	}
	return existsMatcher(b), nil
}

type numericCond struct {
	op    string
	value float64
}

type numericMatcher []numericCond

func (m numericMatcher) matchValue(v any) bool {
	n, ok := v.(json.Number)
	if !ok {
		return false
	}
	f, err := n.Float64()
	if err != nil {
		return false
	}
	for _, c := range m {
		if !c.holds(f) {
			return false
		}
	}
	return true
}

func (c numericCond) holds(f float64) bool {
	switch c.op {
	case "=":
		return f == c.value
	case "<":
		return f < c.value
	case "<=":
		return f <= c.value
	case ">":
		return f > c.value
	case ">=":
		return f >= c.value
	}
	return false
}

func compileNumeric(arg any, path string) (matcher, error) {
	list, ok := arg.([]any)
	if !ok || len(list) == 0 || len(list)%2 != 0 || len(list) > 4 {
		return nil, fmt.Errorf("%s: must be [op, number] or [op, number, op, number]", path)
	}
	var m numericMatcher
	for i := 0; i < len(list); i += 2 {
		op, ok := list[i].(string)
		switch op {
		case "=", "<", "<=", ">", ">=":
		default:
			return nil, fmt.Errorf("%s[%d]: operator must be one of = < <= > >=, got %v", path, i, list[i])
		}
		n, ok2 := list[i+1].(json.Number)
		if !ok || !ok2 {
			return nil, fmt.Errorf("%s[%d]: must be a number, got %s", path, i+1, kind(list[i+1]))
		}
		f, err := n.Float64()
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %v", path, i+1, err)
		}
		m = append(m, numericCond{op: op, value: f})
	}
	return m, nil
}

type cidrMatcher netip.Prefix

func (m cidrMatcher) matchValue(v any) bool {
	s, ok := v.(string)
	if !ok {
		return false
	}
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is4() && netip.Prefix(m).Contains(a)
}

func compileCIDR(arg any, path string) (matcher, error) {
	s, ok := arg.(string)
	if !ok {
		return nil, fmt.Errorf("%s: must be a string, got %s", path, kind(arg))
	}
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() {
		return nil, fmt.Errorf("%s: must be an IPv4 CIDR block such as 10.0.0.0/24, got %q", path, s)
	}
	return cidrMatcher(p.Masked()), nil
}
