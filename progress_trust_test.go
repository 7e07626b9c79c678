package occ

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// refusing is a server that refuses every write (412) and serves the same
// document under a tag that moves as tags says.
// After 100 writes it cancels the call's context, so that a loop that
// does not give up on its own ends too.
type refusing struct {
	mu     sync.Mutex
	reads  int
	puts   int
	tags   func(reads int) string
	cancel context.CancelFunc
}

func (r *refusing) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if req.Method != http.MethodGet {
		if r.puts++; r.puts == 100 {
			r.cancel()
		}
		w.WriteHeader(http.StatusPreconditionFailed)
		return
	}
	r.reads++
	w.Header().Set("ETag", r.tags(r.reads))
	_, _ = io.WriteString(w, `{"name":"a","count":1}`)
}

func TestAServerThatRefusesEveryWriteGivesUpFastUnderAnyTags(t *testing.T) {
	for name, tags := range map[string]func(int) string{
		"a tag that moves on every read": func(n int) string { return `"r` + strconv.Itoa(n) + `"` },
		"a steady tag":                   func(int) string { return `"1"` },
		"two backends' tags in turn":     func(n int) string { return `"b` + strconv.Itoa(n%2) + `"` },
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			srv := &refusing{tags: tags, cancel: cancel}
			c := memClient(t, srv)
			_, err := Modify(ctx, c, itemURL, incr)
			require.ErrorIs(t, err, ErrAttemptsExhausted)
			var ce *ConflictError
			require.ErrorAs(t, err, &ce)
			assert.LessOrEqual(t, srv.puts, maxStalls+1, "bounded like a stall")
		})
	}
}

// committing is a server on which another writer commits before each of
// occ's writes, which therefore conflicts; it cancels the context on the
// GET numbered cancelAt.
type committing struct {
	mu       sync.Mutex
	n        int
	reqs     int
	cancelAt int
	cancel   context.CancelFunc
}

func (s *committing) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs++
	if s.reqs == s.cancelAt {
		s.cancel()
	}
	if req.Method != http.MethodGet {
		s.n++ // another writer got there first
		w.WriteHeader(http.StatusPreconditionFailed)
		return
	}
	w.Header().Set("ETag", `"`+strconv.Itoa(s.n)+`"`)
	_, _ = io.WriteString(w, `{"name":"a","count":`+strconv.Itoa(s.n)+`}`)
}

func TestAContextEndingMidRetryWrapsTheLastConflict(t *testing.T) {
	for _, at := range []int{4, 5} { // during a write, during a read
		t.Run(strconv.Itoa(at), func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			srv := &committing{cancelAt: at, cancel: cancel}
			c := memClient(t, srv)
			_, err := Modify(ctx, c, itemURL, incr)
			require.ErrorIs(t, err, context.Canceled)
			var ce *ConflictError
			require.ErrorAs(t, err, &ce, "the last conflict is reachable")
			assert.Equal(t, KindVersion, ce.Kind)
			assert.False(t, errors.Is(err, ErrAttemptsExhausted))
		})
	}
}
