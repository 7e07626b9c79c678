package occtest_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/occ-go/occ/occtest"
)

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		second     string // body of the repeated request
		key2       string // key of the repeated request
		status     int
		code       string
		wantWrites int
	}{
		{"same key, same body replays", `{"item":"tea"}`, "k1", 201, "", 1},
		{"same key, other body is 422", `{"item":"milk"}`, "k1", 422, "idempotency_key_mismatch", 1},
		{"other key creates again", `{"item":"tea"}`, "k2", 201, "", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t)
			first, body1 := send(t, srv, "POST", "/orders", `{"item":"tea"}`, "Idempotency-Key", "k1")
			require.Equal(t, 201, first.StatusCode, body1)
			resp, body := send(t, srv, "POST", "/orders", tt.second, "Idempotency-Key", tt.key2)
			require.Equal(t, tt.status, resp.StatusCode, body)
			assert.Equal(t, tt.wantWrites, srv.Writes())
			switch {
			case tt.code != "":
				assert.Equal(t, tt.code, problemOf(t, resp, body)["code"])
			case tt.wantWrites == 1:
				assert.Equal(t, body1, body)
				for _, h := range []string{"Location", "ETag", "Content-Type", "Content-Length"} {
					assert.Equal(t, first.Header.Get(h), resp.Header.Get(h), h)
				}
			default:
				assert.Equal(t, "/orders/2", resp.Header.Get("Location"))
			}
		})
	}
}

func TestIdempotencyKeyReplaysErrors(t *testing.T) {
	t.Parallel()
	srv := newServer(t, occtest.WithUnique("/email"))
	require.NoError(t, srv.Set("/users/1", []byte(`{"email":"a@x"}`)))
	first, body1 := send(t, srv, "POST", "/users", `{"email":"a@x"}`, "Idempotency-Key", "k")
	require.Equal(t, 409, first.StatusCode)
	require.NoError(t, srv.Set("/users/1", []byte(`{"email":"b@x"}`)))
	resp, body := send(t, srv, "POST", "/users", `{"email":"a@x"}`, "Idempotency-Key", "k")
	assert.Equal(t, 409, resp.StatusCode, "the stored answer is replayed, not re-evaluated")
	assert.Equal(t, body1, body)
	assert.Zero(t, srv.Writes())
}

func TestIdempotencyKeyInProgress(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	srv.BeforeWrite(func(*http.Request) {
		once.Do(func() {
			close(entered)
			<-release
		})
	})
	firstStatus := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("POST", srv.URL+"/orders", strings.NewReader(`{"n":1}`))
		req.Header.Set("Idempotency-Key", "k")
		resp, err := srv.Client().Do(req)
		if err != nil {
			firstStatus <- 0
			return
		}
		resp.Body.Close()
		firstStatus <- resp.StatusCode
	}()
	<-entered
	resp, body := send(t, srv, "POST", "/orders", `{"n":1}`, "Idempotency-Key", "k")
	close(release)
	require.Equal(t, 409, resp.StatusCode, body)
	p := problemOf(t, resp, body)
	assert.Equal(t, "idempotency_in_progress", p["code"])
	assert.Equal(t, "a request with this Idempotency-Key is still being processed", p["detail"])
	assert.Equal(t, 201, <-firstStatus)
	assert.Equal(t, 1, srv.Writes())
}

func TestIdempotencyKeyLostResponse(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	srv.Inject(occtest.Fault{Method: "POST", ResetAfterWrite: true})
	req, err := http.NewRequest("POST", srv.URL+"/orders", strings.NewReader(`{"n":1}`))
	require.NoError(t, err)
	req.Header.Set("Idempotency-Key", "k")
	resp, err := srv.Client().Do(req)
	if resp != nil {
		resp.Body.Close()
	}
	require.Error(t, err, "the response is lost")
	require.Equal(t, 1, srv.Writes(), "but the write landed")

	resp, body := send(t, srv, "POST", "/orders", `{"n":1}`, "Idempotency-Key", "k")
	assert.Equal(t, 201, resp.StatusCode, body)
	assert.Equal(t, "/orders/1", resp.Header.Get("Location"))
	assert.Equal(t, 1, srv.Writes(), "the retry is a replay, not a second order")
}

func TestIdempotencyKeyAbandoned(t *testing.T) {
	t.Parallel()
	st := occtest.NewStore()
	c := &http.Client{Transport: occtest.Transport(st)}
	calls := 0
	st.BeforeWrite(func(*http.Request) {
		calls++
		if calls == 1 {
			panic(http.ErrAbortHandler)
		}
	})
	post := func() (*http.Response, error) {
		req := httptestRequest(t, "POST", "/orders", `{"n":1}`)
		req.Header.Set("Idempotency-Key", "k")
		return c.Do(req)
	}
	_, err := post()
	require.ErrorIs(t, err, occtest.ErrConnectionReset)
	resp, err := post()
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 201, resp.StatusCode, "an aborted request releases its key")
}

