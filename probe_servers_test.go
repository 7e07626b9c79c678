package occ_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/occ-go/occ"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Fakes of the server kinds whose behaviour Probe's doc makes claims
// about, beyond those of probe_test.go.

// hashStore keeps one document parsed, as a JSON store does, or as bytes
// when it is not JSON, with a content-hash ETag (as MinIO and Radicale
// hash theirs): a write that changes only whitespace keeps the tag. It
// refuses a stale If-Match with 412, and If-None-Match: * on a document
// that exists. With weakTags its ETags are weak, compared weakly on PUT
// and strongly on DELETE, as RFC 9110 asks (so that a weak If-Match on a
// DELETE always fails). Absent documents answer 404.
type hashStore struct {
	mu       sync.Mutex
	body     []byte // nil: absent
	ctype    string
	weakTags bool
	deletes  int
}

func (h *hashStore) etag() string {
	sum := sha256.Sum256(h.body)
	tag := fmt.Sprintf(`"%x"`, sum[:6])
	if h.weakTags {
		return "W/" + tag
	}
	return tag
}

func (h *hashStore) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	match := r.Header.Get("If-Match")
	switch {
	case h.body == nil && r.Method != http.MethodPut:
		http.Error(w, "not found", http.StatusNotFound)
	case r.Method == http.MethodGet:
		w.Header().Set("ETag", h.etag())
		w.Header().Set("Content-Type", h.ctype)
		_, _ = w.Write(h.body)
	case r.Method == http.MethodDelete:
		if match != "" && (match != h.etag() || h.weakTags) {
			http.Error(w, "precondition failed", http.StatusPreconditionFailed)
			return
		}
		h.body, h.deletes = nil, h.deletes+1
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodPut:
		h.put(w, r, body)
	}
}

func (h *hashStore) put(w http.ResponseWriter, r *http.Request, body []byte) {
	if (r.Header.Get("If-None-Match") == "*" && h.body != nil) || (r.Header.Get("If-Match") != "" && (h.body == nil || r.Header.Get("If-Match") != h.etag())) {
		http.Error(w, "precondition failed", http.StatusPreconditionFailed)
		return
	}
	ctype := r.Header.Get("Content-Type")
	if ctype == "application/json" {
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			http.Error(w, "bad JSON", http.StatusBadRequest)
			return
		}
		body, _ = json.Marshal(v) // kept parsed: whitespace is gone
	}
	h.body, h.ctype = body, ctype
	w.Header().Set("ETag", h.etag())
	w.WriteHeader(http.StatusNoContent)
}

// secondClock is a server whose Last-Modified and Date come from a clock
// that moves only when the test says, and that checks If-Unmodified-Since
// the way net/http's ServeContent does, to the second: a write in the same
// second as the last one passes a stale precondition. It sends no ETag.
type secondClock struct {
	mu     sync.Mutex
	now    time.Time
	mod    time.Time
	body   []byte
	writes int
	tick   bool // the clock moves a second on every write
}

func (s *secondClock) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	w.Header().Set("Date", s.now.UTC().Format(http.TimeFormat))
	if r.Method == http.MethodPut {
		ius, err := http.ParseTime(r.Header.Get("If-Unmodified-Since"))
		if err != nil || s.mod.Truncate(time.Second).After(ius) {
			http.Error(w, "precondition failed", http.StatusPreconditionFailed)
			return
		}
		if s.tick {
			s.now = s.now.Add(time.Second)
		}
		s.body, s.mod, s.writes = body, s.now, s.writes+1
		w.Header().Set("Date", s.now.UTC().Format(http.TimeFormat))
		w.Header().Set("Last-Modified", s.mod.UTC().Format(http.TimeFormat))
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.Header().Set("Last-Modified", s.mod.UTC().Format(http.TimeFormat))
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(s.body)
}

func probeAt(t *testing.T, h http.Handler, path string, copts []occ.Option, opts ...occ.CallOption) occ.ProbeReport {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := occ.New(append([]occ.Option{occ.WithHTTPClient(srv.Client())}, copts...)...)
	require.NoError(t, err)
	r, err := occ.Probe(context.Background(), c, srv.URL+path, opts...)
	require.NoError(t, err)
	return r
}

