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

// DefaultRequestLog is how many requests a store keeps for
// [Store.Requests] unless told otherwise with [WithRequestLog].
const DefaultRequestLog = 10000

// record appends a copy of r to the request log, dropping the oldest entry
// beyond the log's size, and returns its number: how many requests came
// before it.
func (s *Store) record(r *http.Request, body []byte) int {
	req := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: bytes.Clone(body)}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.dropped + len(s.requests)
	s.requests = append(s.requests, req)
	if len(s.requests) > s.cfg.requestLog {
		s.requests[0] = Request{} // let go of its body and headers
		s.requests = s.requests[1:]
		s.dropped++
	}
	return id
}

// noteAnswer records, for request id, what the store did (processed, nil if
// it did not process it) and what it sent (nil for nothing). A request that
// has left the log is not noted.
func (s *Store) noteAnswer(id int, processed, sent *response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := id - s.dropped
	if i < 0 || i >= len(s.requests) {
		return
	}
	req := &s.requests[i]
	if processed != nil {
		req.Applied, req.Replayed = processed.applied, processed.replayed
	}
	if sent != nil {
		req.Status = sent.status
		req.ResponseHeader = sent.sentHeader()
	}
}

// Requests returns copies of the requests the store has served, faulted
// ones included, in the order they arrived: all of them, or the most recent
// when there were more than the request log holds ([DefaultRequestLog]
// unless set with [WithRequestLog]). It is safe for concurrent use.
func (s *Store) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		out[i] = r.clone()
	}
	return out
}
