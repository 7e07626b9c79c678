package occtest

import (
	"bytes"
	"errors"
	"io"
	"net/http"
)

// MaxBodyBytes is the largest request body the store accepts; a larger one
// is answered 413 Request Entity Too Large. Bodies are read through this
// limit, never buffered beyond it.
const MaxBodyBytes = 1 << 20

// ServeHTTP serves the store at the request's URL path:
//
//   - GET and HEAD read a resource (404 if absent; 304 when If-None-Match
//     matches, compared weakly).
//   - PUT replaces a resource (200) or creates it (201); If-None-Match: *
//     makes it create-only (412 if the resource exists).
//   - PATCH applies an application/merge-patch+json (RFC 7396) or an atomic
//     application/json-patch+json (RFC 6902) document: 415 for other media
//     types, 409 version_conflict when a test operation fails, 422 when the
//     patch cannot be applied.
//   - DELETE removes a resource (204).
//   - POST to a collection path such as /orders creates /orders/<n> (201,
//     with Location). With an Idempotency-Key header, the first request is
//     processed and its answer stored; a repeat with the same key and path
//     and the same body gets that answer replayed without writing, with
//     another body 422, and while the first is still in flight 409 with
//     code idempotency_in_progress.
//
// Writes evaluate If-Match, If-Unmodified-Since and If-None-Match (see the
// options), then the version field, uniqueness and transition rules, and
// answer a success with the new document and its validators. Bodies must be
// JSON objects (400) of at most [MaxBodyBytes] (413). Every request is
// recorded first, then matched against the injected faults. ServeHTTP is
// safe for concurrent use.
func (s *Store) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	s.record(r, body)
	if f, ok := s.takeFault(r); ok {
		s.serveFault(w, r, body, f, err)
		return
	}
	s.serve(r, body, err).write(w, r)
}

// readBody reads the request body through the MaxBodyBytes limit.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	return io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
}

// serve computes the answer to r, whose body was read with readErr.
func (s *Store) serve(r *http.Request, body []byte, readErr error) *response {
	if readErr != nil {
		var tooBig *http.MaxBytesError
		if errors.As(readErr, &tooBig) {
			return problemResponse(http.StatusRequestEntityTooLarge, codeTooLarge, "the request body exceeds 1 MiB")
		}
		return problemResponse(http.StatusBadRequest, codeBadRequest, "cannot read the request body")
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		return s.get(r)
	case http.MethodPost:
		return s.post(r, body)
	case http.MethodPut, http.MethodPatch, http.MethodDelete:
		s.callBeforeWrite(r, body)
		return s.write(r, body)
	}
	resp := problemResponse(http.StatusMethodNotAllowed, codeMethod, r.Method+" is not supported")
	resp.header.Set("Allow", "GET, HEAD, PUT, PATCH, DELETE, POST")
	return resp
}

// write dispatches PUT, PATCH and DELETE.
func (s *Store) write(r *http.Request, body []byte) *response {
	switch r.Method {
	case http.MethodPut:
		return s.put(r, body)
	case http.MethodPatch:
		return s.patch(r, body)
	}
	return s.delete(r)
}

// callBeforeWrite runs the BeforeWrite hook, if any, outside the lock.
func (s *Store) callBeforeWrite(r *http.Request, body []byte) {
	s.mu.Lock()
	fn := s.beforeWrite
	s.mu.Unlock()
	if fn == nil {
		return
	}
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(body))
	fn(r2)
}

// get answers GET and HEAD, with 304 when If-None-Match matches.
func (s *Store) get(r *http.Request) *response {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.res[r.URL.Path]
	if cur == nil {
		return notFound(r.URL.Path)
	}
	if values := r.Header.Values("If-None-Match"); len(values) > 0 && !s.ifNoneMatchHolds(values, cur) {
		return &response{status: http.StatusNotModified, header: s.validators(cur)}
	}
	return s.docResponse(http.StatusOK, cur)
}

// notFound answers 404 for path.
func notFound(path string) *response {
	return problemResponse(http.StatusNotFound, codeNotFound, "no resource at "+path)
}

// badRequest answers 400 with err's message.
func badRequest(err error) *response {
	return problemResponse(http.StatusBadRequest, codeBadRequest, err.Error())
}

// put replaces the resource at the request path, or creates it.
func (s *Store) put(r *http.Request, body []byte) *response {
	obj, err := decodeObject(body)
	if err != nil {
		return badRequest(err)
	}
	p := r.URL.Path
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.res[p]
	_, hasVersion := s.bodyVersion(obj)
	if resp := s.checkConditions(r, p, cur, hasVersion); resp != nil {
		return resp
	}
	if resp := s.checkBodyVersion(obj, cur); resp != nil {
		return resp
	}
	return s.apply(p, cur, obj, http.StatusOK)
}

// checkConditions evaluates the preconditions of a write of p over cur
// (nil when absent), then, with WithRequireConditional, demands one.
func (s *Store) checkConditions(r *http.Request, p string, cur *resource, hasVersion bool) *response {
	if resp := s.checkWritePreconditions(r, p, cur); resp != nil {
		return resp
	}
	if s.cfg.requireConditional && cur != nil && !s.isConditional(r, hasVersion) {
		return problemResponse(http.StatusPreconditionRequired, codePrecondition,
			"this request must be conditional: send If-Match with the current ETag")
	}
	return nil
}

// apply checks the rules and stores next at p over cur, answering with the
// new document: status if it replaced one, 201 if it created one.
func (s *Store) apply(p string, cur *resource, next map[string]any, status int) *response {
	if resp := s.checkRules(p, cur, next); resp != nil {
		return resp
	}
	r, err := s.commit(p, next)
	if err != nil {
		return badRequest(err)
	}
	s.writes++
	if cur == nil {
		status = http.StatusCreated
	}
	return s.docResponse(status, r)
}

// delete removes the resource at the request path.
func (s *Store) delete(r *http.Request) *response {
	p := r.URL.Path
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.res[p]
	if cur == nil {
		return notFound(p)
	}
	if resp := s.checkConditions(r, p, cur, false); resp != nil {
		return resp
	}
	s.remove(p)
	s.writes++
	return &response{status: http.StatusNoContent, header: http.Header{}}
}
