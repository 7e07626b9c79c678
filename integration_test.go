package occ_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/occ-go/occ"
	"github.com/occ-go/occ/occtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type counter struct {
	Count   int `json:"count"`
	Version int `json:"version,omitempty"`
}

// noWait makes conflict retries immediate: the tests below race real
// goroutines, and the library's backoff is tested elsewhere with a fake
// clock.
var noWait = occ.BackoffFunc(func(int) time.Duration { return 0 })

// TestConcurrentWritersLoseNoUpdate races 16 writers making 25 increments
// each on one resource, for every way a server can keep versions.
func TestConcurrentWritersLoseNoUpdate(t *testing.T) {
	const writers, increments = 16, 25
	cases := []struct {
		name   string
		server []occtest.Option
		client []occ.CallOption
	}{
		{"strong etag", nil, nil},
		{"weak etag compared weakly", []occtest.Option{occtest.WithWeakETags(true), occtest.WithWeakIfMatch(true)},
			[]occ.CallOption{occ.WithWeakETags(true)}},
		{"last-modified", []occtest.Option{occtest.WithoutETags(), occtest.WithLastModified(true)}, nil},
		{"version field", []occtest.Option{occtest.WithoutETags(), occtest.WithVersionField("/version")},
			[]occ.CallOption{occ.WithVersionField("/version")}},
		{"version field as If-Match", []occtest.Option{occtest.WithVersionField("/version")},
			[]occ.CallOption{occ.WithVersionField("/version"), occ.WithVersionIfMatch(true)}},
		{"merge patch", nil, []occ.CallOption{occ.WithWriteMode(occ.WriteMergePatch)}},
		{"version field, merge patch", []occtest.Option{occtest.WithoutETags(), occtest.WithVersionField("/version")},
			[]occ.CallOption{occ.WithVersionField("/version"), occ.WithWriteMode(occ.WriteMergePatch)}},
		{"version field, json patch", []occtest.Option{occtest.WithoutETags(), occtest.WithVersionField("/version")},
			[]occ.CallOption{occ.WithVersionField("/version"), occ.WithWriteMode(occ.WriteJSONPatch)}},
		{"json patch", []occtest.Option{occtest.WithoutETags(), occtest.WithLastModified(true)},
			[]occ.CallOption{occ.WithWriteMode(occ.WriteJSONPatch)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := occtest.NewServer(tc.server...)
			defer srv.Close()
			require.NoError(t, srv.Set("/counters/1", []byte(`{"count":0,"note":"kept"}`)))
			c, err := occ.New(occ.WithHTTPClient(srv.Client()), occ.WithMaxAttempts(10_000),
				occ.WithBackoff(noWait), occ.WithRetryBudgets(nil, nil))
			require.NoError(t, err)
			var wg sync.WaitGroup
			var conflicts int64
			var mu sync.Mutex
			for range writers {
				wg.Go(func() {
					for range increments {
						var st occ.Stats
						opts := append([]occ.CallOption{occ.WithStats(&st)}, tc.client...)
						_, err := occ.Modify(context.Background(), c, srv.URL+"/counters/1",
							func(v *counter) error { v.Count++; return nil }, opts...)
						assert.NoError(t, err)
						mu.Lock()
						conflicts += int64(st.Conflicts)
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			doc, _, ok := srv.Get("/counters/1")
			require.True(t, ok)
			var got map[string]any
			require.NoError(t, json.Unmarshal(doc, &got))
			assert.EqualValues(t, writers*increments, got["count"], "every increment landed once")
			assert.Equal(t, "kept", got["note"], "members the type does not model survive")
			assert.LessOrEqual(t, srv.Writes(), writers*increments, "coalesced calls share writes")
			t.Logf("%d conflicts resolved, %d writes", conflicts, srv.Writes())
		})
	}
}

func TestCreateIfAbsentAndDuplicates(t *testing.T) {
	srv := occtest.NewServer(occtest.WithUnique("/email"))
	defer srv.Close()
	c, err := occ.New(occ.WithHTTPClient(srv.Client()))
	require.NoError(t, err)
	ctx := context.Background()
	type user struct {
		Email string `json:"email"`
	}

	v, err := occ.Create(ctx, c, srv.URL+"/users/ann", user{Email: "ann@example.com"})
	require.NoError(t, err)
	assert.NotEmpty(t, v.ETag)

	_, err = occ.Create(ctx, c, srv.URL+"/users/ann", user{Email: "ann@example.com"})
	var ce *occ.ConflictError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, occ.KindDuplicate, ce.Kind, "412 to If-None-Match: * means it exists")

	var st occ.Stats
	got, err := occ.Create(ctx, c, srv.URL+"/users/ann", user{Email: "other@example.com"},
		occ.WithAdoptExisting(true), occ.WithStats(&st))
	require.NoError(t, err)
	assert.True(t, st.Adopted)
	assert.Equal(t, "ann@example.com", got.Value.Email, "the existing document, not ours")

	_, err = occ.Create(ctx, c, srv.URL+"/users", user{Email: "ann@example.com"},
		occ.WithCreateMethod(http.MethodPost))
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, occ.KindDuplicate, ce.Kind, "unique email")
	assert.Equal(t, 1, ce.Attempts)
}

func TestPostCreateSurvivesLostAnswerWithoutDuplicating(t *testing.T) {
	for _, honoured := range []bool{true, false} {
		srv := occtest.NewServer()
		defer srv.Close()
		srv.Inject(occtest.Fault{Method: http.MethodPost, ResetAfterWrite: true})
		c, err := occ.New(occ.WithHTTPClient(srv.Client()), occ.WithTransientRetries(3, noWait),
			occ.WithIdempotencyKeysHonoured(honoured))
		require.NoError(t, err)
		v, err := occ.Create(context.Background(), c, srv.URL+"/orders", map[string]any{"item": "book"},
			occ.WithCreateMethod(http.MethodPost))
		assert.Equal(t, 1, srv.Writes(), "never two orders")
		if !honoured {
			assert.ErrorIs(t, err, occ.ErrAmbiguous, "not resent, and not acknowledged")
			continue
		}
		require.NoError(t, err, "the resend with the same key was answered by the first")
		_, _, ok := srv.Get(mustPath(t, v.URL))
		assert.True(t, ok)
	}
}

func TestStateConflictIsNotRetried(t *testing.T) {
	srv := occtest.NewServer(occtest.WithTransitions("/status", map[string][]string{
		"new": {"shipped", "cancelled"}, "shipped": {"delivered"},
	}))
	defer srv.Close()
	require.NoError(t, srv.Set("/orders/1", []byte(`{"status":"shipped"}`)))
	c, err := occ.New(occ.WithHTTPClient(srv.Client()))
	require.NoError(t, err)
	type order struct {
		Status string `json:"status"`
	}
	_, err = occ.Modify(context.Background(), c, srv.URL+"/orders/1", func(o *order) error {
		o.Status = "cancelled"
		return nil
	})
	var ce *occ.ConflictError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, occ.KindState, ce.Kind)
	assert.False(t, ce.Retryable())
	assert.Equal(t, 0, srv.Writes())
	puts := 0
	for _, r := range srv.Requests() {
		if r.Method == http.MethodPut {
			puts++
		}
	}
	assert.Equal(t, 1, puts, "never retried as-is")
}

func TestConflictCarryingCurrentSkipsTheRead(t *testing.T) {
	srv := occtest.NewServer(occtest.WithCurrentInConflict(true))
	defer srv.Close()
	require.NoError(t, srv.Set("/counters/1", []byte(`{"count":0}`)))
	once := sync.Once{}
	srv.BeforeWrite(func(*http.Request) {
		once.Do(func() {
			_ = srv.Update("/counters/1", func(doc map[string]any) { doc["count"] = 10.0 })
		})
	})
	c, err := occ.New(occ.WithHTTPClient(srv.Client()), occ.WithBackoff(noWait))
	require.NoError(t, err)
	var st occ.Stats
	got, err := occ.Modify(context.Background(), c, srv.URL+"/counters/1",
		func(v *counter) error { v.Count++; return nil }, occ.WithStats(&st))
	require.NoError(t, err)
	assert.Equal(t, 11, got.Count)
	assert.Equal(t, 1, st.Reads, "the 412 carried the current document")
	assert.Equal(t, 1, st.Conflicts)
}

// mustPath returns the path of a URL.
func mustPath(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err)
	return u.Path
}

