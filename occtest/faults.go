package occtest

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// Fault is an injected failure, queued with [Store.Inject] or drawn at
// random with [Store.InjectRandom]. The first queued fault whose Method and
// Path match a request hits it, after the request is recorded; a queued
// fault is dropped once it has hit Times requests.
//
// At most one of Status, StatusAfterWrite, Reset, ResetAfterWrite and
// Truncate may be set, and one of them or Delay must be. A fault "before
// processing" (Status, Reset) leaves the store untouched; one "after the
// write" (StatusAfterWrite, ResetAfterWrite, Truncate) lets the store
// process the request first, applying any write and recording the answer
// of an Idempotency-Key, and then loses or garbles the answer.
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
	// StatusAfterWrite is like Status, but the request is processed first:
	// a gateway's 502 or 504 after the origin applied the write.
	StatusAfterWrite int
	// Header and Body are sent with Status or StatusAfterWrite.
	Header http.Header
	Body   string
	// Reset aborts the connection without processing the request or
	// answering (the handler panics with [http.ErrAbortHandler]).
	Reset bool
	// ResetAfterWrite processes the request, applying any write, and then
	// aborts the connection instead of answering: a lost response.
	ResetAfterWrite bool
	// Truncate processes the request, sends the answer's status and headers
	// with its full Content-Length and half its body, then aborts the
	// connection, so that reading the body fails with io.ErrUnexpectedEOF.
	// An answer without a body (HEAD, 204, 304) is cut before its status
	// line, as with ResetAfterWrite.
	Truncate bool
	// ClaimLength, with Truncate, is the Content-Length the answer claims
	// instead of its real length (for example 32 MiB); the answer then
	// sends its whole body, at most ClaimLength-1 bytes of it, before the
	// cut. 0 means the real length.
	ClaimLength int64
	// Delay holds the request for this long (or until its context ends,
	// whichever comes first) before anything else: latency. Alone, the
	// request is then served normally; with another kind, that kind
	// follows. The request is processed even if the client has gone, as
	// by a server that does not notice. The wait uses a timer, so under
	// testing/synctest with [Transport] it takes no real time.
	Delay time.Duration
	// Times is how many matching requests a queued fault hits; 0 means 1.
	// It must be 0 in a [RandomFault].
	Times int
}

// FaultKind names what a [Fault] does; see [Fault.Kind].
type FaultKind string

// The kinds of [Fault], by the field that sets them.
const (
	FaultStatus           FaultKind = "status"             // Status
	FaultStatusAfterWrite FaultKind = "status-after-write" // StatusAfterWrite
	FaultReset            FaultKind = "reset"              // Reset
	FaultResetAfterWrite  FaultKind = "reset-after-write"  // ResetAfterWrite
	FaultTruncate         FaultKind = "truncate"           // Truncate
	FaultDelay            FaultKind = "delay"              // Delay alone
)

// Kind reports what f does: the kind of the one field among Status,
// StatusAfterWrite, Reset, ResetAfterWrite and Truncate that is set,
// [FaultDelay] if only Delay is, and "" if none is (or, for an invalid
// Fault, more than one).
func (f Fault) Kind() FaultKind {
	var kind FaultKind
	n := 0
	for _, k := range []struct {
		set  bool
		kind FaultKind
	}{
		{f.Status != 0, FaultStatus},
		{f.StatusAfterWrite != 0, FaultStatusAfterWrite},
		{f.Reset, FaultReset},
		{f.ResetAfterWrite, FaultResetAfterWrite},
		{f.Truncate, FaultTruncate},
	} {
		if k.set {
			kind, n = k.kind, n+1
		}
	}
	switch {
	case n > 1:
		return ""
	case n == 0 && f.Delay > 0:
		return FaultDelay
	}
	return kind
}

// validate reports a fault that cannot be served.
func (f Fault) validate() error {
	switch {
	case f.Kind() == "":
		return fmt.Errorf("occtest: Fault needs exactly one of Status, StatusAfterWrite, Reset, ResetAfterWrite and Truncate, or a Delay alone")
	case !validStatus(f.Status) || !validStatus(f.StatusAfterWrite):
		return fmt.Errorf("occtest: Fault status %d is not an HTTP status", max(f.Status, f.StatusAfterWrite))
	case f.Times < 0:
		return fmt.Errorf("occtest: Fault.Times %d is negative", f.Times)
	case f.Delay < 0:
		return fmt.Errorf("occtest: Fault.Delay %v is negative", f.Delay)
	case f.ClaimLength < 0 || (f.ClaimLength > 0 && !f.Truncate):
		return fmt.Errorf("occtest: Fault.ClaimLength needs Truncate and must not be negative")
	}
	return nil
}

// validStatus reports whether code is unset or an HTTP status.
func validStatus(code int) bool { return code == 0 || (code >= 100 && code <= 599) }

// matches reports whether f selects r.
func (f *Fault) matches(r *http.Request) bool {
	return (f.Method == "" || f.Method == r.Method) && (f.Path == "" || f.Path == r.URL.Path)
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

// takeFault picks the fault that hits r, recorded as request id: one hit of
// the first queued fault matching r, else a random one, else the zero Fault.
func (s *Store) takeFault(r *http.Request, id int) Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	hit, ok := s.takeQueued(r)
	if !ok {
		hit, ok = s.drawRandom(r)
	}
	if ok {
		f := hit
		f.Header = f.Header.Clone()
		s.requests[id].Fault = &f
	}
	return hit
}

// takeQueued consumes one hit of the first queued fault matching r; s.mu
// must be held.
func (s *Store) takeQueued(r *http.Request) (Fault, bool) {
	for i := range s.faults {
		f := &s.faults[i]
		if !f.matches(r) {
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

// answer serves r, recorded as request id, as fault f (the zero Fault for
// none) makes it: process computes the store's own answer.
func (s *Store) answer(w http.ResponseWriter, r *http.Request, id int, f Fault, process func() *response) {
	if f.Delay > 0 {
		wait(r.Context(), f.Delay)
	}
	switch f.Kind() {
	case FaultReset:
		panic(http.ErrAbortHandler)
	case FaultStatus:
		sent := f.response()
		s.noteAnswer(id, sent, sent)
		sent.write(w, r)
		return
	}
	resp := process()
	switch f.Kind() {
	case FaultResetAfterWrite:
		s.noteAnswer(id, resp, nil)
		panic(http.ErrAbortHandler)
	case FaultStatusAfterWrite:
		sent := f.response()
		s.noteAnswer(id, resp, sent)
		sent.write(w, r)
	case FaultTruncate:
		s.noteAnswer(id, resp, resp.truncated(r, f.ClaimLength))
		resp.writeTruncated(w, r, f.ClaimLength)
	default:
		s.noteAnswer(id, resp, resp)
		resp.write(w, r)
	}
}

// response is the answer of a Status or StatusAfterWrite fault.
func (f Fault) response() *response {
	resp := &response{status: max(f.Status, f.StatusAfterWrite), header: f.Header.Clone(), body: []byte(f.Body)}
	if resp.header == nil {
		resp.header = http.Header{}
	}
	return resp
}

// wait blocks for d or until ctx ends.
func wait(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
