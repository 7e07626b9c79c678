package jsonmerge

// Holds reports whether the JSON document a holds every member of the JSON
// document b at an equal value, recursively through objects: a write's
// answer that holds everything written is the document, not a receipt.
// skip is the path of a member that may differ or be missing (a version
// field the server moves); nil when there is none. Invalid JSON holds
// nothing.
func Holds(a, b []byte, skip []string) bool {
	ca, err := compactJSON(a)
	if err != nil {
		return false
	}
	cb, err := compactJSON(b)
	return err == nil && holds(ca.doc, cb.doc, skip)
}

// holds is Holds on compact values.
func holds(a, b []byte, skip []string) bool {
	if skip != nil && len(skip) == 0 {
		return true
	}
	if !isKind(b, '{') {
		return jsonEqual(a, b)
	}
	if !isKind(a, '{') {
		return false
	}
	ax := newMemberIndex(appendMembers(nil, a))
	for _, m := range appendMembers(nil, b) {
		var below []string
		if skip != nil && keyName(m.key) == skip[0] {
			below = skip[1:]
		}
		v, ok := ax.find(m.key)
		if !ok && below != nil && len(below) == 0 {
			continue
		}
		if !ok || !holds(v, m.val, below) {
			return false
		}
	}
	return true
}
