package occ

// These render a merge result as a patch against theirs, for servers that
// take one instead of a full document; the conflict loop picks the form.

// mergeJSONPatch renders the change from theirs to merged as an RFC 6902
// JSON Patch (application/json-patch+json) in which every operation on a
// member theirs has is preceded by a test of theirs' value, so a server that
// applies it atomically rejects it when that member changed again meanwhile.
// Arrays are replaced whole.
func mergeJSONPatch(theirs, merged []byte) ([]byte, error) {
	from, to, err := decodePair(theirs, merged)
	if err != nil {
		return nil, err
	}
	return jsonPatch(from, to, true)
}

// mergeMergePatch renders the change from theirs to merged as an RFC 7396
// JSON Merge Patch (application/merge-patch+json). It returns
// errMergePatchNull when merged sets a member to null, which a merge patch
// would read as a removal.
func mergeMergePatch(theirs, merged []byte) ([]byte, error) {
	from, to, err := decodePair(theirs, merged)
	if err != nil {
		return nil, err
	}
	return mergePatch(from, to)
}

func decodePair(a, b []byte) (any, any, error) {
	av, err := decodeJSON(a)
	if err != nil {
		return nil, nil, err
	}
	bv, err := decodeJSON(b)
	if err != nil {
		return nil, nil, err
	}
	return av, bv, nil
}
