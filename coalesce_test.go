package occ_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/occ-go/occ"
	"github.com/occ-go/occ/occtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// order is a document with a state rule: status may go from "open" to
// "closed" only.
type order struct {
	Status string   `json:"status"`
	Count  int      `json:"count"`
	Tags   []string `json:"tags"`
}

// gated returns an in-process occtest store with one order, and a client
// that shares it; the next write waits for release to close, so that calls
// made meanwhile queue behind it.
func gated(t *testing.T, opts ...occ.Option) (*occtest.Store, *occ.Client, chan struct{}) {
	t.Helper()
	store := orderStore(t)
	release := make(chan struct{})
	store.BeforeNextWrite(func(*http.Request) { <-release })
	return store, orderClient(t, occtest.Transport(store), opts...), release
}

// orderStore returns an in-process occtest store with one open order.
func orderStore(t *testing.T) *occtest.Store {
	t.Helper()
	store := occtest.NewStore(occtest.WithTransitions("/status", map[string][]string{"open": {"closed"}}))
	require.NoError(t, store.Set("/orders/1", []byte(`{"status":"open","count":0,"tags":[]}`)))
	return store
}

// orderClient returns a client sending through rt, retrying conflicts at once.
func orderClient(t *testing.T, rt http.RoundTripper, opts ...occ.Option) *occ.Client {
	t.Helper()
	base := []occ.Option{occ.WithHTTPClient(&http.Client{Transport: rt}), occ.WithBackoff(noWait)}
	c, err := occ.New(append(base, opts...)...)
	require.NoError(t, err)
	return c
}

// incrOrder is the change of call i: one more to the order's count.
func incrOrder(int) func(*order) error { return func(o *order) error { o.Count++; return nil } }

const orderURL = "http://orders.test/orders/1"

// results collects what concurrent calls returned.
type results struct {
	mu   sync.Mutex
	errs []error
	docs []order
}

func (r *results) add(v order, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.docs = append(r.docs, v)
	r.errs = append(r.errs, err)
}

// modifyMany starts n calls of change, waits until they are all blocked
// (queued behind the gated write), and returns where their results go.
func modifyMany(ctx context.Context, c *occ.Client, n int, change func(i int) func(*order) error, opts ...occ.CallOption) *results {
	r := &results{}
	for i := range n {
		go func() { r.add(occ.Modify(ctx, c, orderURL, change(i), opts...)) }()
	}
	synctest.Wait()
	return r
}

func TestCoalescedCallsShareOneWrite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store, c, release := gated(t)
		applied := make([]int, 10)
		incr := func(i int) func(*order) error {
			return func(o *order) error { applied[i]++; o.Count++; return nil }
		}
		first := modifyMany(context.Background(), c, 1, incr)
		rest := modifyMany(context.Background(), c, 9, func(i int) func(*order) error { return incr(i + 1) })
		close(release)
		synctest.Wait()
		require.Len(t, first.errs, 1)
		require.NoError(t, first.errs[0])
		assert.Equal(t, 1, first.docs[0].Count)
		require.Len(t, rest.errs, 9)
		for i, err := range rest.errs {
			require.NoError(t, err)
			assert.Equal(t, 10, rest.docs[i].Count, "every caller is answered with the document as written")
		}
		assert.Equal(t, 2, store.Writes(), "one write for the first call, one for the nine queued behind it")
		for i, n := range applied {
			assert.Equal(t, 1, n, "change %d applied exactly once", i)
		}
		doc, _, _ := store.Get("/orders/1")
		assert.JSONEq(t, `{"status":"open","count":10,"tags":[]}`, string(doc))
	})
}

func TestACoalescedChangeThatFailsIsLeftOutAlone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store, c, release := gated(t)
		errNo := errors.New("no")
		modifyMany(context.Background(), c, 1, incrOrder)
		rest := modifyMany(context.Background(), c, 5, func(i int) func(*order) error {
			return func(o *order) error {
				if i == 2 {
					return errNo
				}
				o.Count++
				return nil
			}
		})
		close(release)
		synctest.Wait()
		failed := 0
		for _, err := range rest.errs {
			if err != nil {
				failed++
				assert.ErrorIs(t, err, errNo)
				assert.ErrorIs(t, err, occ.ErrChangeAborted)
			}
		}
		assert.Equal(t, 1, failed, "only its caller gets the error")
		doc, _, _ := store.Get("/orders/1")
		assert.JSONEq(t, `{"status":"open","count":5,"tags":[]}`, string(doc))
		assert.Equal(t, 2, store.Writes())
	})
}

