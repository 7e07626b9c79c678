package occtest_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/occ-go/occ/occtest"
)

// serve sends one request straight to st and returns its status.
func serve(st *occtest.Store, method, path, body string, hdr ...string) int {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	st.ServeHTTP(rec, r)
	return rec.Code
}

func TestRequestLogKeepsTheMostRecent(t *testing.T) {
	t.Parallel()
	st := occtest.NewStore(occtest.WithRequestLog(3))
	require.NoError(t, st.Set("/a", []byte(`{"n":0}`)))
	tags := []string{`"1"`, `"2"`, `"3"`, `"1"`, `"4"`} // the fourth is stale
	for i, tag := range tags {
		want := http.StatusOK
		if i == 3 {
			want = http.StatusPreconditionFailed // its status must land on its own entry
		}
		q := strconv.Itoa(i + 1)
		require.Equal(t, want, serve(st, "PUT", "/a?i="+q, `{"n":`+q+`}`, "If-Match", tag))
		if i == 3 {
			require.Equal(t, http.StatusOK, serve(st, "GET", "/a?i=get", ""))
		}
	}
	reqs := st.Requests()
	require.Len(t, reqs, 3)
	var got []string
	for _, r := range reqs {
		got = append(got, r.Method+" "+r.Query+" "+strconv.Itoa(r.Status))
	}
	assert.Equal(t, []string{"PUT i=4 412", "GET i=get 200", "PUT i=5 200"}, got)
}

func TestRequestLogCanBeOff(t *testing.T) {
	t.Parallel()
	st := occtest.NewStore(occtest.WithRequestLog(0))
	require.NoError(t, st.Set("/a", []byte(`{"n":0}`)))
	assert.Equal(t, http.StatusOK, serve(st, "GET", "/a", ""))
	assert.Empty(t, st.Requests())
}

// A long-running store (occ serve, a soak) holds bounded memory: the log
// keeps the DefaultRequestLog most recent requests, and the store forgets
// the oldest Idempotency-Keys beyond IdempotencyKeys, as a real server
// expires them.
func TestLongRunningStoreIsBounded(t *testing.T) {
	t.Parallel()
	st := occtest.NewStore()
	n := max(occtest.DefaultRequestLog, occtest.IdempotencyKeys) + 5
	for i := range n {
		key := "k" + strconv.Itoa(i)
		require.Equal(t, http.StatusCreated, serve(st, "POST", "/orders", `{"i":`+strconv.Itoa(i)+`}`, "Idempotency-Key", key))
	}
	reqs := st.Requests()
	require.Len(t, reqs, occtest.DefaultRequestLog)
	assert.Equal(t, "k"+strconv.Itoa(n-1), reqs[len(reqs)-1].Header.Get("Idempotency-Key"), "the newest is kept")

	writes := st.Writes()
	assert.Equal(t, http.StatusCreated, serve(st, "POST", "/orders", `{"i":0}`, "Idempotency-Key", "k0"))
	assert.Equal(t, writes+1, st.Writes(), "the oldest key was forgotten: its resend is processed afresh")
	last := strconv.Itoa(n - 1)
	assert.Equal(t, http.StatusCreated, serve(st, "POST", "/orders", `{"i":`+last+`}`, "Idempotency-Key", "k"+last))
	assert.Equal(t, writes+1, st.Writes(), "a recent key still replays")
	assert.True(t, st.Requests()[occtest.DefaultRequestLog-1].Replayed)
}
