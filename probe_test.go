package occ_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/occ-go/occ"
	"github.com/occ-go/occ/occtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ignoring is a WebDAV server that, like nginx's dav module, sends an ETag
// (modification count and size) but ignores If-Match and If-None-Match.
type ignoring struct {
	mu     sync.Mutex
	body   []byte
	gen    int
	writes int
}

func (g *ignoring) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	g.mu.Lock()
	defer g.mu.Unlock()
	if r.Method == http.MethodPut {
		g.body, g.gen, g.writes = body, g.gen+1, g.writes+1
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.Header().Set("ETag", fmt.Sprintf(`"%x-%x"`, g.gen, len(g.body)))
	_, _ = w.Write(g.body)
}

func checks(r occ.ProbeReport) map[string]bool {
	m := map[string]bool{}
	for _, c := range r.Checks {
		m[c.Name] = c.Passed
	}
	return m
}

func TestProbe(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("occtest, scratch document", func(t *testing.T) {
		t.Parallel()
		srv := occtest.NewServer()
		defer srv.Close()
		c, err := occ.New(occ.WithHTTPClient(srv.Client()))
		require.NoError(t, err)
		r, err := occ.Probe(ctx, c, srv.URL+"/probe/1")
		require.NoError(t, err)
		assert.True(t, r.Passed(), "%+v", r)
		assert.Equal(t, map[string]bool{"version": true, "stale write refused": true, "duplicate create refused": true}, checks(r))
		assert.True(t, r.Created)
		assert.True(t, r.Deleted)
		_, _, exists := srv.Get("/probe/1")
		assert.False(t, exists, "the scratch document is gone")
		var ce *occ.ConflictError
		require.ErrorAs(t, r.Checks[1].Err, &ce)
		assert.Equal(t, occ.KindVersion, ce.Kind)
	})
	t.Run("occtest, a version field, an existing document", func(t *testing.T) {
		t.Parallel()
		srv := occtest.NewServer(occtest.WithVersionField("/v"), occtest.WithoutETags())
		defer srv.Close()
		require.NoError(t, srv.Set("/d", []byte(`{"keep":"me"}`)))
		c, err := occ.New(occ.WithHTTPClient(srv.Client()), occ.WithVersionField("/v"))
		require.NoError(t, err)
		r, err := occ.Probe(ctx, c, srv.URL+"/d")
		require.NoError(t, err)
		assert.True(t, r.Passed(), "%+v", r)
		assert.False(t, r.Created)
		doc, _, _ := srv.Get("/d")
		assert.Contains(t, string(doc), `"keep":"me"`, "the document is kept")
	})
	t.Run("a server that ignores preconditions fails", func(t *testing.T) {
		t.Parallel()
		g := &ignoring{body: []byte(`{"n":1}`), gen: 1}
		srv := httptest.NewServer(g)
		defer srv.Close()
		c, err := occ.New(occ.WithHTTPClient(srv.Client()))
		require.NoError(t, err)
		r, err := occ.Probe(ctx, c, srv.URL+"/d")
		require.NoError(t, err)
		assert.False(t, r.Passed())
		assert.Equal(t, map[string]bool{"version": true, "stale write refused": false, "duplicate create refused": false}, checks(r))
		g.mu.Lock()
		defer g.mu.Unlock()
		assert.JSONEq(t, `{"n":1}`, string(g.body), "even so, nothing was lost")
	})
	t.Run("etcd v2 through a Dialect", func(t *testing.T) {
		t.Parallel()
		f := &fakeEtcd{key: "/k", value: `{"n":1}`, exists: true, modified: 4, index: 4}
		r := probeAt(t, f, "/v2/keys/k", nil, occ.WithDialect(etcdV2))
		assert.True(t, r.Passed(), "%+v", r)
		f.mu.Lock()
		defer f.mu.Unlock()
		assert.JSONEq(t, `{"n":1}`, f.value)
	})
	t.Run("etcd v2 read as plain JSON: no version", func(t *testing.T) {
		t.Parallel()
		f := &fakeEtcd{key: "/k", value: `{"n":1}`, exists: true, modified: 4, index: 4}
		r := probeAt(t, f, "/v2/keys/k", nil)
		assert.False(t, r.Passed())
		require.NotEmpty(t, r.Checks)
		assert.ErrorIs(t, r.Checks[0].Err, occ.ErrNoVersion)
	})
	t.Run("etcd v2 with the version field the issue tried: the lost update shows", func(t *testing.T) {
		t.Parallel()
		f := &fakeEtcd{key: "/k", exists: true, modified: 4, index: 4}
		r := probeAt(t, f, "/v2/keys/k", nil, occ.WithVersionField("/node/modifiedIndex"))
		assert.Equal(t, map[string]bool{"version": false, "duplicate create refused": false}, checks(r))
		assert.Contains(t, r.Checks[0].Detail, "did not keep the change", "etcd stored an empty value, not the change")
	})
	t.Run("etcd v2 with that version field, holding a value: not restored, and said so", func(t *testing.T) {
		t.Parallel()
		f := &fakeEtcd{key: "/k", value: `{"n":1}`, exists: true, modified: 4, index: 4}
		r := probeAt(t, f, "/v2/keys/k", nil, occ.WithVersionField("/node/modifiedIndex"))
		assert.False(t, r.Restored, "the value was lost to a write etcd read as form values")
		assert.False(t, r.Passed())
	})
	t.Run("a vCard, probed as bytes", func(t *testing.T) {
		t.Parallel()
		f := &fakeDAV{body: []byte(vcard), ctype: "text/vcard", gen: 1}
		srv := httptest.NewServer(f)
		defer srv.Close()
		c, err := occ.New(occ.WithHTTPClient(srv.Client()))
		require.NoError(t, err)
		r, err := occ.Probe(ctx, c, srv.URL+"/a.vcf")
		require.NoError(t, err)
		assert.True(t, r.Passed(), "%+v", r)
		f.mu.Lock()
		defer f.mu.Unlock()
		assert.Equal(t, "text/vcard", f.ctype)
	})
	t.Run("CouchDB with its revision in the body", func(t *testing.T) {
		t.Parallel()
		f := &fakeCouch{id: "d", doc: map[string]any{"n": 1.0}, gen: 1}
		srv := httptest.NewServer(f)
		defer srv.Close()
		c, err := occ.New(occ.WithHTTPClient(srv.Client()), occ.WithVersionField("/_rev"))
		require.NoError(t, err)
		r, err := occ.Probe(ctx, c, srv.URL+"/db/d")
		require.NoError(t, err)
		assert.True(t, r.Passed(), "%+v", r)
		f.mu.Lock()
		defer f.mu.Unlock()
		assert.Equal(t, map[string]any{"n": 1.0}, f.doc)
		require.Len(t, f.sent, 4, "the change, the stale write, the duplicate create, the restore")
		assert.NotContains(t, f.sent[2], "_rev", "the duplicate create sends no revision")
	})
	t.Run("a stale write refused with a 409 occ cannot classify", func(t *testing.T) {
		t.Parallel()
		f := &fakeCouch{id: "d", doc: map[string]any{"n": 1.0}, gen: 1}
		srv := httptest.NewServer(f)
		defer srv.Close()
		c, err := occ.New(occ.WithHTTPClient(srv.Client()), occ.WithVersionField("/_rev"),
			occ.WithClassifier(occ.ClassifierFunc(func(resp *http.Response, _ *occ.ConflictError) (occ.Kind, bool) {
				return occ.KindUnknown, resp.StatusCode == http.StatusConflict
			})))
		require.NoError(t, err)
		r, err := occ.Probe(ctx, c, srv.URL+"/db/d")
		require.NoError(t, err)
		assert.Equal(t, map[string]bool{"version": true, "stale write refused": false, "duplicate create refused": false}, checks(r))
		var ce *occ.ConflictError
		require.ErrorAs(t, r.Checks[1].Err, &ce)
		assert.Equal(t, occ.KindUnknown, ce.Kind)
	})
}