func TestCreateWhoseAnswerWasLostIsNotReportedAsDuplicate(t *testing.T) {
	srv := occtest.NewServer()
	defer srv.Close()
	srv.Inject(occtest.Fault{Method: http.MethodPut, ResetAfterWrite: true})
	c, err := occ.New(occ.WithHTTPClient(srv.Client()), occ.WithTransientRetries(2, noWait))
	require.NoError(t, err)
	v, err := occ.Create(context.Background(), c, srv.URL+"/users/bo", map[string]string{"email": "bo@example.com"})
	require.NoError(t, err, "the 412 met by the resend is our own create")
	assert.Equal(t, "bo@example.com", v.Value["email"])
	assert.Equal(t, 1, srv.Writes())

	// Someone else's document at that URL is still a duplicate.
	srv.Inject(occtest.Fault{Method: http.MethodPut, Reset: true})
	_, err = occ.Create(context.Background(), c, srv.URL+"/users/bo", map[string]string{"email": "other@example.com"})
	assert.ErrorIs(t, err, occ.ErrDuplicate)
}

type profile struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Bio   string `json:"bio"`
}

// Two people edit one profile from the same version through forms: one
// changes the name, the other the bio.
func TestPutThreeWayKeepsBothEditsAndLastWriteWinsLosesOne(t *testing.T) {
	cases := []struct {
		name     string
		merger   occ.Merger
		wantName string
	}{
		{"three-way", occ.ThreeWay(), "Ann B."},
		{"last-write-wins", occ.LastWriteWins(), "Ann"}, // the first edit is lost, as documented
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := occtest.NewServer()
			defer srv.Close()
			require.NoError(t, srv.Set("/profiles/1", []byte(`{"name":"Ann","email":"a@x.io","bio":"","plan":"pro"}`)))
			c, err := occ.New(occ.WithHTTPClient(srv.Client()), occ.WithMerger(tc.merger), occ.WithBackoff(noWait))
			require.NoError(t, err)
			ctx, url := context.Background(), srv.URL+"/profiles/1"
			base, err := occ.Get[profile](ctx, c, url)
			require.NoError(t, err)

			first := base.Value
			first.Name = "Ann B."
			_, err = occ.Put(ctx, c, url, base, first)
			require.NoError(t, err)

			second := base.Value
			second.Bio = "climber"
			var st occ.Stats
			got, err := occ.Put(ctx, c, url, base, second, occ.WithStats(&st))
			require.NoError(t, err)
			assert.Equal(t, 1, st.Conflicts, "the second form was based on a stale version")
			assert.Equal(t, profile{Name: tc.wantName, Email: "a@x.io", Bio: "climber"}, got.Value)
			doc, _, _ := srv.Get("/profiles/1")
			assert.Contains(t, string(doc), `"plan":"pro"`, "members the form does not model survive")
		})
	}
}