// TestIdempotencyKeyEveryWrite: every write method honours the key. A
// repeat is answered with the first answer and applies nothing again, even
// when another writer moved the resource on in between.
func TestIdempotencyKeyEveryWrite(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, method, body string
		hdr                []string
		status             int
		after              string // the document after the first request
	}{
		{"PUT", "PUT", `{"n":2}`, []string{"If-Match", `"1"`}, 200, `{"n":2}`},
		{"merge PATCH", "PATCH", `{"m":1}`, []string{"Content-Type", "application/merge-patch+json"}, 200, `{"n":1,"m":1}`},
		{"JSON PATCH", "PATCH", `[{"op":"add","path":"/m","value":1}]`, []string{"Content-Type", "application/json-patch+json"}, 200, `{"n":1,"m":1}`},
		{"DELETE", "DELETE", "", []string{"If-Match", `"1"`}, 204, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t)
			require.NoError(t, srv.Set("/a", []byte(`{"n":1}`)))
			hdr := append([]string{"Idempotency-Key", "k"}, tt.hdr...)
			first, body1 := send(t, srv, tt.method, "/a", tt.body, hdr...)
			require.Equal(t, tt.status, first.StatusCode, body1)
			doc, _, ok := srv.Get("/a")
			if tt.after == "" {
				require.False(t, ok)
			} else {
				require.JSONEq(t, tt.after, string(doc))
			}
			require.NoError(t, srv.Set("/a", []byte(`{"n":7}`))) // another writer
			resp, body := send(t, srv, tt.method, "/a", tt.body, hdr...)
			assert.Equal(t, tt.status, resp.StatusCode, "replayed, not re-evaluated: %s", body)
			assert.Equal(t, body1, body)
			assert.Equal(t, first.Header.Get("ETag"), resp.Header.Get("ETag"))
			assert.Equal(t, 1, srv.Writes(), "the repeat applies nothing")
			doc, _, _ = srv.Get("/a")
			assert.JSONEq(t, `{"n":7}`, string(doc), "the other writer's document stands")
		})
	}
}

// TestIdempotencyKeyScope: a key is scoped to method and path, and a
// failed precondition is an answer like any other, replayed as such.
func TestIdempotencyKeyScope(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	require.NoError(t, srv.Set("/a", []byte(`{"n":1}`)))
	require.NoError(t, srv.Set("/b", []byte(`{"n":1}`)))
	runSteps(t, srv, []step{
		{name: "stale PUT is 412", method: "PUT", path: "/a", body: `{"n":2}`, hdr: []string{"Idempotency-Key", "k", "If-Match", `"9"`}, status: 412},
		{name: "its repeat replays 412", method: "PUT", path: "/a", body: `{"n":2}`, hdr: []string{"Idempotency-Key", "k", "If-Match", `"9"`}, status: 412},
		{name: "same key, other path", method: "PUT", path: "/b", body: `{"n":2}`, hdr: []string{"Idempotency-Key", "k"}, status: 200},
		{name: "same key, other method", method: "PATCH", path: "/a", body: `{"n":3}`, hdr: []string{"Idempotency-Key", "k", "Content-Type", "application/merge-patch+json"}, status: 200},
		{name: "same key and path, other body", method: "PUT", path: "/a", body: `{"n":4}`, hdr: []string{"Idempotency-Key", "k", "If-Match", `"9"`}, status: 422, code: "idempotency_key_mismatch"},
	})
	assert.Equal(t, 2, srv.Writes())
}

// TestIdempotencyKeysIgnored: a store that ignores the header processes
// every repeat afresh, as many servers do.
func TestIdempotencyKeysIgnored(t *testing.T) {
	t.Parallel()
	srv := newServer(t, occtest.WithIdempotencyKeys(false))
	require.NoError(t, srv.Set("/a", []byte(`{"n":1}`)))
	runSteps(t, srv, []step{
		{name: "POST creates", method: "POST", path: "/orders", body: `{"n":1}`, hdr: []string{"Idempotency-Key", "k"}, status: 201},
		{name: "its repeat creates again", method: "POST", path: "/orders", body: `{"n":1}`, hdr: []string{"Idempotency-Key", "k"}, status: 201},
		{name: "other body, same key: no 422", method: "POST", path: "/orders", body: `{"n":2}`, hdr: []string{"Idempotency-Key", "k"}, status: 201},
		{name: "PUT applies", method: "PUT", path: "/a", body: `{"n":2}`, hdr: []string{"Idempotency-Key", "p", "If-Match", `"1"`}, status: 200},
		{name: "its repeat is evaluated again", method: "PUT", path: "/a", body: `{"n":2}`, hdr: []string{"Idempotency-Key", "p", "If-Match", `"1"`}, status: 412},
	})
	assert.Equal(t, 4, srv.Writes())
	_, _, ok := srv.Get("/orders/3")
	assert.True(t, ok, "three orders from one key")
}

// TestIdempotencyKeyInProgressPut: a repeat of a PUT still being processed
// is answered 409 busy, not processed a second time.
func TestIdempotencyKeyInProgressPut(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	require.NoError(t, srv.Set("/a", []byte(`{"n":1}`)))
	entered, release := make(chan struct{}), make(chan struct{})
	srv.BeforeNextWrite(func(*http.Request) {
		close(entered)
		<-release
	})
	firstStatus := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("PUT", srv.URL+"/a", strings.NewReader(`{"n":2}`))
		req.Header.Set("Idempotency-Key", "k")
		resp, err := srv.Client().Do(req)
		if err != nil {
			firstStatus <- 0
			return
		}
		resp.Body.Close()
		firstStatus <- resp.StatusCode
	}()
	<-entered
	resp, body := send(t, srv, "PUT", "/a", `{"n":2}`, "Idempotency-Key", "k")
	close(release)
	require.Equal(t, 409, resp.StatusCode, body)
	assert.Equal(t, "idempotency_in_progress", problemOf(t, resp, body)["code"])
	assert.Equal(t, 200, <-firstStatus)
	assert.Equal(t, 1, srv.Writes())
}
