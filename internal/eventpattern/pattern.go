// Package eventpattern evaluates EventBridge event patterns (the
// eventRuleFilterPattern of an FC EventBridge trigger) against events, so the
// project's rules can be tested offline against fixture events.
//
// It implements the subset of Alibaba Cloud EventBridge's pattern language
// the deploy files may use: exact values (OR within a key's array, AND across
// keys, case-sensitive), prefix, suffix, contains, anything-but (a value, a
// list, or {"prefix": …}), exists, numeric ranges, cidr, null and "", nested
// objects (data.state is written {"data": {"state": [...]}}), and array-valued
// event fields (a match if any element matches). Anything else — "$or",
// wildcard, equals-ignore-case, anything-but suffix — is rejected by Compile,
// because EventBridge here does not document it and a rule using it would
// fail to deploy or silently match nothing.
package eventpattern

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Pattern is a compiled event pattern. It is immutable and safe for
// concurrent use.
type Pattern struct {
	root *node
}

// node is one object level of a pattern: either nested fields or, at a leaf,
// the alternatives a single event field is tested against.
type node struct {
	fields map[string]*node
	leaf   []matcher
}

// Compile parses and validates a pattern. The error names the path of the
// first problem found, e.g. `data.state[0]: unsupported operator "wildcard"`.
func Compile(pattern []byte) (*Pattern, error) {
	v, err := decodeStrict(pattern)
	if err != nil {
		return nil, fmt.Errorf("pattern: %w", err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("pattern: must be a JSON object")
	}
	root, err := compileObject(obj, "")
	if err != nil {
		return nil, fmt.Errorf("pattern: %w", err)
	}
	return &Pattern{root: root}, nil
}

// Match compiles pattern and reports whether event (one JSON object) matches
// it. An invalid pattern or an event that is not a JSON object is an error.
func Match(pattern, event []byte) (bool, error) {
	p, err := Compile(pattern)
	if err != nil {
		return false, err
	}
	return p.Match(event)
}

// Match reports whether event, a JSON object, matches p.
func (p *Pattern) Match(event []byte) (bool, error) {
	v, err := decodeStrict(event)
	if err != nil {
		return false, fmt.Errorf("event: %w", err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return false, errors.New("event: must be a JSON object")
	}
	return p.root.matchObject(obj), nil
}

// Paths lists the dotted path of every leaf field the pattern tests, sorted,
// e.g. ["data.state", "source", "type"].
func (p *Pattern) Paths() []string {
	var out []string
	var walk func(n *node, prefix string)
	walk = func(n *node, prefix string) {
		for k, child := range n.fields {
			path := joinPath(prefix, k)
			if child.leaf != nil {
				out = append(out, path)
				continue
			}
			walk(child, path)
		}
	}
	walk(p.root, "")
	sort.Strings(out)
	return out
}

func compileObject(obj map[string]any, prefix string) (*node, error) {
	n := &node{fields: make(map[string]*node, len(obj))}
	// Sorted so that the first error reported does not depend on map order.
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		path := joinPath(prefix, k)
		if strings.HasPrefix(k, "$") {
			return nil, fmt.Errorf("%s: %q is not supported by EventBridge patterns here (use one rule per shape)", path, k)
		}
		switch v := obj[k].(type) {
		case map[string]any:
			child, err := compileObject(v, path)
			if err != nil {
				return nil, err
			}
			n.fields[k] = child
		case []any:
			ms, err := compileLeaf(v, path)
			if err != nil {
				return nil, err
			}
			n.fields[k] = &node{leaf: ms}
		default:
			return nil, fmt.Errorf("%s: must be an array of values or a nested object, got %s", path, kind(v))
		}
	}
	return n, nil
}

func (n *node) matchObject(obj map[string]any) bool {
	for k, child := range n.fields {
		v, present := obj[k]
		if child.leaf != nil {
			if !matchLeaf(child.leaf, present, v) {
				return false
			}
			continue
		}
		// A nested pattern under a missing or non-object field sees every
		// field as absent: only {"exists": false} leaves can still match.
		sub, _ := v.(map[string]any)
		if !child.matchObject(sub) {
			return false
		}
	}
	return true
}

func joinPath(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

// decodeStrict decodes exactly one JSON value, keeping numbers exact.
func decodeStrict(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(b[dec.InputOffset():])) != 0 {
		return nil, errors.New("trailing data after the JSON value")
	}
	return v, nil
}

func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