func TestACoalescedCallerWhoseContextEndsWhileQueuedIsLeftOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store, c, release := gated(t)
		modifyMany(context.Background(), c, 1, incrOrder)
		ctx, cancel := context.WithCancel(context.Background())
		gone := modifyMany(ctx, c, 1, func(int) func(*order) error {
			return func(o *order) error { o.Tags = append(o.Tags, "gone"); return nil }
		})
		stay := modifyMany(context.Background(), c, 1, incrOrder)
		cancel()
		synctest.Wait()
		require.Len(t, gone.errs, 1)
		assert.ErrorIs(t, gone.errs[0], context.Canceled)
		assert.NotErrorIs(t, gone.errs[0], occ.ErrAmbiguous, "left out before any write")
		close(release)
		synctest.Wait()
		require.NoError(t, stay.errs[0])
		doc, _, _ := store.Get("/orders/1")
		assert.JSONEq(t, `{"status":"open","count":2,"tags":[]}`, string(doc), "the change that left is not applied")
	})
}

func TestACoalescedWriteRefusedForOneChangeDoesNotFailTheOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store, c, release := gated(t)
		modifyMany(context.Background(), c, 1, incrOrder)
		rest := modifyMany(context.Background(), c, 4, func(i int) func(*order) error {
			return func(o *order) error {
				if i == 1 {
					o.Status = "shipped" // not a transition the server allows
					return nil
				}
				o.Count++
				return nil
			}
		})
		close(release)
		synctest.Wait()
		refused := 0
		for _, err := range rest.errs {
			if err != nil {
				refused++
				assert.ErrorIs(t, err, occ.ErrInvalidState, "the change that caused the refusal")
			}
		}
		assert.Equal(t, 1, refused, "only the call that caused it")
		doc, _, _ := store.Get("/orders/1")
		assert.JSONEq(t, `{"status":"open","count":4,"tags":[]}`, string(doc), "the other three landed")
	})
}

func TestCallsWithTheirOwnSettingsAreNotCoalesced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store, c, release := gated(t)
		modifyMany(context.Background(), c, 1, incrOrder)
		own := modifyMany(context.Background(), c, 3, incrOrder, occ.WithHeader("X-Tenant", "a"))
		shared := modifyMany(context.Background(), c, 3, incrOrder, occ.WithCoalescing(true))
		close(release)
		synctest.Wait()
		for _, err := range append(own.errs, shared.errs...) {
			require.NoError(t, err)
		}
		assert.GreaterOrEqual(t, store.Writes(), 1+3+1, "each call with a header of its own writes alone")
		off := 0
		for _, r := range store.Requests() {
			if r.Method == http.MethodPut && r.Header.Get("X-Tenant") == "a" {
				off++
			}
		}
		assert.GreaterOrEqual(t, off, 3)
	})
}

func TestACoalescedChangeThatPanicsPanicsInItsCaller(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store, c, release := gated(t)
		modifyMany(context.Background(), c, 1, incrOrder)
		recovered := make(chan any, 1)
		go func() {
			defer func() { recovered <- recover() }()
			_, _ = occ.Modify(context.Background(), c, orderURL, func(*order) error { panic("boom") })
		}()
		other := modifyMany(context.Background(), c, 1, incrOrder)
		close(release)
		synctest.Wait()
		assert.Equal(t, "boom", <-recovered)
		require.NoError(t, other.errs[0])
		doc, _, _ := store.Get("/orders/1")
		assert.JSONEq(t, `{"status":"open","count":2,"tags":[]}`, string(doc))
	})
}

func TestCoalescingCanBeTurnedOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store, c, release := gated(t, occ.WithCoalescing(false))
		modifyMany(context.Background(), c, 1, incrOrder)
		rest := modifyMany(context.Background(), c, 4, incrOrder)
		close(release)
		synctest.Wait()
		for _, err := range rest.errs {
			require.NoError(t, err)
		}
		assert.Equal(t, 5, store.Writes(), "one write a call")
	})
}