func TestProbeServerKinds(t *testing.T) {
	t.Parallel()
	t.Run("a store that keeps JSON parsed, with content-hash ETags, passes", func(t *testing.T) {
		t.Parallel()
		orig := []byte(`{"n":1,"tags":["a"]}`)
		h := &hashStore{body: orig, ctype: "application/json"}
		r := probeAt(t, h, "/d", nil)
		assert.True(t, r.Passed(), "%+v", r)
		assert.True(t, r.Restored)
		h.mu.Lock()
		defer h.mu.Unlock()
		assert.JSONEq(t, string(orig), string(h.body), "the document is as it was")
	})
	t.Run("a vCard ending in a bare CR is restored byte for byte", func(t *testing.T) {
		t.Parallel()
		card := []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:ann\r\nFN:Ann\r\nEND:VCARD\r")
		h := &hashStore{body: card, ctype: "text/vcard"}
		r := probeAt(t, h, "/a.vcf", nil)
		assert.True(t, r.Passed(), "%+v", r)
		assert.True(t, r.Restored)
		h.mu.Lock()
		defer h.mu.Unlock()
		assert.Equal(t, string(card), string(h.body))
		assert.Equal(t, "text/vcard", h.ctype)
	})
	t.Run("the scratch document of a weak-ETag server is deleted", func(t *testing.T) {
		t.Parallel()
		h := &hashStore{weakTags: true}
		r := probeAt(t, h, "/new", nil, occ.WithWeakETags(true))
		assert.True(t, r.Created)
		assert.True(t, r.Deleted, "%+v", r)
		h.mu.Lock()
		defer h.mu.Unlock()
		assert.Nil(t, h.body, "the scratch document is gone")
		assert.Equal(t, 1, h.deletes)
	})
	t.Run("a one-second Last-Modified fails", func(t *testing.T) {
		t.Parallel()
		now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
		s := &secondClock{now: now, mod: now.Add(-time.Hour), body: []byte(`{"n":1}`), tick: true}
		r := probeAt(t, s, "/d", nil)
		assert.False(t, r.Passed())
		require.NotEmpty(t, r.Checks)
		assert.Equal(t, "version", r.Checks[0].Name)
		assert.False(t, r.Checks[0].Passed)
		assert.ErrorIs(t, r.Checks[0].Err, occ.ErrNoVersion)
		assert.True(t, r.Restored, "%+v", r)
		s.mu.Lock()
		defer s.mu.Unlock()
		assert.JSONEq(t, `{"n":1}`, string(s.body))
	})
	t.Run("a one-second Last-Modified whose clock stands still fails too", func(t *testing.T) {
		t.Parallel()
		now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
		s := &secondClock{now: now, mod: now, body: []byte(`{"n":1}`)}
		r := probeAt(t, s, "/d", nil)
		assert.False(t, r.Passed())
		require.NotEmpty(t, r.Checks)
		assert.False(t, r.Checks[0].Passed)
	})
}

// TestProbeKubernetes probes the Kubernetes fake: the default Create is
// flagged (a PUT with If-None-Match: * replaces the object), the POST
// create passes, and the object is left as it was.
func TestProbeKubernetes(t *testing.T) {
	t.Parallel()
	vf := occ.WithVersionField("/metadata/resourceVersion")
	t.Run("with the POST create, every check passes", func(t *testing.T) {
		t.Parallel()
		k := newFakeKube()
		k.set("cm", map[string]any{"k": "v"})
		before := k.get("cm")
		r := probeAt(t, k, k.prefix+"/cm", []occ.Option{vf}, occ.WithCreateMethod(http.MethodPost))
		assert.True(t, r.Passed(), "%+v", r)
		assert.Equal(t, map[string]bool{"version": true, "stale write refused": true, "duplicate create refused": true}, checks(r))
		var ce *occ.ConflictError
		require.ErrorAs(t, r.Checks[2].Err, &ce)
		assert.Equal(t, http.StatusConflict, ce.StatusCode)
		assert.Equal(t, "AlreadyExists", ce.Code)
		assertSameObject(t, before, k.get("cm"))
		k.mu.Lock()
		defer k.mu.Unlock()
		assert.Contains(t, k.methods, "POST", "the duplicate create is a POST")
	})
	t.Run("the default create is flagged", func(t *testing.T) {
		t.Parallel()
		k := newFakeKube()
		k.set("cm", map[string]any{"k": "v"})
		before := k.get("cm")
		r := probeAt(t, k, k.prefix+"/cm", []occ.Option{vf})
		assert.False(t, r.Passed())
		assert.Equal(t, map[string]bool{"version": true, "stale write refused": true, "duplicate create refused": false}, checks(r))
		assertSameObject(t, before, k.get("cm"))
	})
	t.Run("a missing object cannot be made up: a clear error", func(t *testing.T) {
		t.Parallel()
		k := newFakeKube()
		srv := httptest.NewServer(k)
		defer srv.Close()
		c, err := occ.New(occ.WithHTTPClient(srv.Client()), vf)
		require.NoError(t, err)
		_, err = occ.Probe(context.Background(), c, srv.URL+k.prefix+"/none", occ.WithCreateMethod(http.MethodPost))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "create a document there, then probe it")
		var se *occ.StatusError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, http.StatusUnprocessableEntity, se.StatusCode)
	})
}

