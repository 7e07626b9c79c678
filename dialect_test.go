package occ_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/occ-go/occ"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type counterDoc struct {
	N int `json:"n"`
}

// raceClient is a client for racing writers: many attempts, a tiny backoff,
// no retry budget.
// raceClient returns a client for srv that makes one write a call (no
// coalescing), so that a fake's write count proves each change landed once.
func raceClient(t *testing.T, srv *httptest.Server, opts ...occ.Option) *occ.Client {
	t.Helper()
	base := []occ.Option{
		occ.WithHTTPClient(srv.Client()),
		occ.WithBackoff(occ.Exponential(100*time.Microsecond, 2*time.Millisecond)),
		occ.WithCoalescing(false),
	}
	c, err := occ.New(append(base, opts...)...)
	require.NoError(t, err)
	return c
}

// race runs writers × increments of Modify[counterDoc] on url, all at once.
func race(t *testing.T, c *occ.Client, url string, writers, increments int, opts ...occ.CallOption) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, writers*increments)
	for range writers {
		wg.Go(func() {
			for range increments {
				_, err := occ.Modify(ctx, c, url, func(v *counterDoc) error { v.N++; return nil }, opts...)
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

// staleWrite makes a write conditioned on stale, once, and returns its
// error: a server that keeps preconditions refuses it.
func staleWrite(ctx context.Context, c *occ.Client, url string, stale occ.Versioned[counterDoc], opts ...occ.CallOption) error {
	opts = append(opts, occ.WithMaxAttempts(1), occ.WithMerger(occ.LastWriteWins()))
	_, err := occ.Put(ctx, c, url, stale, counterDoc{N: -1}, opts...)
	return err
}

// assertRefusedStale checks that err is a stale write refused as a version
// conflict after one write.
func assertRefusedStale(t *testing.T, err error) {
	t.Helper()
	require.ErrorIs(t, err, occ.ErrAttemptsExhausted)
	var ce *occ.ConflictError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, occ.KindVersion, ce.Kind)
	assert.ErrorIs(t, err, occ.ErrVersionMismatch)
}

func TestDialectEtcdV2(t *testing.T) {
	t.Parallel()
	f := &fakeEtcd{key: "/k"}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c := raceClient(t, srv, occ.WithDialect(etcdV2))
	ctx := context.Background()
	url := srv.URL + "/v2/keys/k"

	created, err := occ.Create(ctx, c, url, counterDoc{N: 0})
	require.NoError(t, err)
	assert.Equal(t, "1", created.Version, "the create's answer gives the modifiedIndex")

	_, err = occ.Create(ctx, c, url, counterDoc{N: 5})
	var ce *occ.ConflictError
	require.ErrorAs(t, err, &ce, "a duplicate create is refused")
	assert.Equal(t, occ.KindDuplicate, ce.Kind)
	assert.Equal(t, http.StatusPreconditionFailed, ce.StatusCode)

	stale, err := occ.Get[counterDoc](ctx, c, url)
	require.NoError(t, err)
	assert.Equal(t, "1", stale.Version)
	assert.JSONEq(t, `{"n":0}`, string(stale.Raw), "Raw is the decoded document, not the envelope")

	race(t, c, url, 8, 10)
	f.mu.Lock()
	assert.JSONEq(t, `{"n":80}`, f.value, "no update lost, none doubled")
	assert.LessOrEqual(t, f.writes, 81, "concurrent calls may share a write (coalescing); never more writes than changes")
	f.mu.Unlock()

	assertRefusedStale(t, staleWrite(ctx, c, url, stale))
	f.mu.Lock()
	assert.JSONEq(t, `{"n":80}`, f.value)
	f.mu.Unlock()
}

func TestDialectCloudStorageUpload(t *testing.T) {
	t.Parallel()
	f := &fakeGCS{bucket: "b", name: "n.txt"}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c := raceClient(t, srv, occ.WithDialect(gcsMedia))
	ctx := context.Background()
	url := srv.URL + "/storage/v1/b/b/o/n.txt?alt=media"

	_, err := occ.Create(ctx, c, url, counterDoc{N: 0})
	require.NoError(t, err)
	_, err = occ.Create(ctx, c, url, counterDoc{N: 9})
	var ce *occ.ConflictError
	require.ErrorAs(t, err, &ce, "ifGenerationMatch=0 refuses a duplicate create")
	assert.Equal(t, occ.KindDuplicate, ce.Kind)

	stale, err := occ.Get[counterDoc](ctx, c, url)
	require.NoError(t, err)
	assert.Equal(t, "1000", stale.Version, "the version is X-Goog-Generation")

	var st occ.Stats
	_, err = occ.Modify(ctx, c, url, func(v *counterDoc) error { v.N++; return nil }, occ.WithStats(&st))
	require.NoError(t, err)
	assert.Equal(t, "2000", st.Version, "the upload's answer has no generation header: read again")
	assert.Equal(t, 2, st.Reads)

	race(t, c, url, 8, 10)
	assertRefusedStale(t, staleWrite(ctx, c, url, stale))
	f.mu.Lock()
	defer f.mu.Unlock()
	assert.JSONEq(t, `{"n":81}`, string(f.content))
	assert.LessOrEqual(t, f.writes, 82, "concurrent calls may share a write (coalescing); never more writes than changes")
}

func TestDialectCloudStorageBytes(t *testing.T) {
	t.Parallel()
	f := &fakeGCS{bucket: "b", name: "log.txt", content: []byte("0"), ctype: "text/plain", generation: 7}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c := raceClient(t, srv, occ.WithDialect(gcsMedia))
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 5 {
				_, err := occ.ModifyBytes(ctx, c, srv.URL+"/storage/v1/b/b/o/log.txt?alt=media", func(b []byte) ([]byte, error) {
					n, err := strconv.Atoi(string(b))
					return []byte(strconv.Itoa(n + 1)), err
				})
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	assert.Equal(t, "20", string(f.content))
	assert.Equal(t, "text/plain", f.ctype, "the write keeps the read's content type")
}

func TestDialectCouchDBRevQuery(t *testing.T) {
	t.Parallel()
	f := &fakeCouch{id: "d", doc: map[string]any{"n": 0.0, "keep": "me"}, gen: 1}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c := raceClient(t, srv, occ.WithDialect(couchRev), occ.WithVersionField("/_rev"))
	ctx := context.Background()
	url := srv.URL + "/db/d"
	stale, err := occ.Get[counterDoc](ctx, c, url)
	require.NoError(t, err)

	race(t, c, url, 8, 10)
	assertRefusedStale(t, staleWrite(ctx, c, url, stale))
	f.mu.Lock()
	defer f.mu.Unlock()
	assert.Equal(t, 80.0, f.doc["n"])
	assert.Equal(t, "me", f.doc["keep"])
	assert.LessOrEqual(t, f.writes, 80, "concurrent calls may share a write (coalescing); never more writes than changes")
}

func TestDialectElasticsearch(t *testing.T) {
	t.Parallel()
	f := &fakeElastic{}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c := raceClient(t, srv, occ.WithDialect(elastic))
	ctx := context.Background()
	url := srv.URL + "/idx/_doc/1"

	_, err := occ.Create(ctx, c, url, counterDoc{N: 0})
	require.NoError(t, err)
	_, err = occ.Create(ctx, c, url, counterDoc{N: 3})
	var ce *occ.ConflictError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, occ.KindDuplicate, ce.Kind)

	stale, err := occ.Get[counterDoc](ctx, c, url)
	require.NoError(t, err)
	assert.Equal(t, "if_primary_term=1&if_seq_no=1", stale.Version)

	var st occ.Stats
	_, err = occ.Modify(ctx, c, url, func(v *counterDoc) error { v.N++; return nil }, occ.WithStats(&st))
	require.NoError(t, err)
	assert.Equal(t, "if_primary_term=1&if_seq_no=2", st.Version, "the write's answer gives the new version")
	assert.Equal(t, 1, st.Reads, "so no second read")

	race(t, c, url, 8, 10)
	assertRefusedStale(t, staleWrite(ctx, c, url, stale))
	f.mu.Lock()
	defer f.mu.Unlock()
	assert.JSONEq(t, `{"n":81}`, string(f.source))
	assert.LessOrEqual(t, f.writes, 82, "concurrent calls may share a write (coalescing); never more writes than changes")
}

func TestDialectGitHubContents(t *testing.T) {
	t.Parallel()
	long := make([]byte, 200) // base64 longer than a line
	for i := range long {
		long[i] = 'a' + byte(i%26)
	}
	doc, _ := json.Marshal(map[string]any{"n": 0, "pad": string(long)})
	f := &fakeGitHub{path: "state.json", content: doc}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c := raceClient(t, srv, occ.WithDialect(githubContents))
	ctx := context.Background()
	url := srv.URL + "/repos/o/r/contents/state.json"

	stale, err := occ.Get[counterDoc](ctx, c, url)
	require.NoError(t, err)
	assert.Equal(t, blobSHA(doc), stale.Version)

	var st occ.Stats
	_, err = occ.Modify(ctx, c, url, func(v *counterDoc) error { v.N++; return nil }, occ.WithStats(&st))
	require.NoError(t, err)
	assert.Equal(t, 1, st.Reads, "the sha comes from the write's answer")

	race(t, c, url, 4, 5)
	assertRefusedStale(t, staleWrite(ctx, c, url, stale))
	f.mu.Lock()
	defer f.mu.Unlock()
	var got map[string]any
	require.NoError(t, json.Unmarshal(f.content, &got))
	assert.Equal(t, 21.0, got["n"])
	assert.Equal(t, string(long), got["pad"])
	assert.LessOrEqual(t, f.writes, 21, "concurrent calls may share a write (coalescing); never more writes than changes")
}

// Consul answers a failed check-and-set with 200 false: the Dialect's
// Decode makes it a conflict, refreshed and retried like a 412.
func TestDialectConsulCAS(t *testing.T) {
	t.Parallel()
	f := &fakeConsul{}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c := raceClient(t, srv, occ.WithDialect(consulKV))
	ctx := context.Background()
	url := srv.URL + "/v1/kv/k"

	_, err := occ.Create(ctx, c, url, counterDoc{N: 0})
	require.NoError(t, err)
	_, err = occ.Create(ctx, c, url, counterDoc{N: 0})
	var ce *occ.ConflictError
	require.ErrorAs(t, err, &ce, "cas=0 refuses a duplicate create")
	assert.Equal(t, occ.KindDuplicate, ce.Kind)
	assert.Equal(t, http.StatusOK, ce.StatusCode)
	assert.Equal(t, http.MethodPut, ce.Method)

	stale, err := occ.Get[counterDoc](ctx, c, url)
	require.NoError(t, err)
	race(t, c, url, 8, 10)
	assertRefusedStale(t, staleWrite(ctx, c, url, stale))
	f.mu.Lock()
	defer f.mu.Unlock()
	assert.JSONEq(t, `{"n":80}`, string(f.value))
	assert.LessOrEqual(t, f.writes, 81, "concurrent calls may share a write (coalescing); never more writes than changes")
}

// A POST upload whose answer is lost is not resent (its precondition is in
// the query, which occ does not read as one): the call says the outcome is
// unknown, and the object holds the change once.
func TestDialectLostUploadIsAmbiguous(t *testing.T) {
	t.Parallel()
	f := &fakeGCS{bucket: "b", name: "n", content: []byte("1"), ctype: "text/plain", generation: 1}
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.ServeHTTP(w, r)
		if r.Method == http.MethodPost {
			once.Do(func() { panic(http.ErrAbortHandler) }) // the upload landed; its answer is lost
		}
	}))
	defer srv.Close()
	c := raceClient(t, srv, occ.WithDialect(gcsMedia))
	_, err := occ.ModifyBytes(context.Background(), c, srv.URL+"/storage/v1/b/b/o/n?alt=media",
		func([]byte) ([]byte, error) { return []byte("2"), nil })
	require.ErrorIs(t, err, occ.ErrAmbiguous)
	f.mu.Lock()
	defer f.mu.Unlock()
	assert.Equal(t, "2", string(f.content))
	assert.Equal(t, 1, f.writes)
}
