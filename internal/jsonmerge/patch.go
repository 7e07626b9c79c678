package jsonmerge

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"slices"

	"github.com/occ-go/occ/internal/jsonptr"
)

// PatchOp is one RFC 6902 JSON Patch operation.
type PatchOp struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value,omitempty"`
}

// Change is one difference between two decoded documents: the value at
// Path is set to Value, or removed when Remove is true.
type Change struct {
	Path   []string
	Value  any
	Remove bool
}

// errTrailingData is Decode's error for a document followed by more data.
var errTrailingData = errors.New("invalid character after the top-level value")

// Decode decodes a document, keeping numbers exactly as written. Its error
// is encoding/json's, or says that data follows the document.
func Decode(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := d.Token(); err == nil {
		return nil, errTrailingData
	}
	return v, nil
}

// Diff returns the changes that turn from into to, two decoded JSON
// values, in a stable order. Objects are compared member by member;
// anything else is replaced whole.
func Diff(from, to any) []Change { return diffValues(from, to, nil, nil) }

// diffValues appends to out the changes that turn from into to. Objects are
// compared member by member; anything else is replaced whole.
func diffValues(from, to any, path []string, out []Change) []Change {
	fo, fok := from.(map[string]any)
	to2, tok := to.(map[string]any)
	if !fok || !tok {
		if !reflect.DeepEqual(from, to) {
			out = append(out, Change{Path: clonePath(path), Value: to})
		}
		return out
	}
	for _, k := range sortedKeys(fo) {
		if _, ok := to2[k]; !ok {
			out = append(out, Change{Path: appendPath(path, k), Remove: true})
		}
	}
	for _, k := range sortedKeys(to2) {
		tv := to2[k]
		fv, ok := fo[k]
		if !ok {
			out = append(out, Change{Path: appendPath(path, k), Value: tv})
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

// Apply sets (or removes) the value at path in node, a decoded JSON
// value, creating missing parent objects and replacing parents that are not
// objects. It returns the changed node.
func Apply(node any, path []string, c Change) any {
	if len(path) == 0 {
		return c.Value
	}
	obj, ok := node.(map[string]any)
	if !ok {
		if c.Remove {
			return node
		}
		obj = map[string]any{}
	}
	k := path[0]
	if c.Remove && len(path) == 1 {
		delete(obj, k)
		return obj
	}
	child, exists := obj[k]
	if !exists && c.Remove {
		return obj
	}
	obj[k] = Apply(child, path[1:], c)
	return obj
}

// jsonPatch renders the changes that turn from into to as an RFC 6902 JSON
// Patch. With guard, every operation on a member that exists in from is
// preceded by a test of its current value, so that a server applying the
// patch atomically rejects it if someone changed that member meanwhile.
func jsonPatch(from, to any, guard bool) ([]byte, error) {
	changes := diffValues(from, to, nil, nil)
	ops := make([]PatchOp, 0, 2*len(changes))
	for _, c := range changes {
		ptr := jsonptr.Format(c.Path)
		old, exists := jsonptr.Lookup(from, c.Path)
		if guard && exists {
			ops = append(ops, PatchOp{Op: "test", Path: ptr, Value: MustRaw(old)})
		}
		switch {
		case c.Remove:
			ops = append(ops, PatchOp{Op: "remove", Path: ptr})
		case exists:
			ops = append(ops, PatchOp{Op: "replace", Path: ptr, Value: MustRaw(c.Value)})
		default:
			ops = append(ops, PatchOp{Op: "add", Path: ptr, Value: MustRaw(c.Value)})
		}
	}
	return json.Marshal(ops)
}

// MustRaw encodes a decoded JSON value; it cannot fail for values that came
// from Decode.
func MustRaw(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic("jsonmerge: re-encoding a decoded JSON Value: " + err.Error())
	}
	return b
}

// ErrMergePatchNull says a document holds a null that an RFC 7396 merge
// patch cannot express, since there null means "remove".
var ErrMergePatchNull = errors.New("a null member cannot be expressed as a JSON Merge Patch")

// mergePatchTree renders the difference from from to to as an RFC 7396 JSON
// Merge Patch. It returns ErrMergePatchNull when to sets an object member to
// null, which a merge patch would read as a removal.
func mergePatchTree(from, to any) ([]byte, error) {
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
			return nil, ErrMergePatchNull
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