func TestPutThreeWayReportsTrueConflictsWithoutWriting(t *testing.T) {
	srv := occtest.NewServer()
	defer srv.Close()
	require.NoError(t, srv.Set("/profiles/1", []byte(`{"name":"Ann","email":"a@x.io","bio":""}`)))
	c, err := occ.New(occ.WithHTTPClient(srv.Client()))
	require.NoError(t, err)
	ctx, url := context.Background(), srv.URL+"/profiles/1"
	base, err := occ.Get[profile](ctx, c, url)
	require.NoError(t, err)
	theirs, mine := base.Value, base.Value
	theirs.Email, mine.Email = "ann@work.io", "ann@home.io"
	_, err = occ.Put(ctx, c, url, base, theirs)
	require.NoError(t, err)
	writes := srv.Writes()

	_, err = occ.Put(ctx, c, url, base, mine)
	var mce *occ.MergeConflictError
	require.ErrorAs(t, err, &mce)
	assert.ErrorIs(t, err, occ.ErrConflict)
	require.Len(t, mce.Conflicts, 1)
	pc := mce.Conflicts[0]
	assert.Equal(t, "/email", pc.Path)
	assert.JSONEq(t, `"a@x.io"`, string(pc.Base))
	assert.JSONEq(t, `"ann@home.io"`, string(pc.Mine))
	assert.JSONEq(t, `"ann@work.io"`, string(pc.Theirs))
	assert.Equal(t, writes, srv.Writes(), "nothing written on a true conflict")

	// Per call, a tie-break resolves it.
	got, err := occ.Put(ctx, c, url, base, mine, occ.WithMerger(occ.ThreeWay(occ.PreferMine())))
	require.NoError(t, err)
	assert.Equal(t, "ann@home.io", got.Value.Email)
}

func TestPutWithAMergeCallback(t *testing.T) {
	srv := occtest.NewServer()
	defer srv.Close()
	require.NoError(t, srv.Set("/docs/1", []byte(`{"n":1}`)))
	c, err := occ.New(occ.WithHTTPClient(srv.Client()))
	require.NoError(t, err)
	ctx, url := context.Background(), srv.URL+"/docs/1"
	base, err := occ.GetJSON(ctx, c, url)
	require.NoError(t, err)
	require.NoError(t, srv.Set("/docs/1", []byte(`{"n":5}`)))
	var calls int
	sum := occ.MergeFunc(func(_ context.Context, b, m, th []byte) ([]byte, error) {
		calls++
		var bv, mv, tv struct{ N int }
		_ = json.Unmarshal(b, &bv)
		_ = json.Unmarshal(m, &mv)
		_ = json.Unmarshal(th, &tv)
		return json.Marshal(map[string]int{"n": tv.N + mv.N - bv.N})
	})
	got, err := occ.PutJSON(ctx, c, url, base, json.RawMessage(`{"n":3}`), occ.WithMerger(sum))
	require.NoError(t, err)
	assert.JSONEq(t, `{"n":7}`, string(got.Value), "both +2 and +4 kept")
	assert.Equal(t, 1, calls)
}

