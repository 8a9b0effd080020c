package config

import (
	"fmt"
	"sort"
	"strings"
)

// TagMatch is one term of ENI_TAG_SELECTOR: the tag must exist and, unless
// AnyValue, have exactly Value.
type TagMatch struct {
	Key      string
	Value    string
	AnyValue bool
}

// TagSelector is ENI_TAG_SELECTOR: an ENI may be detached only if it
// carries every tag listed. Empty selects everything.
type TagSelector []TagMatch

// ParseTagSelector parses `key=value[,key=value]`; `key` alone accepts any
// value. Keys are case-sensitive, as ECS tags are.
func ParseTagSelector(s string) (TagSelector, error) {
	var sel TagSelector
	seen := map[string]bool{}
	for _, term := range strings.Split(s, ",") {
		term = strings.TrimSpace(term)
		if term == "" {
			return nil, fmt.Errorf("%q has an empty term; use key=value[,key=value]", s)
		}
		key, value, hasValue := strings.Cut(term, "=")
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		switch {
		case key == "":
			return nil, fmt.Errorf("%q: term %q has no key", s, term)
		case len(key) > 128 || len(value) > 128:
			return nil, fmt.Errorf("%q: tag keys and values are at most 128 characters", s)
		case seen[key]:
			return nil, fmt.Errorf("%q: key %q is given twice", s, key)
		case hasValue && value == "":
			return nil, fmt.Errorf("%q: term %q has an empty value; write just %q to accept any value", s, term, key)
		}
		seen[key] = true
		sel = append(sel, TagMatch{Key: key, Value: value, AnyValue: !hasValue})
	}
	return sel, nil
}

// Matches reports whether tags satisfy every term.
func (s TagSelector) Matches(tags map[string]string) bool {
	for _, m := range s {
		v, ok := tags[m.Key]
		if !ok || (!m.AnyValue && v != m.Value) {
			return false
		}
	}
	return true
}

// Missing describes the first unmet term, for a Refused reason.
func (s TagSelector) Missing(tags map[string]string) string {
	for _, m := range s {
		v, ok := tags[m.Key]
		switch {
		case !ok:
			return fmt.Sprintf("tag %q is missing", m.Key)
		case !m.AnyValue && v != m.Value:
			return fmt.Sprintf("tag %q is %q, not %q", m.Key, v, m.Value)
		}
	}
	return ""
}

// String renders the selector in its input form, sorted.
func (s TagSelector) String() string {
	parts := make([]string, len(s))
	for i, m := range s {
		if m.AnyValue {
			parts[i] = m.Key
		} else {
			parts[i] = m.Key + "=" + m.Value
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}
