package jsonmerge

import (
	"bytes"
	"cmp"
	"encoding/json"
	"slices"
	"strconv"
)

// The functions in this file read compact, valid JSON: the merge compacts and
// validates its inputs first, so they never meet whitespace or bad syntax.

// member is one object member: its key as written, quotes included, and its
// value.
type member struct {
	key, val []byte
}

// scanned is a validated, compact document with what its scan learnt: the
// members when it is an object, and where each container ends.
type scanned struct {
	doc     []byte
	members []member
	spans   []span // the containers of at least tapeMin bytes, by offset
}

// end returns the offset in b just past the container opening at b[i], if
// b is part of d.doc and d knows it.
func (d *scanned) end(b []byte, i int) (int, bool) {
	off := cap(d.doc) - cap(b) // b's offset in d.doc, if b is part of it
	if len(d.spans) == 0 || off < 0 || off >= len(d.doc) || &d.doc[off] != &b[0] {
		return 0, false
	}
	j, found := slices.BinarySearchFunc(d.spans, int32(off+i), func(s span, open int32) int {
		return cmp.Compare(s.open, open)
	})
	if !found {
		return 0, false
	}
	return int(d.spans[j].end) - off, true
}

// tapes are the scanned inputs of a merge, whose records make skipping a
// large container cost a binary search instead of a scan. Every method
// works on any valid compact JSON, part of the inputs or not; a nil tapes
// always scans.
type tapes []scanned

// tapeMin is the size from which the scan records a container, and so the
// size of the enclosing value from which skipping one consults the tapes.
const tapeMin = 512

// skipValue returns the offset just past the value starting at b[i].
func (ts tapes) skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		if len(b)-i >= tapeMin {
			for k := range ts {
				if e, ok := ts[k].end(b, i); ok {
					return e
				}
			}
		}
		return skipComposite(b, i)
	}
	for i++; i < len(b); i++ {
		if c := b[i]; c == ',' || c == '}' || c == ']' {
			break
		}
	}
	return i
}

// skipString returns the offset just past the string whose opening quote is
// at b[i].
func skipString(b []byte, i int) int {
	for j := i + 1; ; {
		j += bytes.IndexByte(b[j:], '"')
		n := 0
		for b[j-1-n] == '\\' {
			n++
		}
		if n%2 == 0 {
			return j + 1
		}
		j++
	}
}

