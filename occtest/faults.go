package occtest

import (
	"bytes"
	"fmt"
	"net/http"
)

// Fault is an injected failure, queued with [Store.Inject]. The first queued
// fault whose Method and Path match a request hits it instead of the normal
// processing, after the request is recorded; a fault is dropped once it has
// hit Times requests.
//
// Exactly one of Status, Reset and ResetAfterWrite must be set.
//
// net/http's Transport silently retries a request that fails on a reused
// keep-alive connection when it deems the request replayable (GET, HEAD,
// OPTIONS, or one with an Idempotency-Key header): a reset fault then shows
// up as a second request rather than a client error. Use a non-idempotent
// method, a fresh connection or [Transport] to see the error itself.
type Fault struct {
	// Method and Path select the requests the fault hits; "" matches any.
	// Path is compared with the request's URL path exactly.
	Method, Path string
	// Status is the status to answer with (for example 503, 429 or 409),
	// with Header (for example Retry-After) and Body. The request is not
	// processed.
	Status int
	Header http.Header
	Body   string
	// Reset aborts the connection without processing the request or
	// answering (the handler panics with [http.ErrAbortHandler]).
	Reset bool
	// ResetAfterWrite processes the request, applying any write, and then
	// aborts the connection instead of answering: a lost response.
	ResetAfterWrite bool
	// Times is how many matching requests the fault hits; 0 means 1.
	Times int
}

// validate reports a fault that cannot be served.
func (f Fault) validate() error {
	n := 0
	for _, set := range []bool{f.Status != 0, f.Reset, f.ResetAfterWrite} {
		if set {
			n++
		}
	}
	switch {
	case n != 1:
		return fmt.Errorf("occtest: Fault needs exactly one of Status, Reset and ResetAfterWrite")
	case f.Status != 0 && (f.Status < 100 || f.Status > 599):
		return fmt.Errorf("occtest: Fault.Status %d is not an HTTP status", f.Status)
	case f.Times < 0:
		return fmt.Errorf("occtest: Fault.Times %d is negative", f.Times)
	}
	return nil
}

// Inject queues f behind the faults already queued. It panics if f is
// invalid (see [Fault]). Inject is safe for concurrent use.
func (s *Store) Inject(f Fault) {
	if err := f.validate(); err != nil {
		panic(err)
	}
	f.Header = f.Header.Clone()
	if f.Times == 0 {
		f.Times = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
}

// takeFault consumes one hit of the first queued fault matching r.
func (s *Store) takeFault(r *http.Request) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.faults {
		f := &s.faults[i]
		if (f.Method != "" && f.Method != r.Method) || (f.Path != "" && f.Path != r.URL.Path) {
			continue
		}
		hit := *f
		f.Times--
		if f.Times == 0 {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
		}
		return hit, true
	}
	return Fault{}, false
}

// serveFault makes f hit r, whose body was read with readErr.
func (s *Store) serveFault(w http.ResponseWriter, r *http.Request, body []byte, f Fault, readErr error) {
	switch {
	case f.Reset:
		panic(http.ErrAbortHandler)
	case f.ResetAfterWrite:
		s.serve(r, body, readErr)
		panic(http.ErrAbortHandler)
	}
	resp := &response{status: f.Status, header: f.Header.Clone(), body: []byte(f.Body)}
	if resp.header == nil {
		resp.header = http.Header{}
	}
	resp.write(w, r)
}

// Request is a recorded request, as returned by [Store.Requests].
type Request struct {
	Method string
	Path   string      // the URL path
	Header http.Header // a copy of the request headers
	Body   []byte      // the body as read, at most MaxBodyBytes+1 bytes
}

// record appends a copy of r to the request log.
func (s *Store) record(r *http.Request, body []byte) {
	req := Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: bytes.Clone(body)}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, req)
}

// Requests returns copies of every request the store has served, faulted
// ones included, in the order they arrived. It is safe for concurrent use.
func (s *Store) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		out[i] = Request{Method: r.Method, Path: r.Path, Header: r.Header.Clone(), Body: bytes.Clone(r.Body)}
	}
	return out
}
