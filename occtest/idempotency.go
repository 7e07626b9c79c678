package occtest

import (
	"bytes"
	"net/http"
	"strings"
)

// IdempotencyKeys is how many Idempotency-Keys a store remembers: beyond
// it, the oldest is forgotten, and a write that reuses it is processed
// afresh.
const IdempotencyKeys = 10000

// idemEntry is the state of one Idempotency-Key: in progress until resp is
// set, then the recorded answer to replay.
type idemEntry struct {
	body []byte
	resp *response
	seq  int // its place in Store.idemOrder
}

// idemRef names an entry of Store.idem in the order keys were first seen.
type idemRef struct {
	key string
	seq int
}

// idempotent processes the write r, honouring its Idempotency-Key (see
// [Store.ServeHTTP]): a repeated key with the same body replays the
// recorded answer, with another body is a 422, and while the first is still
// being processed is a 409 idempotency_in_progress.
func (s *Store) idempotent(r *http.Request, body []byte) *response {
	key := s.idemScope(r)
	if key == "" {
		return s.write(r, body)
	}
	if resp := s.beginIdempotent(key, body); resp != nil {
		return resp
	}
	done := false
	defer func() {
		if !done {
			s.abandonIdempotent(key)
		}
	}()
	resp := s.write(r, body)
	s.finishIdempotent(key, resp)
	done = true
	return resp
}

// idemScope is the scoped Idempotency-Key of r (method, path and key), or
// "" when r has none or the store ignores keys.
func (s *Store) idemScope(r *http.Request) string {
	key := r.Header.Get("Idempotency-Key")
	if key == "" || s.cfg.ignoreIdempotencyKeys {
		return ""
	}
	p := r.URL.Path
	if r.Method == http.MethodPost {
		p = strings.TrimSuffix(p, "/")
	}
	return r.Method + "\x00" + p + "\x00" + key
}

// beginIdempotent reserves key for body, or returns the answer that a
// repeated key gets: a replay, a mismatch or an in-progress conflict.
func (s *Store) beginIdempotent(key string, body []byte) *response {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.idem[key]
	switch {
	case e == nil:
		s.idemSeq++
		s.idem[key] = &idemEntry{body: bytes.Clone(body), seq: s.idemSeq}
		s.idemOrder = append(s.idemOrder, idemRef{key, s.idemSeq})
		s.forgetOldKeys()
		return nil
	case !bytes.Equal(e.body, body):
		return problemResponse(http.StatusUnprocessableEntity, codeKeyMismatch,
			"this Idempotency-Key was already used with a different request body")
	case e.resp == nil:
		return problemResponse(http.StatusConflict, codeInProgress,
			"a request with this Idempotency-Key is still being processed")
	}
	resp := e.resp.clone()
	resp.replayed = true
	return resp
}

// forgetOldKeys forgets the oldest keys beyond [IdempotencyKeys].
func (s *Store) forgetOldKeys() {
	for len(s.idemOrder) > IdempotencyKeys {
		old := s.idemOrder[0]
		if e := s.idem[old.key]; e != nil && e.seq == old.seq { // not a later use of an abandoned key
			delete(s.idem, old.key)
		}
		s.idemOrder[0] = idemRef{}
		s.idemOrder = s.idemOrder[1:]
	}
}

// finishIdempotent records the answer for key, unless it was forgotten
// meanwhile.
func (s *Store) finishIdempotent(key string, resp *response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.idem[key]; e != nil {
		e.resp = resp.clone()
	}
}

// abandonIdempotent forgets key after its request was aborted unanswered.
func (s *Store) abandonIdempotent(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.idem, key)
}
