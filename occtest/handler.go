package occtest

import (
	"errors"
	"io"
	"net/http"
	"unicode/utf8"
)

// MaxBodyBytes is the largest request body the store accepts; a larger one
// is answered 413 Request Entity Too Large. Bodies are read through this
// limit, never buffered beyond it.
const MaxBodyBytes = 1 << 20

// ServeHTTP serves the store at the request's URL path:
//
//   - GET and HEAD read a resource (404 if absent; 412 when If-Match or
//     If-Unmodified-Since fails; 304 when If-None-Match matches, compared
//     weakly).
//   - PUT replaces a resource (200) or creates it (201); If-None-Match: *
//     makes it create-only (412 if the resource exists).
//   - PATCH applies an application/merge-patch+json (RFC 7396) or an atomic
//     application/json-patch+json (RFC 6902) document: 415 for other media
//     types, 409 version_conflict when a test operation fails, 422 when the
//     patch cannot be applied.
//   - DELETE removes a resource (204).
//   - POST to a collection path such as /orders creates /orders/<n> (201,
//     with Location).
//
// Every write (PUT, PATCH, POST, DELETE) honours an Idempotency-Key header,
// unless [WithIdempotencyKeys] turns that off. A key is scoped to the
// method and the path (for POST, the collection path without a trailing
// slash). The first request with a key is processed and its answer, whatever
// its status, is recorded; a repeat with the same body gets that answer
// replayed without being evaluated or applied again, a repeat with another
// body gets 422 with code idempotency_key_mismatch, and a repeat that comes
// while the first is still being processed gets 409 with code
// idempotency_in_progress. A first request aborted before it was answered
// by the store (a panicking write hook) releases its key.
//
// Writes evaluate If-Match, If-Unmodified-Since and If-None-Match (see the
// options), then the version field, uniqueness and transition rules, and
// answer a success with the new document and its validators. Bodies must be
// JSON objects (400) of at most [MaxBodyBytes] (413). Every request is
// recorded first (see [Store.Requests]); with [WithRateLimit], a request
// past the window's limit is answered 429 then; the rest are matched
// against the injected faults (see [Fault]). ServeHTTP is safe for concurrent use.
func (s *Store) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	id := s.record(r, body)
	if s.rateLimit(w, r, id) {
		return
	}
	f := s.takeFault(r, id)
	s.answer(w, r, id, f, func() *response { return s.process(r, body, err) })
}

// readBody reads the request body through the MaxBodyBytes limit.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	return io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
}

// process computes the store's answer to r, whose body was read with
// readErr, applying a write and honouring its Idempotency-Key.
func (s *Store) process(r *http.Request, body []byte, readErr error) *response {
	if readErr != nil {
		var tooBig *http.MaxBytesError
		if errors.As(readErr, &tooBig) {
			return problemResponse(http.StatusRequestEntityTooLarge, codeTooLarge, "the request body exceeds 1 MiB")
		}
		return problemResponse(http.StatusBadRequest, codeBadRequest, "cannot read the request body")
	}
	switch r.Method { // bodies must be UTF-8 JSON (400), as RFC 8259 requires
	case http.MethodGet, http.MethodHead:
		return s.get(r)
	case http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodPost:
		if !utf8.Valid(body) {
			// RFC 8259 section 8.1: JSON text exchanged between systems
			// MUST be encoded using UTF-8.
			return problemResponse(http.StatusBadRequest, codeBadRequest, "the request body is not valid UTF-8")
		}
		return s.idempotent(r, body)
	}
	resp := problemResponse(http.StatusMethodNotAllowed, codeMethod, r.Method+" is not supported")
	resp.header.Set("Allow", "GET, HEAD, PUT, PATCH, DELETE, POST")
	return resp
}

// write runs the write hook, then dispatches PUT, PATCH, POST and DELETE.
func (s *Store) write(r *http.Request, body []byte) *response {
	s.callWriteHook(r, body)
	switch r.Method {
	case http.MethodPut:
		return s.put(r, body)
	case http.MethodPatch:
		return s.patch(r, body)
	case http.MethodPost:
		return s.create(r, body)
	}
	return s.delete(r)
}

// get answers GET and HEAD, honouring their preconditions.
func (s *Store) get(r *http.Request) *response {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.res[r.URL.Path]
	if cur == nil {
		return notFound(r.URL.Path)
	}
	if resp := s.checkReadPreconditions(r, cur); resp != nil {
		return resp
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
	resp := s.docResponse(status, r)
	resp.applied = true
	return resp
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
	return &response{status: http.StatusNoContent, header: http.Header{}, applied: true}
}
