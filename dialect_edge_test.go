package occ_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/occ-go/occ"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWithDialectRejectsAnEmptyDialect(t *testing.T) {
	t.Parallel()
	_, err := occ.New(occ.WithDialect(occ.Dialect{}))
	require.ErrorIs(t, err, occ.ErrInvalidArgument)
	c, err := occ.New()
	require.NoError(t, err)
	_, err = occ.GetJSON(context.Background(), c, "http://127.0.0.1:1/x", occ.WithDialect(occ.Dialect{}))
	require.ErrorIs(t, err, occ.ErrInvalidArgument)
	assert.NotErrorIs(t, err, occ.ErrInvalidDocument)
}

// headerAPI keeps one JSON document whose version is in X-Version and
// conditions writes on If-Match / If-None-Match with that version.
type headerAPI struct {
	mu     sync.Mutex
	doc    string // "": absent
	ver    int
	reqs   []*http.Request
	answer string // a 412's body; with Content-Location it is the current document
}

func (h *headerAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.reqs = append(h.reqs, r.Clone(context.Background()))
	tag := `"` + string(rune('0'+h.ver)) + `"`
	w.Header().Set("X-Version", string(rune('0'+h.ver)))
	switch {
	case r.Method == http.MethodGet && h.doc == "":
		w.WriteHeader(http.StatusNotFound)
	case r.Method == http.MethodGet:
		_, _ = io.WriteString(w, h.doc)
	case r.Header.Get("If-None-Match") == "*" && h.doc != "":
		w.WriteHeader(http.StatusPreconditionFailed)
	case r.Header.Get("If-None-Match") != "*" && r.Header.Get("If-Match") != tag:
		if h.answer != "" {
			w.Header().Set("Content-Location", r.URL.Path)
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(http.StatusPreconditionFailed)
		_, _ = io.WriteString(w, h.answer)
	default:
		h.doc, h.ver = string(body), h.ver+1
		w.Header().Set("X-Version", string(rune('0'+h.ver)))
		w.WriteHeader(http.StatusNoContent)
	}
}

func (h *headerAPI) methods() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var m []string
	for _, r := range h.reqs {
		m = append(m, r.Method)
	}
	return strings.Join(m, " ")
}

// A Dialect with only Decode: occ conditions the write itself, If-Match
// with the version quoted, If-None-Match: * to create.
func TestDialectDecodeOnly(t *testing.T) {
	t.Parallel()
	h := &headerAPI{}
	srv := httptest.NewServer(h)
	defer srv.Close()
	c, err := occ.New(occ.WithHTTPClient(srv.Client()), occ.WithDialect(occ.Dialect{Decode: occ.VersionHeader("X-Version")}))
	require.NoError(t, err)
	ctx := context.Background()
	v, err := occ.Create(ctx, c, srv.URL+"/d", counterDoc{N: 1})
	require.NoError(t, err)
	assert.Equal(t, "1", v.Version)
	_, err = occ.Create(ctx, c, srv.URL+"/d", counterDoc{N: 1})
	require.ErrorIs(t, err, occ.ErrDuplicate)
	got, err := occ.Modify(ctx, c, srv.URL+"/d", func(v *counterDoc) error { v.N++; return nil })
	require.NoError(t, err)
	assert.Equal(t, 2, got.N)
	h.mu.Lock()
	defer h.mu.Unlock()
	assert.Equal(t, `"1"`, h.reqs[len(h.reqs)-1].Header.Get("If-Match"))
	assert.Equal(t, `{"n":2}`, h.doc)
}

// An Encode may hand occ a header map it keeps and shares between writes:
// occ adds its own fields (Idempotency-Key, Accept) to a copy, so that the
// shared map never collects them and writes never share a key.
func TestDialectEncodeMayShareItsHeader(t *testing.T) {
	t.Parallel()
	h := &headerAPI{doc: `{"n":0}`, ver: 1}
	srv := httptest.NewServer(h)
	defer srv.Close()
	shared := http.Header{"X-Tenant": {"blue"}}
	d := occ.Dialect{
		Decode: occ.VersionHeader("X-Version"),
		Encode: func(w *occ.WriteRequest) error {
			w.Header = shared
			w.Header.Set("If-Match", `"`+w.Version+`"`) // the caller's own doing
			return nil
		},
	}
	c, err := occ.New(occ.WithHTTPClient(srv.Client()), occ.WithDialect(d))
	require.NoError(t, err)
	for range 2 {
		_, err := occ.Modify(context.Background(), c, srv.URL+"/d", func(v *counterDoc) error { v.N++; return nil })
		require.NoError(t, err)
	}
	assert.Empty(t, shared.Get("Idempotency-Key"))
	assert.Empty(t, shared.Get("Accept"))
	h.mu.Lock()
	defer h.mu.Unlock()
	var keys []string
	for _, r := range h.reqs {
		if r.Method == http.MethodPut {
			assert.Equal(t, "blue", r.Header.Get("X-Tenant"))
			keys = append(keys, r.Header.Get("Idempotency-Key"))
		}
	}
	require.Len(t, keys, 2)
	assert.NotEqual(t, keys[0], keys[1])
}

