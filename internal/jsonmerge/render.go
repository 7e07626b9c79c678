package jsonmerge

// These render a merge result as a patch against theirs, for servers that
// take one instead of a full document; occ's conflict loop picks the form.

// JSONPatch renders the change from theirs to merged as an RFC 6902
// JSON Patch (application/json-patch+json) in which every operation on a
// member theirs has is preceded by a test of theirs' value, so a server that
// applies it atomically rejects it when that member changed again meanwhile.
// Arrays are replaced whole.
func JSONPatch(theirs, merged []byte) ([]byte, error) {
	from, to, err := decodePair(theirs, merged)
	if err != nil {
		return nil, err
	}
	return jsonPatch(from, to, true)
}

// MergePatch renders the change from theirs to merged as an RFC 7396
// JSON Merge Patch (application/merge-patch+json). It returns
// ErrMergePatchNull when merged sets a member to null, which a merge patch
// would read as a removal.
func MergePatch(theirs, merged []byte) ([]byte, error) {
	from, to, err := decodePair(theirs, merged)
	if err != nil {
		return nil, err
	}
	return mergePatchTree(from, to)
}

// decodePair decodes two documents.
func decodePair(a, b []byte) (any, any, error) {
	av, err := Decode(a)
	if err != nil {
		return nil, nil, err
	}
	bv, err := Decode(b)
	if err != nil {
		return nil, nil, err
	}
	return av, bv, nil
}
