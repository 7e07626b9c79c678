package occ

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// truncated answers a GET whose headers promise more body than it sends.
func truncated(claim int, body string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(claim))
		w.Header().Set("ETag", `"1"`)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(body))
	}
}

func TestReadCutShortIsRetriedLikeAnyTransientFailure(t *testing.T) {
	api := newFakeAPI(`{"name":"a","count":1}`)
	api.then(truncated(100, `{"name":`))
	c := memClient(t, api)
	var st Stats
	got, err := Get[item](context.Background(), c, itemURL, WithStats(&st))
	require.NoError(t, err)
	assert.Equal(t, "a", got.Value.Name)
	assert.Equal(t, 2, api.count(http.MethodGet))
	assert.Equal(t, 1, st.TransientRetries)

	api.then(truncated(100, `{`), truncated(100, `{`), truncated(100, `{`))
	c = memClient(t, api, WithTransientRetries(2, BackoffFunc(func(int) time.Duration { return 0 })))
	_, err = Get[item](context.Background(), c, itemURL)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "the retries are bounded")
}

func TestAClaimedContentLengthIsNotAllocatedUpFront(t *testing.T) {
	const claim = 32 << 20
	api := newFakeAPI(`{}`)
	api.then(truncated(claim, `{"name":1}`))
	c := memClient(t, api, WithTransientRetries(0, BackoffFunc(func(int) time.Duration { return 0 })))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := GetJSON(context.Background(), c, itemURL)
	runtime.ReadMemStats(&after)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(claim/8), "bytes allocated for a 10-byte body")
}

func TestAPossiblyAppliedWriteThatMeetsAnUnparseableConflictIsAmbiguous(t *testing.T) {
	api := newFakeAPI(`{"name":"a","count":1}`)
	writeThenReset := func(w http.ResponseWriter, r *http.Request) {
		api.pass(httptest.NewRecorder(), r)
		panic(http.ErrAbortHandler)
	}
	api.then(api.pass, writeThenReset, reply(409, "\x00garbage{"))
	c := memClient(t, api)
	_, err := Modify(context.Background(), c, itemURL, incr)
	var ce *ConflictError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, KindUnknown, ce.Kind)
	assert.ErrorIs(t, err, ErrAmbiguous)
	assert.JSONEq(t, `{"name":"a","count":2}`, api.doc, "applied once")
}

func TestAServerErrorToAWriteIsAmbiguous(t *testing.T) {
	for _, tc := range []struct {
		status    int
		ambiguous bool
	}{{500, true}, {507, true}, {501, false}, {400, false}, {422, false}} {
		api := newFakeAPI(`{"name":"a","count":1}`)
		api.then(api.pass, reply(tc.status, `{"message":"boom"}`, "Content-Type", "application/json"))
		c := memClient(t, api)
		_, err := Modify(context.Background(), c, itemURL, incr)
		var se *StatusError
		require.ErrorAs(t, err, &se, "status %d", tc.status)
		assert.Equal(t, tc.status, se.StatusCode)
		assert.Equal(t, tc.ambiguous, errors.Is(err, ErrAmbiguous), "status %d", tc.status)
	}
}
