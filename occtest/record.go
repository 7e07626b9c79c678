package occtest

import (
	"bytes"
	"net/http"
)

// Request is a recorded request and what became of it, as returned by
// [Store.Requests].
type Request struct {
	Method string
	Path   string      // the URL path
	Query  string      // the raw URL query, without the "?"
	Header http.Header // a copy of the request headers
	Body   []byte      // the body as read, at most MaxBodyBytes+1 bytes

	// Status is the status of the answer the client was sent, 0 if it was
	// sent none (a reset) or the request is still being served.
	Status int
	// ResponseHeader is a copy of the headers of that answer (ETag,
	// Last-Modified, Location, Content-Location, Retry-After, ...), nil if
	// none was sent. A truncated answer's Content-Length is the claimed one.
	ResponseHeader http.Header
	// Fault is a copy of the fault that hit the request, nil if none did.
	Fault *Fault
	// Applied reports whether the request changed the store: a write that
	// succeeded, whether or not its answer reached the client. An
	// idempotent replay applies nothing.
	Applied bool
	// Replayed reports whether the store's answer was the recorded answer
	// of an earlier request with the same Idempotency-Key.
	Replayed bool
}

// clone returns a deep copy of r.
func (r Request) clone() Request {
	r.Header = r.Header.Clone()
	r.Body = bytes.Clone(r.Body)
	r.ResponseHeader = r.ResponseHeader.Clone()
	if r.Fault != nil {
		f := *r.Fault
		f.Header = f.Header.Clone()
		r.Fault = &f
	}
	return r
}

// record appends a copy of r to the request log and returns its index.
func (s *Store) record(r *http.Request, body []byte) int {
	req := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: bytes.Clone(body)}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, req)
	return len(s.requests) - 1
}

// noteAnswer records, for request id, what the store did (processed, nil if
// it did not process it) and what it sent (nil for nothing).
func (s *Store) noteAnswer(id int, processed, sent *response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	req := &s.requests[id]
	if processed != nil {
		req.Applied, req.Replayed = processed.applied, processed.replayed
	}
	if sent != nil {
		req.Status = sent.status
		req.ResponseHeader = sent.sentHeader()
	}
}

// Requests returns copies of every request the store has served, faulted
// ones included, in the order they arrived. It is safe for concurrent use.
func (s *Store) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		out[i] = r.clone()
	}
	return out
}
