package occ

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// secondClock is a JSON resource whose only validator is a Last-Modified of
// one-second resolution, checked as net/http's ServeContent checks
// If-Unmodified-Since: a write passes when the modification time, truncated
// to the second, is not after the date sent. Its clock stands still, so
// every write falls in the same second; dateAhead is how far the answers'
// Date is ahead of that second.
type secondClock struct {
	mu        sync.Mutex
	doc       string
	at        time.Time
	dateAhead time.Duration
	before    func(s *secondClock) // runs before a write is checked: another writer
	puts      int
}

func (s *secondClock) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Method == http.MethodPut {
		s.puts++
		if s.before != nil {
			s.before(s)
		}
		ius, err := http.ParseTime(r.Header.Get("If-Unmodified-Since"))
		if err != nil || s.at.Truncate(time.Second).After(ius) {
			w.WriteHeader(http.StatusPreconditionFailed)
			return
		}
		s.doc = string(body)
	}
	w.Header().Set("Last-Modified", s.at.UTC().Format(http.TimeFormat))
	w.Header().Set("Date", s.at.Add(s.dateAhead).UTC().Format(http.TimeFormat))
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, s.doc)
}

// otherWriterSameSecond is another writer whose change lands in the same
// second as the read, just before occ's write.
func otherWriterSameSecond(s *secondClock) {
	s.doc, s.before = `{"name":"theirs","count":1}`, nil
}

func secondClockClient(t *testing.T, srv *secondClock, opts ...Option) (*Client, string) {
	t.Helper()
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	c, err := New(append([]Option{WithBackoff(BackoffFunc(func(int) time.Duration { return 0 }))}, opts...)...)
	require.NoError(t, err)
	return c, ts.URL + "/items/1"
}

var noon = time.Date(2026, 3, 1, 12, 0, 0, 400e6, time.UTC)

func TestAOneSecondLastModifiedIsNoPrecondition(t *testing.T) {
	srv := &secondClock{doc: `{"name":"a","count":1}`, at: noon, before: otherWriterSameSecond}
	c, url := secondClockClient(t, srv)
	_, err := Modify(context.Background(), c, url, incr)
	require.ErrorIs(t, err, ErrNoVersion)
	assert.Zero(t, srv.puts, "no write on a weak validator")
	assert.JSONEq(t, `{"name":"a","count":1}`, srv.doc)

	v, err := Get[item](context.Background(), c, url)
	require.NoError(t, err)
	assert.Empty(t, v.Version, "a weak Last-Modified is no version")
	assert.NotEmpty(t, v.LastModified)
}

func TestALastModifiedASecondBeforeTheDateIsStrong(t *testing.T) {
	srv := &secondClock{doc: `{"name":"a","count":1}`, at: noon, dateAhead: time.Second}
	c, url := secondClockClient(t, srv)
	_, err := Modify(context.Background(), c, url, incr)
	require.NoError(t, err)
	assert.JSONEq(t, `{"name":"a","count":2}`, srv.doc)
}

func TestWithStrongLastModifiedDeclaresAFinerClock(t *testing.T) {
	srv := &secondClock{doc: `{"name":"a","count":1}`, at: noon}
	c, url := secondClockClient(t, srv, WithStrongLastModified(true))
	v, err := Get[item](context.Background(), c, url)
	require.NoError(t, err)
	assert.Equal(t, v.LastModified, v.Version)
	_, err = Modify(context.Background(), c, url, incr)
	require.NoError(t, err)
	assert.JSONEq(t, `{"name":"a","count":2}`, srv.doc)
}

func TestVersionIsWhatTheWriteIsConditionedOn(t *testing.T) {
	api := newFakeAPI(`{"name":"a","count":1}`)
	api.then(reply(200, `{"name":"a","count":1}`, "ETag", `W/"1"`, "Last-Modified", "Sun, 01 Mar 2026 12:00:00 GMT",
		"Date", "Sun, 01 Mar 2026 12:00:05 GMT"))
	c := memClient(t, api)
	v, err := Get[item](context.Background(), c, itemURL)
	require.NoError(t, err)
	assert.Equal(t, "Sun, 01 Mar 2026 12:00:00 GMT", v.Version, "the weak ETag is not what a write is conditioned on")
}