func TestMergePatchWritesFallBackToJSONPatchForNulls(t *testing.T) {
	srv := occtest.NewServer()
	defer srv.Close()
	require.NoError(t, srv.Set("/things/1", []byte(`{"a":1,"b":"x"}`)))
	c, err := occ.New(occ.WithHTTPClient(srv.Client()), occ.WithWriteMode(occ.WriteMergePatch))
	require.NoError(t, err)
	ctx, url := context.Background(), srv.URL+"/things/1"
	type thing struct {
		A int     `json:"a"`
		B *string `json:"b"`
	}
	_, err = occ.Modify(ctx, c, url, func(v *thing) error { v.A = 2; return nil })
	require.NoError(t, err)
	_, err = occ.Modify(ctx, c, url, func(v *thing) error { v.B = nil; return nil })
	require.NoError(t, err)
	doc, _, _ := srv.Get("/things/1")
	assert.JSONEq(t, `{"a":2,"b":null}`, string(doc), "null kept, not removed")
	var types []string
	for _, r := range srv.Requests() {
		if r.Method == http.MethodPatch {
			types = append(types, r.Header.Get("Content-Type"))
		}
	}
	assert.Equal(t, []string{"application/merge-patch+json", "application/json-patch+json"}, types)
}

// Error answers are read through a limit and drained, so the connection is
// reused: many failed calls, one connection.
func TestErrorAnswersDoNotLeakConnections(t *testing.T) {
	big := strings.Repeat("x", 100<<10) // beyond the 64 KiB kept, within the drain
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusConflict)
		_, _ = io.WriteString(w, "email already exists "+big)
	}))
	var conns atomic.Int32
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c, err := occ.New(occ.WithHTTPClient(srv.Client()))
	require.NoError(t, err)
	for range 20 {
		_, err := occ.Create(context.Background(), c, srv.URL+"/users/x", map[string]string{"a": "b"})
		var ce *occ.ConflictError
		require.ErrorAs(t, err, &ce)
		assert.True(t, ce.BodyTruncated)
	}
	assert.EqualValues(t, 1, conns.Load())
}

// Cancelling the context while the server sits on a request returns at
// once with the context's error, and writes nothing.
func TestCancelWhileTheServerHangs(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	store := occtest.NewStore()
	require.NoError(t, store.Set("/counters/1", []byte(`{"count":0}`)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			close(started)
			<-release
		}
		store.ServeHTTP(w, r)
	}))
	defer srv.Close()
	defer close(release)
	c, err := occ.New(occ.WithHTTPClient(srv.Client()))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-started
		cancel()
	}()
	_, err = occ.Modify(ctx, c, srv.URL+"/counters/1", func(v *counter) error { v.Count++; return nil })
	assert.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, store.Writes())
}

// Over a real connection: the write lands, its answer is lost to a reset.
// net/http must not resend it behind occ's back (it would, for a request
// with an Idempotency-Key on a reused connection), or the 412 that follows
// would look like someone else's write and the change would apply twice.
func TestLostAnswerOverARealConnectionAppliesOnce(t *testing.T) {
	for _, honours := range []bool{true, false} {
		srv := occtest.New(t, occtest.WithIdempotencyKeys(honours))
		require.NoError(t, srv.Set("/counters/1", []byte(`{"count":5}`)))
		srv.Inject(occtest.Fault{Method: http.MethodPut, ResetAfterWrite: true})
		c, err := occ.New(occ.WithHTTPClient(srv.Client()), occ.WithTransientRetries(2, noWait), occ.WithBackoff(noWait))
		require.NoError(t, err)
		got, err := occ.Modify(context.Background(), c, srv.URL+"/counters/1", func(v *counter) error { v.Count++; return nil })
		if honours {
			require.NoError(t, err, "the resend with the same key was answered with the first answer")
			assert.Equal(t, 6, got.Count)
		} else {
			assert.ErrorIs(t, err, occ.ErrAmbiguous, "the resend met 412: occ cannot know it was its own write")
		}
		assert.Equal(t, 1, srv.Writes())
		doc, _, _ := srv.Get("/counters/1")
		assert.JSONEq(t, `{"count":6}`, string(doc), "applied once")
	}
}
