package occ

import (
	"encoding/json"
	"fmt"

	"github.com/occ-go/occ/internal/jsonmerge"
)

// The conflict loop's names for the JSON engine of internal/jsonmerge: the
// three-way merge behind [ThreeWay], and the rendering of writes as patches.

// patchOp is one RFC 6902 JSON Patch operation.
type patchOp = jsonmerge.PatchOp

// errMergePatchNull says a document holds a null that an RFC 7396 merge
// patch cannot express, since there null means "remove".
var errMergePatchNull = jsonmerge.ErrMergePatchNull

// decodeJSON decodes a document, keeping numbers exactly as written; its
// error matches [ErrInvalidDocument].
func decodeJSON(b []byte) (any, error) {
	v, err := jsonmerge.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidDocument, err)
	}
	return v, nil
}

// mustRaw encodes a value decoded by decodeJSON.
func mustRaw(v any) json.RawMessage { return jsonmerge.MustRaw(v) }

// setField returns tree, a decoded document, with the value at path set to
// v.
func setField(tree any, path []string, v any) any {
	return jsonmerge.Apply(tree, path, jsonmerge.Change{Value: v})
}

// mergeJSONPatch renders the change from theirs to merged as a guarded
// RFC 6902 JSON Patch.
func mergeJSONPatch(theirs, merged []byte) ([]byte, error) {
	return jsonmerge.JSONPatch(theirs, merged)
}

// mergeMergePatch renders the change from theirs to merged as an RFC 7396
// JSON Merge Patch, or fails with errMergePatchNull.
func mergeMergePatch(theirs, merged []byte) ([]byte, error) {
	return jsonmerge.MergePatch(theirs, merged)
}

// sameDocument reports whether two valid JSON documents are semantically
// equal.
func sameDocument(a, b []byte) bool { return jsonmerge.Equal(a, b) }
