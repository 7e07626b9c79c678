package occtest

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
)

// idemEntry is the state of one Idempotency-Key: in progress until resp is
// set, then the stored answer to replay.
type idemEntry struct {
	body []byte
	resp *response
}

// post creates a resource in the collection at the request path, honouring
// Idempotency-Key: a repeated key with the same body replays the stored
// answer, with another body is a 422, and while the first is still being
// processed is a 409 idempotency_in_progress.
func (s *Store) post(r *http.Request, body []byte) *response {
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		s.callBeforeWrite(r, body)
		return s.create(r, body)
	}
	key = strings.TrimSuffix(r.URL.Path, "/") + "\x00" + key
	if resp := s.beginIdempotent(key, body); resp != nil {
		return resp
	}
	done := false
	defer func() {
		if !done {
			s.abandonIdempotent(key)
		}
	}()
	s.callBeforeWrite(r, body)
	resp := s.create(r, body)
	s.finishIdempotent(key, resp)
	done = true
	return resp
}

// beginIdempotent reserves key for body, or returns the answer that a
// repeated key gets: a replay, a mismatch or an in-progress conflict.
func (s *Store) beginIdempotent(key string, body []byte) *response {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.idem[key]
	switch {
	case e == nil:
		s.idem[key] = &idemEntry{body: bytes.Clone(body)}
		return nil
	case !bytes.Equal(e.body, body):
		return problemResponse(http.StatusUnprocessableEntity, codeKeyMismatch,
			"this Idempotency-Key was already used with a different request body")
	case e.resp == nil:
		return problemResponse(http.StatusConflict, codeInProgress,
			"a request with this Idempotency-Key is still being processed")
	}
	return e.resp.clone()
}

// finishIdempotent stores the answer for key.
func (s *Store) finishIdempotent(key string, resp *response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.idem[key].resp = resp.clone()
}

// abandonIdempotent forgets key after its request was aborted unanswered.
func (s *Store) abandonIdempotent(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.idem, key)
}

// create stores the body as the next member of the collection at the path.
func (s *Store) create(r *http.Request, body []byte) *response {
	obj, err := decodeObject(body)
	if err != nil {
		return badRequest(err)
	}
	coll := strings.TrimSuffix(r.URL.Path, "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.nextMember(coll)
	resp := s.apply(p, nil, obj, http.StatusCreated)
	if resp.status == http.StatusCreated {
		resp.header.Set("Location", p)
	} else {
		s.seq[coll]-- // the id was not used after all
	}
	return resp
}

// nextMember hands out the next unused path in collection coll.
func (s *Store) nextMember(coll string) string {
	for {
		s.seq[coll]++
		p := coll + "/" + strconv.FormatInt(s.seq[coll], 10)
		if s.res[p] == nil && s.gone[p] == 0 {
			return p
		}
	}
}
