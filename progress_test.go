package occ_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/occ-go/occ"
	"github.com/occ-go/occ/occtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bump is another writer's increment, straight into the store.
func bump(srv *occtest.Server) func(*http.Request) {
	return func(*http.Request) {
		_ = srv.Update("/counters/1", func(doc map[string]any) {
			n, _ := doc["count"].(json.Number).Int64()
			doc["count"] = n + 1
		})
	}
}

func TestAHotResourceMakingProgressIsNeverGivenUp(t *testing.T) {
	srv := occtest.New(t)
	require.NoError(t, srv.Set("/counters/1", []byte(`{"count":0}`)))
	srv.BeforeNextWrites(30, bump(srv)) // another writer commits before each of occ's next 30 writes
	tight, err := occ.NewBudget(1, 0)
	require.NoError(t, err)
	c, err := occ.New(occ.WithHTTPClient(srv.Client()), occ.WithBackoff(noWait), occ.WithRetryBudgets(tight, nil))
	require.NoError(t, err)
	var st occ.Stats
	got, err := occ.Modify(context.Background(), c, srv.URL+"/counters/1", func(v *counter) error { v.Count++; return nil },
		occ.WithStats(&st))
	require.NoError(t, err, "every conflict found the resource moved on: progress, not failure")
	assert.Equal(t, 31, got.Count)
	assert.Equal(t, 31, st.Attempts)
	assert.Equal(t, 1.0, tight.Tokens(), "progress spends no budget")
}

func TestAServerThatRefusesEveryWriteStillFailsFast(t *testing.T) {
	always412 := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"1"`)
		if r.Method != http.MethodGet {
			w.WriteHeader(http.StatusPreconditionFailed)
			return
		}
		_, _ = w.Write([]byte(`{"count":1}`))
	})
	srv := newServer(t, always412)
	c, err := occ.New(occ.WithBackoff(noWait))
	require.NoError(t, err)
	var st occ.Stats
	_, err = occ.Modify(context.Background(), c, srv.URL, func(v *counter) error { v.Count++; return nil }, occ.WithStats(&st))
	assert.ErrorIs(t, err, occ.ErrAttemptsExhausted)
	assert.ErrorIs(t, err, occ.ErrPreconditionFailed)
	assert.Equal(t, 11, st.Attempts, "the first write and 10 retries without progress")

	empty, err := occ.NewBudget(1, 0)
	require.NoError(t, err)
	c, err = occ.New(occ.WithBackoff(noWait), occ.WithRetryBudgets(empty, nil))
	require.NoError(t, err)
	_, err = occ.Modify(context.Background(), c, srv.URL, func(v *counter) error { v.Count++; return nil })
	assert.ErrorIs(t, err, occ.ErrBudgetExhausted, "a stalled retry spends the budget")
}

// newServer starts h on loopback for the test.
func newServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}
