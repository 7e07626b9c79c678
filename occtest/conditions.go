package occtest

import (
	"net/http"
	"strings"
	"time"
)

// entityTag is one parsed entity tag of an If-Match or If-None-Match list.
type entityTag struct {
	weak   bool
	opaque string // including the quotes
}

// parseTags parses the comma-separated entity tags of header values; any
// reports a "*" among them.
func parseTags(values []string) (tags []entityTag, any bool) {
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			part = strings.TrimSpace(part)
			switch {
			case part == "*":
				any = true
			case strings.HasPrefix(part, "W/"):
				tags = append(tags, entityTag{weak: true, opaque: part[2:]})
			case part != "":
				tags = append(tags, entityTag{opaque: part})
			}
		}
	}
	return tags, any
}

// matches reports whether one of tags matches the current entity tag of r,
// by the weak or the strong comparison of RFC 9110, section 8.8.3.2.
func (s *Store) matches(tags []entityTag, r *resource, weak bool) bool {
	cur := s.etag(r)
	if cur == "" {
		return false
	}
	curWeak := strings.HasPrefix(cur, "W/")
	cur = strings.TrimPrefix(cur, "W/")
	for _, t := range tags {
		if t.opaque == cur && (weak || (!t.weak && !curWeak)) {
			return true
		}
	}
	return false
}

// ifMatchHolds evaluates If-Match against cur (nil when absent).
func (s *Store) ifMatchHolds(values []string, cur *resource) bool {
	if cur == nil {
		return false
	}
	tags, any := parseTags(values)
	return any || s.matches(tags, cur, s.cfg.weakIfMatch)
}

// ifNoneMatchHolds evaluates If-None-Match against cur, always weakly: it
// holds when no listed tag (or "*") matches the current resource.
func (s *Store) ifNoneMatchHolds(values []string, cur *resource) bool {
	if cur == nil {
		return true
	}
	tags, any := parseTags(values)
	return !any && !s.matches(tags, cur, true)
}

// unmodifiedSinceHolds evaluates If-Unmodified-Since against cur; an absent
// resource or an unparseable date does not count against the request.
func (s *Store) unmodifiedSinceHolds(value string, cur *resource) bool {
	t, err := http.ParseTime(value)
	if err != nil || cur == nil {
		return true
	}
	return !cur.modified.Truncate(time.Second).After(t) // at HTTP dates' resolution
}

// checkWritePreconditions evaluates If-Match, If-Unmodified-Since and
// If-None-Match for a write, in the order of RFC 9110, section 13.2.2, and
// returns the failure answer, or nil if the write may proceed.
func (s *Store) checkWritePreconditions(r *http.Request, path string, cur *resource) *response {
	if failed := s.failedPrecondition(r, path, cur); failed != "" {
		return s.preconditionFailed(s.cfg.preconditionStatus, codeVersionConflict, path, cur, failed)
	}
	if values := r.Header.Values("If-None-Match"); len(values) > 0 && !s.ifNoneMatchHolds(values, cur) {
		return s.preconditionFailed(http.StatusPreconditionFailed, codeAlreadyExists, path, cur, "a resource already exists at "+path)
	}
	return nil
}

// failedPrecondition evaluates If-Match, else If-Unmodified-Since (with
// Last-Modified on), against cur at path, and says what failed, or "".
func (s *Store) failedPrecondition(r *http.Request, path string, cur *resource) string {
	if values := r.Header.Values("If-Match"); len(values) > 0 {
		if !s.ifMatchHolds(values, cur) {
			return "If-Match does not match the current ETag of " + path
		}
	} else if ius := r.Header.Get("If-Unmodified-Since"); ius != "" && s.cfg.lastModified {
		if !s.unmodifiedSinceHolds(ius, cur) {
			return path + " has been modified since " + ius
		}
	}
	return ""
}

// checkReadPreconditions evaluates the preconditions of a GET or HEAD of
// cur in the order of RFC 9110, section 13.2.2: If-Match, else
// If-Unmodified-Since (with Last-Modified on), failing with 412 (sections
// 13.1.1 and 13.1.4); then If-None-Match, answering 304 when it fails for a
// GET or HEAD (section 13.1.2). It returns nil when the read may proceed.
func (s *Store) checkReadPreconditions(r *http.Request, cur *resource) *response {
	if failed := s.failedPrecondition(r, r.URL.Path, cur); failed != "" {
		return problemResponse(http.StatusPreconditionFailed, codeVersionConflict, failed)
	}
	if values := r.Header.Values("If-None-Match"); len(values) > 0 && !s.ifNoneMatchHolds(values, cur) {
		return &response{status: http.StatusNotModified, header: s.validators(cur)}
	}
	return nil
}

// preconditionFailed answers a failed precondition with status: the current
// representation with [WithCurrentInConflict], a problem with code otherwise.
func (s *Store) preconditionFailed(status int, code, path string, cur *resource, detail string) *response {
	if s.cfg.currentInConflict && cur != nil {
		resp := s.docResponse(status, cur)
		// RFC 9110 section 8.7: the body is the current representation of path.
		resp.header.Set("Content-Location", path)
		return resp
	}
	return problemResponse(status, code, detail)
}

// isConditional reports whether a write carries a precondition the store
// honours: If-Match, If-Unmodified-Since (with Last-Modified on) or a body
// version (hasVersion).
func (s *Store) isConditional(r *http.Request, hasVersion bool) bool {
	return r.Header.Get("If-Match") != "" ||
		(s.cfg.lastModified && r.Header.Get("If-Unmodified-Since") != "") ||
		hasVersion
}