// An ambiguous batch ends like one call: its write landed unanswered on a
// server that ignores Idempotency-Key, and every caller in it is told.
func TestAnAmbiguousBatchIsAmbiguousForEveryCaller(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := occtest.NewStore(occtest.WithIdempotencyKeys(false))
		require.NoError(t, store.Set("/orders/1", []byte(`{"status":"open","count":0,"tags":[]}`)))
		release := make(chan struct{})
		store.BeforeNextWrite(func(*http.Request) { <-release })
		c, err := occ.New(occ.WithHTTPClient(&http.Client{Transport: occtest.Transport(store)}), occ.WithBackoff(noWait),
			occ.WithTransientRetries(2, noWait))
		require.NoError(t, err)
		modifyMany(context.Background(), c, 1, incrOrder)
		rest := modifyMany(context.Background(), c, 3, incrOrder)
		store.Inject(occtest.Fault{Method: http.MethodPut, ResetAfterWrite: true, Times: 2}) // the first write's and the batch's answers are lost
		close(release)
		synctest.Wait()
		for _, err := range rest.errs {
			assert.ErrorIs(t, err, occ.ErrAmbiguous)
		}
		doc, _, _ := store.Get("/orders/1")
		assert.JSONEq(t, `{"status":"open","count":4,"tags":[]}`, string(doc), "each change applied once")
	})
}

// gatedReads is a transport to store whose GETs wait, once armed, until
// the gate closes.
type gatedReads struct {
	next http.RoundTripper
	mu   sync.Mutex
	gate chan struct{}
}

func (g *gatedReads) RoundTrip(r *http.Request) (*http.Response, error) {
	g.mu.Lock()
	gate := g.gate
	g.mu.Unlock()
	if gate != nil && r.Method == http.MethodGet {
		<-gate
	}
	return g.next.RoundTrip(r)
}

// arm makes the GETs from now on wait until the returned gate closes.
func (g *gatedReads) arm() chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.gate = make(chan struct{})
	return g.gate
}

// readGated is gated with its GETs held, once armed, instead of a write.
func readGated(t *testing.T) (*occtest.Store, *occ.Client, *gatedReads) {
	t.Helper()
	store := orderStore(t)
	g := &gatedReads{next: occtest.Transport(store)}
	return store, orderClient(t, g), g
}

// The calls that arrive while the first call of a group reads join its
// write: the batch, the first call's change included, is handed to a
// goroutine of occ's with the document read as its start.
func TestCallsArrivingDuringTheFirstReadJoinItsWrite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store, c, g := readGated(t)
		open := g.arm()
		first := modifyMany(context.Background(), c, 1, incrOrder) // reading
		rest := modifyMany(context.Background(), c, 9, incrOrder)  // queued meanwhile
		close(open)
		synctest.Wait()
		for _, r := range []*results{first, rest} {
			for _, err := range r.errs {
				require.NoError(t, err)
			}
		}
		assert.Equal(t, 1, store.Writes(), "the nine that arrived during the read share its write")
		assert.Len(t, store.Requests(), 2, "one GET, one PUT")
		doc, _, _ := store.Get("/orders/1")
		assert.JSONEq(t, `{"status":"open","count":10,"tags":[]}`, string(doc))
	})
}

func TestABatchReadOutlivesItsFirstCaller(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store, c, g := readGated(t)
		release := make(chan struct{})
		store.BeforeNextWrite(func(*http.Request) { <-release })
		// The first call's write is refused (a state the order may not
		// take), so the batch queued behind it has no state to start from
		// and reads first, on behalf of both of its calls.
		first := modifyMany(context.Background(), c, 1, func(int) func(*order) error {
			return func(o *order) error { o.Status = "reopened"; return nil }
		})
		leaving, leave := context.WithCancel(context.Background())
		gone := modifyMany(leaving, c, 1, incrOrder)
		staying := modifyMany(context.Background(), c, 1, incrOrder)
		open := g.arm()
		close(release)
		synctest.Wait() // the batch of two is reading
		leave()
		synctest.Wait()
		close(open)
		synctest.Wait()
		require.Len(t, first.errs, 1)
		require.ErrorIs(t, first.errs[0], occ.ErrConflict)
		require.Len(t, gone.errs, 1)
		assert.ErrorIs(t, gone.errs[0], context.Canceled)
		require.Len(t, staying.errs, 1)
		require.NoError(t, staying.errs[0], "the read goes on for the call still waiting")
		assert.Equal(t, 1, staying.docs[0].Count)
		doc, _, _ := store.Get("/orders/1")
		assert.JSONEq(t, `{"status":"open","count":1,"tags":[]}`, string(doc), "the departed change is left out")
	})
}
