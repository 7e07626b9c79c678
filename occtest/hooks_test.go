package occtest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/occ-go/occ"
	"github.com/occ-go/occ/occtest"
)

// TestBeforeNextWrites: a counted hook runs before exactly n writes, shared
// by concurrent writers, then is gone; faulted and replayed requests do not
// count as writes.
func TestBeforeNextWrites(t *testing.T) {
	t.Parallel()
	st := occtest.NewStore()
	c := &http.Client{Transport: occtest.Transport(st)}
	var calls atomic.Int32
	st.BeforeNextWrites(3, func(*http.Request) { calls.Add(1) })

	st.Inject(occtest.Fault{Method: "POST", Status: 503})
	post(t, c, "k1") // faulted before processing: no write
	post(t, c, "k1") // the first write
	post(t, c, "k1") // a replay: no write
	assert.Equal(t, int32(1), calls.Load())

	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			resp, err := c.Do(httptestRequest(t, "POST", "/orders", `{"n":1}`))
			if err == nil {
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int32(3), calls.Load(), "exactly n calls across concurrent writes")
	assert.Equal(t, 9, st.Writes())

	st.BeforeNextWrite(func(*http.Request) { calls.Add(100) })
	st.BeforeNextWrite(nil) // removes it
	post(t, c, "k2")
	assert.Equal(t, int32(3), calls.Load())
	assert.Panics(t, func() { st.BeforeNextWrites(0, func(*http.Request) {}) })
}

// post sends one POST /orders with an Idempotency-Key.
func post(t *testing.T, c *http.Client, key string) {
	t.Helper()
	req := httptestRequest(t, "POST", "/orders", `{"n":1}`)
	req.Header.Set("Idempotency-Key", key)
	resp, err := c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
}

// TestHookShapes is issue 10's case: the package doc used to wire a
// competing writer with BeforeWrite, which runs before every write and so
// starves occ; BeforeNextWrite models one concurrent writer, and occ lands
// both updates.
func TestHookShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		install func(srv *occtest.Server, fn func(*http.Request))
		wantErr error
		want    string
	}{
		{"BeforeWrite competes before every attempt", func(srv *occtest.Server, fn func(*http.Request)) { srv.BeforeWrite(fn) },
			occ.ErrAttemptsExhausted, ""},
		{"BeforeNextWrite competes once", func(srv *occtest.Server, fn func(*http.Request)) { srv.BeforeNextWrite(fn) },
			nil, `{"count":6}`},
		{"BeforeNextWrites competes twice", func(srv *occtest.Server, fn func(*http.Request)) { srv.BeforeNextWrites(2, fn) },
			nil, `{"count":11}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, occtest.WithVersionField("/version"))
			require.NoError(t, srv.Set("/items/1", []byte(`{"count":0}`)))
			tt.install(srv, func(*http.Request) {
				_ = srv.Update("/items/1", func(doc map[string]any) {
					n, _ := doc["count"].(json.Number).Int64()
					doc["count"] = n + 5
				})
			})
			c, err := occ.New(occ.WithHTTPClient(srv.Client()), occ.WithMaxAttempts(3), occ.WithBackoff(occ.BackoffFunc(func(int) time.Duration { return 0 })))
			require.NoError(t, err)
			_, err = occ.Modify(context.Background(), c, srv.URL+"/items/1",
				func(v *struct {
					Count int `json:"count"`
				}) error {
					v.Count++
					return nil
				})
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.Zero(t, srv.Writes(), "no write of the client landed")
				return
			}
			require.NoError(t, err)
			doc, _, _ := srv.Get("/items/1")
			got := docOf(t, string(doc))
			delete(got, "version")
			want := docOf(t, tt.want)
			assert.Equal(t, want, got, "both writers' increments landed")
			assert.Equal(t, 1, srv.Writes())
		})
	}
}
