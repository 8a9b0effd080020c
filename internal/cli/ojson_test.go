package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// object is a JSON object that keeps its members' order, so that README
// examples read in the order the function writes them.
type object struct {
	keys []string
	vals map[string]any
}

func (o *object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		vb, err := json.Marshal(o.vals[k])
		if err != nil {
			return nil, err
		}
		b.Write(kb)
		b.WriteByte(':')
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// decodeOrdered decodes JSON into *object, []any, string, json.Number,
// bool and nil.
func decodeOrdered(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("trailing data after the JSON value")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := &object{vals: map[string]any{}}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k := kt.(string)
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				o.keys = append(o.keys, k)
				o.vals[k] = v
			}
			_, err := dec.Token()
			return o, err
		case '[':
			arr := []any{}
			for dec.More() {
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			_, err := dec.Token()
			return arr, err
		}
		return nil, fmt.Errorf("unexpected %v", t)
	default:
		return tok, nil
	}
}

// selectPath follows a dotted path of member names and array indexes.
func selectPath(v any, path string) (any, error) {
	if path == "" {
		return v, nil
	}
	for _, step := range strings.Split(path, ".") {
		switch x := v.(type) {
		case *object:
			next, ok := x.vals[step]
			if !ok {
				return nil, fmt.Errorf("no member %q (members %v)", step, x.keys)
			}
			v = next
		case []any:
			var i int
			if _, err := fmt.Sscan(step, &i); err != nil || i < 0 || i >= len(x) {
				return nil, fmt.Errorf("no element %q of %d", step, len(x))
			}
			v = x[i]
		default:
			return nil, fmt.Errorf("cannot select %q in %T", step, v)
		}
	}
	return v, nil
}

// keepMembers keeps only the named members of an object, in the order
// given.
func keepMembers(v any, names []string) (any, error) {
	o, ok := v.(*object)
	if !ok {
		return nil, fmt.Errorf("keep= needs an object, got %T", v)
	}
	out := &object{vals: map[string]any{}}
	for _, n := range names {
		val, ok := o.vals[n]
		if !ok {
			return nil, fmt.Errorf("no member %q to keep (members %v)", n, o.keys)
		}
		out.keys = append(out.keys, n)
		out.vals[n] = val
	}
	return out, nil
}
