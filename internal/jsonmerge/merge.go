package jsonmerge

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/occ-go/occ/internal/jsonptr"
)

// Conflict is one place where both sides changed a document differently.
// The values are compact JSON, or nil where the member is absent from that
// document.
type Conflict struct {
	Path   string // a JSON Pointer (RFC 6901)
	Base   json.RawMessage
	Mine   json.RawMessage
	Theirs json.RawMessage
}

// Merge merges base, mine and theirs with the settings o (nil for none),
// whose Err must be nil. It returns the merged document as compact JSON, or
// the conflicts no tie-break resolved, in document order. Its error, when
// base, mine or theirs is not exactly one valid JSON value or nests deeper
// than 10000 levels, names the document, as in "theirs: unexpected end of
// JSON input". Merge is safe for concurrent use.
func Merge(o *Options, base, mine, theirs []byte) ([]byte, []Conflict, error) {
	if o == nil {
		o = &Options{}
	}
	docs, err := prepareMergeInputs(base, mine, theirs)
	if err != nil {
		return nil, nil, err
	}
	return mergeScanned(o, docs)
}

// mergeScanned merges inputs prepared by prepareMergeInputs.
func mergeScanned(o *Options, docs [3]scanned) ([]byte, []Conflict, error) {
	mg := &merger{known: docs[:]}
	out := make([]byte, 0, len(docs[2].doc)+len(docs[1].doc)/8)
	out, _ = mg.merge(out, docs[0].doc, docs[1].doc, docs[2].doc, &o.root, o.root.prefer)
	if len(mg.conflicts) > 0 {
		return nil, mg.conflicts, nil
	}
	return out, nil, nil
}

// prepareMergeInputs validates base, mine and theirs and returns them
// compacted, with the members of those that are objects.
func prepareMergeInputs(base, mine, theirs []byte) ([3]scanned, error) {
	var docs [3]scanned
	for i, in := range [3][]byte{base, mine, theirs} {
		doc, err := compactJSON(in)
		if err != nil {
			return docs, fmt.Errorf("%s: %w", [3]string{"base", "mine", "theirs"}[i], err)
		}
		docs[i] = doc
	}
	return docs, nil
}

// Equal reports whether two JSON documents are valid and semantically
// equal: member order, insignificant whitespace, string escapes and the
// spelling of numbers do not matter.
func Equal(a, b []byte) bool {
	ca, err := compactJSON(a)
	if err != nil {
		return false
	}
	cb, err := compactJSON(b)
	return err == nil && jsonEqual(ca.doc, cb.doc)
}

// compactJSON validates one JSON value and returns it without insignificant
// whitespace, in itself when it has none, else as a compacted copy, with
// what a scan learnt of its structure.
func compactJSON(in []byte) (scanned, error) {
	sc, space, err := scanJSON(in)
	if err != nil || !space {
		return sc, err
	}
	sc, _, err = scanJSON(appendCompact(make([]byte, 0, len(in)), in))
	return sc, err
}

// pathStep is one step of the path being merged: a member key as written,
// or an array index when key is nil.
type pathStep struct {
	key   []byte
	index int
}

// merger is the state of one Merge call.
type merger struct {
	path      []pathStep
	conflicts []Conflict
	known     tapes // the inputs, with what their scans learnt
	align     bool  // rebase arrays element by element (see Rebase)
}

// members returns the members of the object obj, or none when obj is
// absent.
func (mg *merger) members(obj []byte) []member {
	for _, k := range mg.known {
		if k.members != nil && len(k.doc) == len(obj) && &k.doc[0] == &obj[0] {
			return k.members
		}
	}
	return mg.known.appendMembers(nil, obj)
}

