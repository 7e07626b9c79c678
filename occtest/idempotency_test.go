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