// assertSameObject checks that a Kubernetes object is as it was, but for
// its resourceVersion.
func assertSameObject(t *testing.T, before, after []byte) {
	t.Helper()
	var b, a map[string]any
	require.NoError(t, json.Unmarshal(before, &b))
	require.NoError(t, json.Unmarshal(after, &a))
	delete(b["metadata"].(map[string]any), "resourceVersion")
	delete(a["metadata"].(map[string]any), "resourceVersion")
	assert.Equal(t, b, a)
	assert.False(t, bytes.Contains(after, []byte("occ-probe")))
}

// postAlways is a POST-create API that takes every POST as a new document,
// at a Location it names, whatever the body: a create of a document that
// exists makes a second one. Its documents have strong ETags and refuse a
// stale If-Match.
type postAlways struct {
	mu      sync.Mutex
	docs    map[string][]byte
	gen     map[string]int
	deleted []string
}

func (p *postAlways) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	p.mu.Lock()
	defer p.mu.Unlock()
	path := r.URL.Path
	switch {
	case r.Method == http.MethodPost && path == "/c":
		path = fmt.Sprintf("/c/%d", len(p.docs)+1)
		p.docs[path], p.gen[path] = body, 1
		w.Header().Set("Location", path)
		w.WriteHeader(http.StatusCreated)
	case p.docs[path] == nil:
		http.NotFound(w, r)
	case r.Method == http.MethodGet:
		w.Header().Set("ETag", fmt.Sprintf(`"%d"`, p.gen[path]))
		_, _ = w.Write(p.docs[path])
	case r.Header.Get("If-Match") != "" && r.Header.Get("If-Match") != fmt.Sprintf(`"%d"`, p.gen[path]):
		http.Error(w, "stale", http.StatusPreconditionFailed)
	case r.Method == http.MethodPut:
		p.docs[path], p.gen[path] = body, p.gen[path]+1
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodDelete:
		delete(p.docs, path)
		p.deleted = append(p.deleted, path)
		w.WriteHeader(http.StatusNoContent)
	}
}

// TestProbePOSTMakesASecond probes a POST-create API that takes a second
// POST of a document as a new one: the duplicate check fails, and the
// second document, at the Location the answer named, is deleted.
func TestProbePOSTMakesASecond(t *testing.T) {
	t.Parallel()
	p := &postAlways{docs: map[string][]byte{"/c/1": []byte(`{"n":1}`)}, gen: map[string]int{"/c/1": 1}}
	r := probeAt(t, p, "/c/1", nil, occ.WithCreateMethod(http.MethodPost))
	assert.Equal(t, map[string]bool{"version": true, "stale write refused": true, "duplicate create refused": false}, checks(r))
	assert.Contains(t, r.Checks[2].Detail, "making a second one at")
	assert.True(t, r.Restored)
	p.mu.Lock()
	defer p.mu.Unlock()
	assert.Equal(t, []string{"/c/2"}, p.deleted, "the second document is deleted, the first kept")
	assert.JSONEq(t, `{"n":1}`, string(p.docs["/c/1"]))
}

// WithCollection names where Probe's POST create goes, when the
// collection is not the URL's parent; one on another origin is refused
// before any request.
func TestProbeWithCollection(t *testing.T) {
	t.Parallel()
	vf := occ.WithVersionField("/metadata/resourceVersion")
	post := occ.WithCreateMethod(http.MethodPost)
	k := newFakeKube()
	k.set("cm", map[string]any{"k": "v"})
	srv := httptest.NewServer(k)
	t.Cleanup(srv.Close)
	c, err := occ.New(occ.WithHTTPClient(srv.Client()), vf)
	require.NoError(t, err)
	ctx := context.Background()

	r, err := occ.Probe(ctx, c, srv.URL+k.prefix+"/cm", post, occ.WithCollection(srv.URL+"/apis/elsewhere"))
	require.NoError(t, err)
	assert.False(t, checks(r)["duplicate create refused"], "the POST went to the collection named, which refuses nothing as a duplicate")
	r, err = occ.Probe(ctx, c, srv.URL+k.prefix+"/cm", post, occ.WithCollection(srv.URL+k.prefix))
	require.NoError(t, err)
	assert.True(t, r.Passed(), "%+v", r)

	k.mu.Lock()
	n := len(k.methods)
	k.mu.Unlock()
	_, err = occ.Probe(ctx, c, srv.URL+k.prefix+"/cm", post, occ.WithCollection("http://127.0.0.2:1"+k.prefix))
	require.ErrorIs(t, err, occ.ErrInvalidArgument)
	k.mu.Lock()
	assert.Len(t, k.methods, n, "no request went out")
	k.mu.Unlock()
	_, err = occ.Get[map[string]any](ctx, c, srv.URL+k.prefix+"/cm", occ.WithCollection(srv.URL+k.prefix))
	require.ErrorIs(t, err, occ.ErrInvalidArgument, "Probe's option only")
}
