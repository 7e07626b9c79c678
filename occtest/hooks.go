package occtest

import (
	"bytes"
	"io"
	"net/http"
)

// writeHook is the registered write hook and how many more writes it runs
// before (negative: every write).
type writeHook struct {
	fn   func(r *http.Request)
	left int
}

// BeforeWrite registers fn to be called before every write the store
// evaluates, so that a test can slip a competing write ([Store.Set],
// [Store.Update]) in between the client's read and its write. A write here
// is a PUT, PATCH, POST or DELETE that reaches the store: not one stopped
// by a fault before processing, and not an idempotent replay. fn runs
// outside the store's lock, may be called from several goroutines at once,
// and can read the request's body again.
//
// A competing write before every write starves a client that retries on
// conflict: each of its attempts meets a newer version. To simulate one
// concurrent writer, use [Store.BeforeNextWrite]. A later call of
// BeforeWrite, BeforeNextWrite or BeforeNextWrites replaces fn; nil removes
// it.
func (s *Store) BeforeWrite(fn func(r *http.Request)) {
	s.setWriteHook(fn, -1)
}

// BeforeNextWrite registers fn to be called before the next write only,
// then removed: one competing writer sneaking in once. It is
// BeforeNextWrites(1, fn); see [Store.BeforeWrite] for what counts as a
// write.
func (s *Store) BeforeNextWrite(fn func(r *http.Request)) {
	s.setWriteHook(fn, 1)
}

// BeforeNextWrites registers fn to be called before each of the next n
// writes, then removed; concurrent writes share the count, so fn runs
// exactly n times. n must be positive (BeforeNextWrites panics otherwise);
// see [Store.BeforeWrite] for what counts as a write and how a later call
// replaces fn.
func (s *Store) BeforeNextWrites(n int, fn func(r *http.Request)) {
	if n <= 0 {
		panic("occtest: BeforeNextWrites: n must be positive")
	}
	s.setWriteHook(fn, n)
}

// setWriteHook registers fn for left writes (negative: all).
func (s *Store) setWriteHook(fn func(r *http.Request), left int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook = writeHook{fn: fn, left: left}
	if fn == nil {
		s.hook = writeHook{}
	}
}

// takeWriteHook returns the hook to run before one write, counting it.
func (s *Store) takeWriteHook() func(r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn := s.hook.fn
	if s.hook.left > 0 {
		s.hook.left--
		if s.hook.left == 0 {
			s.hook = writeHook{}
		}
	}
	return fn
}

// callWriteHook runs the write hook, if any, outside the lock.
func (s *Store) callWriteHook(r *http.Request, body []byte) {
	fn := s.takeWriteHook()
	if fn == nil {
		return
	}
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(body))
	fn(r2)
}