// merge appends to dst the merge of one value, each of b, m and t nil where
// absent, and reports whether the result is present (false: the member is
// deleted). n holds the options at this path, or is nil; prefer is the
// tie-break in force.
func (mg *merger) merge(dst, b, m, t []byte, n *optNode, prefer Side) ([]byte, bool) {
	switch {
	case bytes.Equal(m, b):
		return putValue(dst, t)
	case bytes.Equal(t, b), bytes.Equal(m, t):
		return putValue(dst, m)
	case isKind(m, '{') && isKind(t, '{') && (b == nil || isKind(b, '{')):
		return mg.mergeObject(dst, b, m, t, n, prefer), true
	}
	if mg.align && isKind(m, '[') && isKind(t, '[') && isKind(b, '[') {
		if out, ok := mg.mergeAligned(dst, b, m, t, prefer); ok {
			return out, true
		}
	}
	if n != nil && n.arrayKey != "" && isKind(m, '[') && isKind(t, '[') && (b == nil || isKind(b, '[')) {
		if out, ok := mg.mergeKeyed(dst, b, m, t, n, prefer); ok {
			return out, true
		}
	}
	switch {
	case mg.known.equal(m, b):
		return putValue(dst, t)
	case mg.known.equal(t, b), mg.known.equal(m, t):
		return putValue(dst, m)
	}
	return mg.conflict(dst, b, m, t, prefer)
}

// isKind reports whether v is present and starts with c.
func isKind(v []byte, c byte) bool { return len(v) > 0 && v[0] == c }

// putValue appends v to dst and reports whether v is present.
func putValue(dst, v []byte) ([]byte, bool) {
	return append(dst, v...), v != nil
}

// conflict resolves a conflict by the tie-break in force, or records it.
func (mg *merger) conflict(dst, b, m, t []byte, prefer Side) ([]byte, bool) {
	switch prefer {
	case SideMine:
		return putValue(dst, m)
	case SideTheirs:
		return putValue(dst, t)
	}
	mg.conflicts = append(mg.conflicts, Conflict{
		Path: mg.pointer(), Base: bytes.Clone(b), Mine: bytes.Clone(m), Theirs: bytes.Clone(t),
	})
	return putValue(dst, t) // never returned to the caller
}

// pointer renders the current path as a JSON Pointer.
func (mg *merger) pointer() string {
	var sb strings.Builder
	for _, s := range mg.path {
		sb.WriteByte('/')
		if s.key == nil {
			sb.WriteString(strconv.Itoa(s.index))
			continue
		}
		sb.WriteString(jsonptr.Escape(keyName(s.key)))
	}
	return sb.String()
}

// mergeObject appends the member-by-member merge of three objects (b may be
// absent): theirs' members in theirs' order, then mine's additions.
func (mg *merger) mergeObject(dst, b, m, t []byte, n *optNode, prefer Side) []byte {
	bx := newMemberIndex(mg.members(b))
	mx := newMemberIndex(mg.members(m))
	tx := newMemberIndex(mg.members(t))
	dst = append(dst, '{')
	first := true
	for _, tm := range tx.ms {
		bv, _ := bx.find(tm.key)
		mv, _ := mx.find(tm.key)
		dst, first = mg.member(dst, first, tm.key, bv, mv, tm.val, n, prefer)
	}
	for _, mm := range mx.ms {
		if _, ok := tx.find(mm.key); ok {
			continue
		}
		bv, _ := bx.find(mm.key)
		dst, first = mg.member(dst, first, mm.key, bv, mm.val, nil, n, prefer)
	}
	return append(dst, '}')
}

// member appends one merged member, unless the merge deletes it, and reports
// whether dst still holds no member.
func (mg *merger) member(dst []byte, first bool, key, b, m, t []byte, n *optNode, prefer Side) ([]byte, bool) {
	mark := len(dst)
	if !first {
		dst = append(dst, ',')
	}
	dst = append(append(dst, key...), ':')
	var child *optNode
	if n != nil {
		child, prefer = n.child(keyName(key), prefer)
	}
	return mg.nested(dst, mark, first, pathStep{key: key}, b, m, t, child, prefer)
}

// nested appends the merge of the value at step, whose separator and key
// dst holds from mark on; when the merge deletes the value, it cuts dst
// back to mark. It reports whether dst still holds no member or element.
func (mg *merger) nested(dst []byte, mark int, first bool, step pathStep, b, m, t []byte, n *optNode, prefer Side) ([]byte, bool) {
	mg.path = append(mg.path, step)
	dst, ok := mg.merge(dst, b, m, t, n, prefer)
	mg.path = mg.path[:len(mg.path)-1]
	if !ok {
		return dst[:mark], first
	}
	return dst, false
}
