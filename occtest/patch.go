package occtest

import (
	"errors"
	"mime"
	"net/http"

	jsonpatch "github.com/evanphx/json-patch/v5"
)

// Patch media types the store accepts.
const (
	mediaMergePatch = "application/merge-patch+json"
	mediaJSONPatch  = "application/json-patch+json"
)

// patchDoc is a decoded PATCH request: a merge patch or a JSON Patch.
type patchDoc struct {
	merge     map[string]any  // a merge patch, which may carry a version
	ops       jsonpatch.Patch // a JSON Patch, when jsonPatch
	jsonPatch bool
	raw       []byte
}

// decodePatch parses a PATCH body by its media type.
func decodePatch(r *http.Request, body []byte) (*patchDoc, *response) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case mediaMergePatch:
		obj, err := decodeObject(body)
		if err != nil {
			return nil, badRequest(err)
		}
		return &patchDoc{merge: obj, raw: body}, nil
	case mediaJSONPatch:
		ops, err := jsonpatch.DecodePatch(body)
		if err != nil {
			return nil, badRequest(err)
		}
		return &patchDoc{ops: ops, jsonPatch: true, raw: body}, nil
	}
	resp := problemResponse(http.StatusUnsupportedMediaType, codeMediaType,
		"PATCH needs Content-Type "+mediaMergePatch+" or "+mediaJSONPatch)
	resp.header.Set("Accept-Patch", mediaMergePatch+", "+mediaJSONPatch)
	return nil, resp
}

// guardsVersion reports whether a JSON Patch tests the version field.
func (s *Store) guardsVersion(pd *patchDoc) bool {
	for _, op := range pd.ops {
		if p, err := op.Path(); err == nil && op.Kind() == "test" && p == s.cfg.versionField {
			return true
		}
	}
	return false
}

// patch applies a merge patch or JSON Patch to the resource at the path.
func (s *Store) patch(r *http.Request, body []byte) *response {
	pd, resp := decodePatch(r, body)
	if resp != nil {
		return resp
	}
	p := r.URL.Path
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.res[p]
	if cur == nil {
		return notFound(p)
	}
	_, hasVersion := s.bodyVersion(pd.merge)
	hasVersion = hasVersion || (s.cfg.versionField != "" && s.guardsVersion(pd))
	if resp := s.checkConditions(r, p, cur, hasVersion); resp != nil {
		return resp
	}
	if resp := s.checkBodyVersion(pd.merge, cur); resp != nil {
		return resp
	}
	next, resp := applyPatch(pd, cur.raw)
	if resp != nil {
		return resp
	}
	return s.apply(p, cur, next, http.StatusOK)
}

// patchOptions are strict RFC 6902 semantics with a bound on the growth that
// copy operations may cause, so that a hostile patch cannot exhaust memory.
func patchOptions() *jsonpatch.ApplyOptions {
	o := jsonpatch.NewApplyOptions()
	o.SupportNegativeIndices = false
	o.AccumulatedCopySizeLimit = 4 * MaxBodyBytes
	return o
}

// applyPatch computes the patched document: a failed JSON Patch test is a
// 409 version_conflict, any other failure a 422.
func applyPatch(pd *patchDoc, doc []byte) (map[string]any, *response) {
	var out []byte
	var err error
	if pd.jsonPatch {
		out, err = applyJSONPatch(pd.ops, doc)
	} else {
		out, err = applyMergePatch(doc, pd.merge)
	}
	if errors.Is(err, jsonpatch.ErrTestFailed) {
		return nil, problemResponse(http.StatusConflict, codeVersionConflict,
			"a JSON Patch test operation failed: the resource has changed")
	}
	if err != nil {
		return nil, problemResponse(http.StatusUnprocessableEntity, codeInvalidPatch, "cannot apply the patch: "+err.Error())
	}
	next, err := decodeObject(out)
	if err != nil {
		return nil, problemResponse(http.StatusUnprocessableEntity, codeInvalidPatch, "the patched "+err.Error())
	}
	return next, nil
}
