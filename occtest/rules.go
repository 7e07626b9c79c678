package occtest

import (
	"net/http"
	"path"
	"slices"
	"strconv"
)

// bodyVersion returns the version a request body carries at the version
// field, if the store has one and the body sets it (null counts as unset).
func (s *Store) bodyVersion(body map[string]any) (string, bool) {
	if s.cfg.versionField == "" || body == nil {
		return "", false
	}
	v, ok := lookup(body, s.cfg.versionField)
	if !ok || v == nil {
		return "", false
	}
	return scalarString(v), true
}

// checkBodyVersion answers 409 version_conflict when the body carries a
// version other than the current one of cur.
func (s *Store) checkBodyVersion(body map[string]any, cur *resource) *response {
	v, ok := s.bodyVersion(body)
	if !ok || cur == nil || v == strconv.FormatInt(cur.version, 10) {
		return nil
	}
	resp := problemResponse(http.StatusConflict, codeVersionConflict, msgModified,
		problemField{Pointer: s.cfg.versionField, Detail: "stale version " + v + "; the current version is " + strconv.FormatInt(cur.version, 10)})
	if s.cfg.currentInConflict {
		for k, v := range s.validators(cur) {
			resp.header[k] = v
		}
	}
	return resp
}

// checkRules applies the uniqueness and transition rules to next, the
// document about to be stored at p over cur (nil on create).
func (s *Store) checkRules(p string, cur *resource, next map[string]any) *response {
	for _, ptr := range s.cfg.unique {
		if resp := s.checkUnique(p, ptr, next); resp != nil {
			return resp
		}
	}
	if cur == nil {
		return nil
	}
	for _, rule := range s.cfg.transitions {
		if resp := checkTransition(rule, cur.doc, next); resp != nil {
			return resp
		}
	}
	return nil
}

// checkUnique answers 409 duplicate when another resource of p's collection
// has the same value at ptr as next.
func (s *Store) checkUnique(p, ptr string, next map[string]any) *response {
	v, ok := lookup(next, ptr)
	if !ok || v == nil {
		return nil
	}
	dir := path.Dir(p)
	for other, r := range s.res {
		if other == p || path.Dir(other) != dir {
			continue
		}
		if ov, ok := lookup(r.doc, ptr); ok && jsonEqual(v, ov) {
			field := lastToken(ptr)
			return problemOf(problem{
				Status:   http.StatusConflict,
				Code:     codeDuplicate,
				Detail:   "a resource with this " + field + " already exists",
				Errors:   []problemField{{Pointer: ptr, Detail: field + " must be unique"}},
				Existing: other,
			})
		}
	}
	return nil
}

// checkTransition answers 409 invalid_state when next changes the value at
// rule.pointer to one that rule.allowed does not permit.
func checkTransition(rule transitionRule, old, next map[string]any) *response {
	ov, ok1 := lookup(old, rule.pointer)
	nv, ok2 := lookup(next, rule.pointer)
	if !ok1 || !ok2 {
		return nil
	}
	from, to := scalarString(ov), scalarString(nv)
	if from == to || slices.Contains(rule.allowed[from], to) {
		return nil
	}
	return problemResponse(http.StatusConflict, codeInvalidState,
		"cannot transition from "+from+" to "+to,
		problemField{Pointer: rule.pointer, Detail: "cannot transition from " + from + " to " + to})
}
