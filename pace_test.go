package occ

import (
	"context"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPacerWaitsBelowEightRoundTrips(t *testing.T) {
	var p pacer
	for range 1000 {
		assert.Less(t, p.wait(), paceWindows*paceStart, "before any round trip is measured")
	}
	p.observe(2 * time.Millisecond)
	assert.Equal(t, 2*time.Millisecond, time.Duration(p.rtt.Load()), "the first round trip is the average")
	p.observe(10 * time.Millisecond)
	assert.Equal(t, 3*time.Millisecond, time.Duration(p.rtt.Load()), "then a moving average of weight 1/8")
	for range 1000 {
		assert.Less(t, p.wait(), paceWindows*3*time.Millisecond)
	}
	p.observe(time.Hour)
	assert.LessOrEqual(t, time.Duration(p.rtt.Load()), paceMax, "clamped")
}

func TestTheDefaultBackoffLearnsTheRetryRoundTrip(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI(`{"name":"a","count":1}`)
		slow := func(w http.ResponseWriter, r *http.Request) { time.Sleep(40 * time.Millisecond); api.pass(w, r) }
		api.then(api.pass, reply(412, ""), slow, slow)
		c, err := New(WithHTTPClient(&http.Client{Transport: inMemory{api}}))
		require.NoError(t, err)
		_, err = Modify(context.Background(), c, itemURL, incr)
		require.NoError(t, err)
		assert.Equal(t, 80*time.Millisecond, time.Duration(c.pace.rtt.Load()), "the refresh and the write of the retry")
	})
}

// conflictWithCurrent answers a write 412 with the current document, which
// its Content-Location says is the resource.
func conflictWithCurrent(api *fakeAPI) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		api.mu.Lock()
		doc, etag := api.doc, api.etag()
		api.mu.Unlock()
		reply(412, doc, "ETag", etag, "Content-Location", itemURL, "Content-Type", "application/json")(w, nil)
	}
}

func TestACarriedDocumentIsUsedOnlyWhileFresh(t *testing.T) {
	for _, tc := range []struct {
		name  string
		wait  time.Duration
		reads int
	}{
		{"no wait: the carried document is as fresh as a read", 0, 1},
		{"after a backoff longer than the write took: read again", 50 * time.Millisecond, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				api := newFakeAPI(`{"name":"a","count":1}`)
				api.then(api.pass, conflictWithCurrent(api))
				c := memClient(t, api, WithBackoff(BackoffFunc(func(int) time.Duration { return tc.wait })))
				_, err := Modify(context.Background(), c, itemURL, incr)
				require.NoError(t, err)
				assert.Equal(t, tc.reads, api.count(http.MethodGet))
			})
		})
	}
}
