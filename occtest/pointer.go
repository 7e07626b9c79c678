package occtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/occ-go/occ/internal/jsonptr"
)

// tokens splits a JSON Pointer (RFC 6901) into its unescaped reference
// tokens. Pointers here were checked by checkPointer.
func tokens(pointer string) []string {
	toks, _ := jsonptr.Parse(pointer)
	return toks
}

// lookup returns the value at pointer in doc, walking objects and arrays.
func lookup(doc map[string]any, pointer string) (any, bool) {
	return jsonptr.Lookup(doc, tokens(pointer))
}

// setAt stores v at pointer in doc, creating missing intermediate objects.
// It fails when an intermediate value exists but is not an object.
func setAt(doc map[string]any, pointer string, v any) error {
	toks := tokens(pointer)
	node := doc
	for _, tok := range toks[:len(toks)-1] {
		next, ok := node[tok]
		if !ok || next == nil {
			child := map[string]any{}
			node[tok] = child
			node = child
			continue
		}
		child, ok := next.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: %q is not an object", pointer, tok)
		}
		node = child
	}
	node[toks[len(toks)-1]] = v
	return nil
}

// lastToken is the last reference token of pointer, used to name a field.
func lastToken(pointer string) string {
	toks := tokens(pointer)
	return toks[len(toks)-1]
}

// scalarString renders a JSON value for comparison and messages: strings as
// themselves, everything else as its JSON encoding.
func scalarString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// jsonEqual reports whether two decoded JSON values encode identically.
func jsonEqual(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// decodeObject parses data as one JSON object, keeping numbers exact.
func decodeObject(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if err := dec.Decode(new(json.RawMessage)); err != io.EOF {
		return nil, fmt.Errorf("invalid JSON: data after the top-level value")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the document is not a JSON object")
	}
	return obj, nil
}
