package occ

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"

	"github.com/occ-go/occ/internal/jsonptr"
)

// patchOp is one RFC 6902 JSON Patch operation.
type patchOp struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value,omitempty"`
}

// change is one difference between two decoded documents: the value at path
// is set to value, or removed when remove is true.
type change struct {
	path   []string
	value  any
	remove bool
}

// decodeJSON decodes a document, keeping numbers exactly as written.
func decodeJSON(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("occ: invalid JSON document: %w", err)
	}
	if _, err := d.Token(); err == nil {
		return nil, errors.New("occ: invalid JSON document: trailing data")
	}
	return v, nil
}

// diffValues appends to out the changes that turn from into to. Objects are
// compared member by member; anything else is replaced whole.
func diffValues(from, to any, path []string, out []change) []change {
	fo, fok := from.(map[string]any)
	to2, tok := to.(map[string]any)
	if !fok || !tok {
		if !reflect.DeepEqual(from, to) {
			out = append(out, change{path: clonePath(path), value: to})
		}
		return out
	}
	for _, k := range sortedKeys(fo) {
		if _, ok := to2[k]; !ok {
			out = append(out, change{path: appendPath(path, k), remove: true})
		}
	}
	for _, k := range sortedKeys(to2) {
		tv := to2[k]
		fv, ok := fo[k]
		if !ok {
			out = append(out, change{path: appendPath(path, k), value: tv})
			continue
		}
		out = diffValues(fv, tv, append(path, k), out)
	}
	return out
}

func appendPath(path []string, k string) []string {
	return append(clonePath(path), k)
}

func clonePath(path []string) []string {
	return append([]string(nil), path...)
}

// applyChange sets (or removes) the value at path in node, a decoded JSON
// value, creating missing parent objects and replacing parents that are not
// objects. It returns the changed node.
func applyChange(node any, path []string, c change) any {
	if len(path) == 0 {
		return c.value
	}
	obj, ok := node.(map[string]any)
	if !ok {
		if c.remove {
			return node
		}
		obj = map[string]any{}
	}
	k := path[0]
	if c.remove && len(path) == 1 {
		delete(obj, k)
		return obj
	}
	child, exists := obj[k]
	if !exists && c.remove {
		return obj
	}
	obj[k] = applyChange(child, path[1:], c)
	return obj
}

// jsonPatch renders the changes that turn from into to as an RFC 6902 JSON
// Patch. With guard, every operation on a member that exists in from is
// preceded by a test of its current value, so that a server applying the
// patch atomically rejects it if someone changed that member meanwhile.
func jsonPatch(from, to any, guard bool) ([]byte, error) {
	changes := diffValues(from, to, nil, nil)
	ops := make([]patchOp, 0, 2*len(changes))
	for _, c := range changes {
		ptr := jsonptr.Format(c.path)
		old, exists := jsonptr.Lookup(from, c.path)
		if guard && exists {
			ops = append(ops, patchOp{Op: "test", Path: ptr, Value: mustRaw(old)})
		}
		switch {
		case c.remove:
			ops = append(ops, patchOp{Op: "remove", Path: ptr})
		case exists:
			ops = append(ops, patchOp{Op: "replace", Path: ptr, Value: mustRaw(c.value)})
		default:
			ops = append(ops, patchOp{Op: "add", Path: ptr, Value: mustRaw(c.value)})
		}
	}
	return json.Marshal(ops)
}

// mustRaw encodes a decoded JSON value; it cannot fail for values that came
// from decodeJSON.
func mustRaw(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic("occ: re-encoding a decoded JSON value: " + err.Error())
	}
	return b
}

// errMergePatchNull says a document holds a null that an RFC 7396 merge
// patch cannot express, since there null means "remove".
var errMergePatchNull = errors.New("occ: a null member cannot be expressed as a JSON Merge Patch")

// mergePatch renders the difference from from to to as an RFC 7396 JSON
// Merge Patch. It returns errMergePatchNull when to sets an object member to
// null, which a merge patch would read as a removal.
func mergePatch(from, to any) ([]byte, error) {
	p, err := mergePatchValue(from, to)
	if err != nil {
		return nil, err
	}
	return json.Marshal(p)
}

func mergePatchValue(from, to any) (any, error) {
	to2, ok := to.(map[string]any)
	if !ok {
		return to, nil
	}
	fo, _ := from.(map[string]any) // nil when from is not an object: every member is new
	patch := map[string]any{}
	for k := range fo {
		if _, ok := to2[k]; !ok {
			patch[k] = nil
		}
	}
	for k, tv := range to2 {
		fv, had := fo[k]
		if had && reflect.DeepEqual(fv, tv) {
			continue
		}
		if tv == nil {
			return nil, errMergePatchNull
		}
		pv, err := mergePatchValue(fv, tv)
		if err != nil {
			return nil, err
		}
		patch[k] = pv
	}
	return patch, nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