// The current document a conflict answer carries (with a Content-Location
// naming the resource) goes through Decode too, instead of another read.
func TestDialectRefreshFromConflictDecodes(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, r.Method+" "+r.URL.RawQuery)
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("prevIndex") != "3" {
			w.Header().Set("Content-Location", r.URL.Path)
			w.WriteHeader(http.StatusPreconditionFailed)
			_, _ = io.WriteString(w, `{"action":"get","node":{"key":"/k","value":"{\"n\":1,\"t\":\"x\"}","modifiedIndex":3}}`)
			return
		}
		_, _ = io.WriteString(w, `{"action":"compareAndSwap","node":{"key":"/k","value":"x","modifiedIndex":4}}`)
	}))
	defer srv.Close()
	c, err := occ.New(occ.WithHTTPClient(srv.Client()), occ.WithDialect(etcdV2), occ.WithBackoff(occ.Exponential(0, 0)))
	require.NoError(t, err)
	stale := occ.Versioned[counterDoc]{Value: counterDoc{N: 1}, Version: "2", Raw: []byte(`{"n":1}`)}
	var st occ.Stats
	got, err := occ.Put(context.Background(), c, srv.URL+"/v2/keys/k", stale, counterDoc{N: 2}, occ.WithStats(&st))
	require.NoError(t, err)
	assert.Equal(t, 2, got.Value.N)
	assert.JSONEq(t, `{"n":2,"t":"x"}`, string(got.Raw), "merged with the 412's document")
	assert.Equal(t, "4", got.Version)
	assert.Equal(t, 0, st.Reads, "the 412's document was used, not a fresh read")
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"PUT prevIndex=2", "PUT prevIndex=3"}, seen)
}

func TestDialectFailures(t *testing.T) {
	t.Parallel()
	errEncode := errors.New("cannot encode")
	tests := []struct {
		name    string
		dialect occ.Dialect
		body    string
		want    error
	}{
		{"Decode fails", occ.Dialect{Decode: func(http.Header, []byte) ([]byte, string, error) {
			return nil, "", errors.New("bad envelope")
		}}, `{}`, occ.ErrInvalidDocument},
		{"Decode gives no JSON", occ.Dialect{Decode: func(http.Header, []byte) ([]byte, string, error) {
			return []byte("not json"), "1", nil
		}}, `{}`, occ.ErrInvalidDocument},
		{"Envelope of a body that is no JSON", occ.Dialect{Decode: occ.Envelope("/node/value", "/node/modifiedIndex")},
			`<html>`, occ.ErrInvalidDocument},
		{"no version", occ.Dialect{Decode: occ.VersionHeader("X-None")}, `{"n":1}`, occ.ErrNoVersion},
		{"Encode fails: nothing sent", occ.Dialect{
			Decode: occ.VersionHeader("X-Version"),
			Encode: func(*occ.WriteRequest) error { return errEncode },
		}, `{"n":1}`, errEncode},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := &headerAPI{doc: tc.body, ver: 1}
			srv := httptest.NewServer(h)
			defer srv.Close()
			c, err := occ.New(occ.WithHTTPClient(srv.Client()), occ.WithDialect(tc.dialect))
			require.NoError(t, err)
			_, err = occ.Modify(context.Background(), c, srv.URL+"/d", func(v *counterDoc) error { v.N++; return nil })
			require.ErrorIs(t, err, tc.want)
			assert.Equal(t, "GET", h.methods(), "nothing written")
		})
	}
}

func TestEnvelopeAndVersionQuery(t *testing.T) {
	t.Parallel()
	dec := occ.Envelope("/node/value", "/node/modifiedIndex")
	doc, v, err := dec(nil, []byte(`{"node":{"value":"{\"a\":1}","modifiedIndex":12}}`))
	require.NoError(t, err)
	assert.Equal(t, `{"a":1}`, string(doc), "a string member is the document's text")
	assert.Equal(t, "12", v)
	doc, v, err = occ.Envelope("/_source", "/_version")(nil, []byte(`{"_source":{"a":[1,2]},"_version":"x"}`))
	require.NoError(t, err)
	assert.JSONEq(t, `{"a":[1,2]}`, string(doc), "any other member is the document's JSON")
	assert.Equal(t, "x", v)
	doc, v, err = dec(nil, []byte(`{"action":"set"}`))
	require.NoError(t, err)
	assert.Empty(t, doc)
	assert.Empty(t, v)

	tests := []struct{ url, version, create, want string }{
		{"http://h/k?a=1", "7", "0", "http://h/k?a=1&p=7"},
		{"http://h/k?p=old", "7", "", "http://h/k?p=7"},
		{"http://h/k", "", "0", "http://h/k?p=0"},
		{"http://h/k", "", "", "http://h/k"},
	}
	for _, tc := range tests {
		w := &occ.WriteRequest{URL: tc.url, Version: tc.version}
		require.NoError(t, occ.VersionQuery("p", tc.create)(w))
		assert.Equal(t, tc.want, w.URL)
	}
	w := &occ.WriteRequest{URL: "http://h/%zz"}
	assert.Error(t, w.SetQuery("a", "b"))
}