// skipComposite returns the offset just past the object or array opening at
// b[i].
func skipComposite(b []byte, i int) int {
	depth := 0
	for ; ; i++ {
		switch b[i] {
		case '"':
			i = skipString(b, i) - 1
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
}

// appendMembers appends the members of the object obj to dst.
func appendMembers(dst []member, obj []byte) []member { return tapes(nil).appendMembers(dst, obj) }

// appendMembers appends the members of the object obj to dst.
func (ts tapes) appendMembers(dst []member, obj []byte) []member {
	if len(obj) < 3 {
		return dst // absent, or {}
	}
	for i := 1; ; {
		ke := skipString(obj, i)
		ve := ts.skipValue(obj, ke+1)
		dst = append(dst, member{key: obj[i:ke], val: obj[ke+1 : ve]})
		if obj[ve] == '}' {
			return dst
		}
		i = ve + 1
	}
}

// appendElements appends the elements of the array arr to dst.
func (ts tapes) appendElements(dst [][]byte, arr []byte) [][]byte {
	if len(arr) < 3 {
		return dst // absent, or []
	}
	for i := 1; ; {
		e := ts.skipValue(arr, i)
		dst = append(dst, arr[i:e])
		if arr[e] == ']' {
			return dst
		}
		i = e + 1
	}
}

// keyName returns the decoded name of a member key written with quotes.
func keyName(key []byte) string {
	if bytes.IndexByte(key, '\\') < 0 {
		return string(key[1 : len(key)-1])
	}
	var s string
	_ = json.Unmarshal(key, &s) // cannot fail: key is a valid JSON string
	return s
}

// sameKey reports whether two member keys name the same member.
func sameKey(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	if bytes.IndexByte(a, '\\') < 0 && bytes.IndexByte(b, '\\') < 0 {
		return false
	}
	return keyName(a) == keyName(b)
}

// jsonEqual reports whether two values are semantically equal: objects with
// the same members in any order, strings with the same characters however
// escaped, numbers with the same decimal value. nil (absent) equals only nil.
func jsonEqual(a, b []byte) bool { return tapes(nil).equal(a, b) }

// equal is [jsonEqual].
func (ts tapes) equal(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	if len(a) == 0 || len(b) == 0 || a[0] != b[0] && !(isNumberStart(a[0]) && isNumberStart(b[0])) {
		return false
	}
	switch a[0] {
	case '"':
		return sameKey(a, b)
	case '{':
		return ts.objectsEqual(a, b)
	case '[':
		return ts.arraysEqual(a, b)
	case 't', 'f', 'n':
		return false
	}
	return numbersEqual(a, b)
}

func isNumberStart(c byte) bool { return c == '-' || c >= '0' && c <= '9' }

func (ts tapes) objectsEqual(a, b []byte) bool {
	am, bm := ts.appendMembers(nil, a), ts.appendMembers(nil, b)
	if len(am) != len(bm) {
		return false
	}
	bx := newMemberIndex(bm)
	for _, m := range am {
		v, ok := bx.find(m.key)
		if !ok || !ts.equal(m.val, v) {
			return false
		}
	}
	return true
}

func (ts tapes) arraysEqual(a, b []byte) bool {
	ae, be := ts.appendElements(nil, a), ts.appendElements(nil, b)
	if len(ae) != len(be) {
		return false
	}
	for i := range ae {
		if !ts.equal(ae[i], be[i]) {
			return false
		}
	}
	return true
}

// numbersEqual compares two JSON numbers by decimal value. Numbers whose
// exponents do not fit in an int64 are compared as written.
func numbersEqual(a, b []byte) bool {
	an, aok := normalizeNumber(a)
	bn, bok := normalizeNumber(b)
	return aok && bok && an == bn
}

// normalizeNumber returns a canonical spelling of the JSON number n:
// sign, significant digits without leading or trailing zeros, and the
// exponent that goes with them; "0" for every zero.
func normalizeNumber(n []byte) (string, bool) {
	neg := n[0] == '-'
	if neg {
		n = n[1:]
	}
	mant, exp := n, int64(0)
	if i := bytes.IndexAny(n, "eE"); i >= 0 {
		e, err := strconv.ParseInt(string(n[i+1:]), 10, 64)
		if err != nil {
			return "", false
		}
		mant, exp = n[:i], e
	}
	digits := make([]byte, 0, len(mant))
	if i := bytes.IndexByte(mant, '.'); i >= 0 {
		digits = append(append(digits, mant[:i]...), mant[i+1:]...)
		exp -= int64(len(mant) - i - 1)
	} else {
		digits = append(digits, mant...)
	}
	digits = bytes.TrimLeft(digits, "0")
	trimmed := bytes.TrimRight(digits, "0")
	exp += int64(len(digits) - len(trimmed))
	if len(trimmed) == 0 {
		return "0", true
	}
	s := string(trimmed) + "e" + strconv.FormatInt(exp, 10)
	if neg {
		s = "-" + s
	}
	return s, true
}

// memberIndex finds members by name: first at a cursor that follows the
// order of the previous hit, since documents usually share an order, then in
// a map built on first need.
type memberIndex struct {
	ms     []member
	next   int
	byName map[string]int
}

// linearLimit is the object size up to which a miss is a linear search.
const linearLimit = 16

func newMemberIndex(ms []member) memberIndex { return memberIndex{ms: ms} }

// find returns the value of the member named by key, and whether it exists.
func (x *memberIndex) find(key []byte) ([]byte, bool) {
	i := x.lookup(key)
	if i < 0 {
		return nil, false
	}
	x.next = i + 1
	return x.ms[i].val, true
}

func (x *memberIndex) lookup(key []byte) int {
	if x.next < len(x.ms) && bytes.Equal(x.ms[x.next].key, key) {
		return x.next
	}
	if len(x.ms) <= linearLimit {
		for i := range x.ms {
			if sameKey(x.ms[i].key, key) {
				return i
			}
		}
		return -1
	}
	if x.byName == nil {
		x.byName = make(map[string]int, len(x.ms))
		for i := len(x.ms) - 1; i >= 0; i-- {
			x.byName[keyName(x.ms[i].key)] = i // the first of duplicates wins
		}
	}
	var (
		i  int
		ok bool
	)
	if bytes.IndexByte(key, '\\') < 0 {
		i, ok = x.byName[string(key[1:len(key)-1])]
	} else {
		i, ok = x.byName[keyName(key)]
	}
	if !ok {
		return -1
	}
	return i
}
