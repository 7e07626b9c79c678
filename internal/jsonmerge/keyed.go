package jsonmerge

import (
	"encoding/json"
)

// keyedArray is an array whose elements are objects identified by a key
// member.
type keyedArray struct {
	elems [][]byte
	ids   []string
	byID  map[string]int
}

// newKeyedArray splits arr (absent is empty) into elements identified by
// their member key, and reports false when an element is not an object, or
// lacks the key, or has a key that is not a string or number, or repeats
// another's.
func newKeyedArray(arr []byte, key string, ts tapes) (*keyedArray, bool) {
	ka := &keyedArray{elems: ts.appendElements(nil, arr)}
	ka.ids = make([]string, len(ka.elems))
	ka.byID = make(map[string]int, len(ka.elems))
	for i, e := range ka.elems {
		id, ok := elementID(e, key, ts)
		if !ok {
			return nil, false
		}
		if _, dup := ka.byID[id]; dup {
			return nil, false
		}
		ka.ids[i], ka.byID[id] = id, i
	}
	return ka, true
}

// elementID returns a canonical form of the value of e's member key.
func elementID(e []byte, key string, ts tapes) (string, bool) {
	if !isKind(e, '{') {
		return "", false
	}
	for _, m := range ts.appendMembers(nil, e) {
		if keyName(m.key) != key {
			continue
		}
		switch {
		case isKind(m.val, '"'):
			var s string
			_ = json.Unmarshal(m.val, &s) // cannot fail: a valid JSON string
			return "s" + s, true
		case isNumberStart(m.val[0]):
			n, ok := normalizeNumber(m.val)
			return "n" + n, ok
		}
		return "", false
	}
	return "", false
}

// get returns the element with id, or nil.
func (ka *keyedArray) get(id string) []byte {
	if i, ok := ka.byID[id]; ok {
		return ka.elems[i]
	}
	return nil
}

// mergeKeyed appends the element-by-element merge of three arrays (b may be
// absent) whose elements are matched by n.arrayKey. It reports false, having
// appended nothing, when an array is not keyed.
func (mg *merger) mergeKeyed(dst, b, m, t []byte, n *optNode, prefer Side) ([]byte, bool) {
	bk, okb := newKeyedArray(b, n.arrayKey, mg.known)
	mk, okm := newKeyedArray(m, n.arrayKey, mg.known)
	tk, okt := newKeyedArray(t, n.arrayKey, mg.known)
	if !okb || !okm || !okt {
		return dst, false
	}
	child, prefer := n.child("*", prefer)
	dst = append(dst, '[')
	first := true
	for i, id := range tk.ids {
		dst, first = mg.element(dst, first, i, bk.get(id), mk.get(id), tk.elems[i], child, prefer)
	}
	for i, id := range mk.ids {
		if tk.get(id) == nil {
			dst, first = mg.element(dst, first, i, bk.get(id), mk.elems[i], nil, child, prefer)
		}
	}
	return append(dst, ']'), true
}

// element appends one merged array element, unless the merge deletes it, and
// reports whether dst still holds no element.
func (mg *merger) element(dst []byte, first bool, index int, b, m, t []byte, n *optNode, prefer Side) ([]byte, bool) {
	mark := len(dst)
	if !first {
		dst = append(dst, ',')
	}
	return mg.nested(dst, mark, first, pathStep{index: index}, b, m, t, n, prefer)
}
