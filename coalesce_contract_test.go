package occ_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/occ-go/occ"
	"github.com/occ-go/occ/occtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The tests of this file hold coalescing to the contract of a call made
// alone (issue "coalescing you can leave on"): each fails on a coalescer
// that plans on a cached document without proof, shares result bytes,
// reports a landed change as a plain failure, sends one caller's change
// under another's context, does batch work on a caller's goroutine, can be
// wedged by a caller, deadlocks a re-entrant call, or leaves an ambiguous
// error without its key.

// heldAnswers is a transport to store that, once armed, holds the answer
// to the next PUT after the store has applied it, until the gate closes.
type heldAnswers struct {
	next http.RoundTripper
	mu   sync.Mutex
	gate chan struct{}
}

func (h *heldAnswers) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := h.next.RoundTrip(r)
	h.mu.Lock()
	gate := h.gate
	if r.Method == http.MethodPut {
		h.gate = nil
	}
	h.mu.Unlock()
	if gate != nil && r.Method == http.MethodPut {
		<-gate
	}
	return resp, err
}

func (h *heldAnswers) arm() chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.gate = make(chan struct{})
	return h.gate
}

// ensureTag is the change "the order has tag": nothing to write when it
// has.
func ensureTag(tag string) func(*order) error {
	return func(o *order) error {
		if !slices.Contains(o.Tags, tag) {
			o.Tags = append(o.Tags, tag)
		}
		return nil
	}
}

// 1. A call that joins after another writer changed the resource is not
// told "nothing to write" on the document an earlier batch wrote.
func TestACoalescedNoOpRestsOnAReadMadeAfterTheCallBegan(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := orderStore(t)
		require.NoError(t, store.Set("/orders/1", []byte(`{"status":"open","count":0,"tags":["x"]}`)))
		held := &heldAnswers{next: occtest.Transport(store)}
		c := orderClient(t, held)
		gate := held.arm()
		first := modifyMany(context.Background(), c, 1, incrOrder) // its write landed, its answer is held
		require.NoError(t, store.Update("/orders/1", func(d map[string]any) { d["tags"] = []any{} }))
		var st occ.Stats
		late := modifyMany(context.Background(), c, 1, func(int) func(*order) error { return ensureTag("x") }, occ.WithStats(&st))
		close(gate)
		synctest.Wait()
		require.NoError(t, first.errs[0])
		require.NoError(t, late.errs[0])
		doc, _, _ := store.Get("/orders/1")
		assert.Contains(t, string(doc), `"x"`, "a success for ensure-x leaves x on the server")
		assert.Equal(t, []string{"x"}, late.docs[0].Tags)
		assert.GreaterOrEqual(t, st.Reads, 1, "the answer rests on a read made after the call began")
	})
}

// 2. Each caller of a batch owns the bytes it gets back.
func TestCoalescedResultsShareNoMemory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, c, release := gated(t)
		modifyMany(context.Background(), c, 1, incrOrder)
		out := make([][]byte, 3)
		var wg sync.WaitGroup
		for i := range out {
			wg.Go(func() {
				b, err := occ.ModifyJSON(context.Background(), c, orderURL, func(d []byte) ([]byte, error) {
					var o order
					if err := json.Unmarshal(d, &o); err != nil {
						return nil, err
					}
					o.Count++
					return json.Marshal(o)
				})
				assert.NoError(t, err)
				out[i] = b
			})
		}
		synctest.Wait()
		close(release)
		wg.Wait()
		want := string(out[1])
		for i := range out[0] {
			out[0][i] = 'Z' // one caller scribbles on its result
		}
		assert.Equal(t, want, string(out[1]), "another caller's result is untouched")
		assert.True(t, json.Valid(out[2]))
	})
}

// 3. A change that may have landed unseen is reported ambiguous, even when
// its change function refuses on the re-plan (because it did land).
func TestACoalescedChangeThatMayHaveLandedIsAmbiguousWhateverItsReplanSays(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := occtest.NewStore(occtest.WithIdempotencyKeys(false))
		require.NoError(t, store.Set("/orders/1", []byte(`{"status":"open","count":0,"tags":[]}`)))
		release := make(chan struct{})
		store.BeforeNextWrite(func(*http.Request) { <-release })
		c := orderClient(t, occtest.Transport(store), occ.WithTransientRetries(2, noWait))
		errAlready := errors.New("already recorded")
		recordOnce := func(tag string) func(*order) error {
			return func(o *order) error {
				if slices.Contains(o.Tags, tag) {
					return errAlready
				}
				o.Tags = append(o.Tags, tag)
				return nil
			}
		}
		modifyMany(context.Background(), c, 1, incrOrder)
		rest := modifyMany(context.Background(), c, 2, func(i int) func(*order) error {
			return recordOnce(string(rune('a' + i)))
		})
		store.Inject(occtest.Fault{Method: http.MethodPut, ResetAfterWrite: true, Times: 2})
		close(release)
		synctest.Wait()
		for _, err := range rest.errs {
			require.Error(t, err)
			assert.ErrorIs(t, err, occ.ErrAmbiguous, "told 'failed', the caller would record twice")
			assert.ErrorIs(t, err, errAlready)
		}
		doc, _, _ := store.Get("/orders/1")
		var o order
		require.NoError(t, json.Unmarshal(doc, &o))
		assert.ElementsMatch(t, []string{"a", "b"}, o.Tags, "each change applied once")
	})
}

// userKey is the context key of the user a request is made for.
type userKey struct{}

// authByContext is a transport that authenticates each request as the user
// its context names, and refuses a request that names none, as per-user
// credential transports do.
type authByContext struct {
	next http.RoundTripper
	mu   sync.Mutex
	sent []sentAs
}

type sentAs struct {
	user string
	body string
}

func (a *authByContext) RoundTrip(r *http.Request) (*http.Response, error) {
	user, _ := r.Context().Value(userKey{}).(string)
	if user == "" {
		return &http.Response{StatusCode: http.StatusUnauthorized, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
	}
	if r.Method == http.MethodPut {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		a.mu.Lock()
		a.sent = append(a.sent, sentAs{user, string(body)})
		a.mu.Unlock()
	}
	return a.next.RoundTrip(r)
}

// 4. No caller's change is sent under another caller's context.
func TestNoCoalescedChangeIsSentUnderAnotherCallersContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := orderStore(t)
		release := make(chan struct{})
		store.BeforeNextWrite(func(*http.Request) { <-release })
		auth := &authByContext{next: occtest.Transport(store)}
		c := orderClient(t, auth)
		as := func(user string) context.Context { return context.WithValue(context.Background(), userKey{}, user) }
		users := []string{"alice", "bob", "carol"}
		var rs []*results
		for _, u := range users {
			rs = append(rs, modifyMany(as(u), c, 1, func(int) func(*order) error { return ensureTag(u) }))
		}
		close(release)
		synctest.Wait()
		for i, r := range rs {
			require.NoError(t, r.errs[0], users[i])
		}
		for _, u := range users {
			i := slices.IndexFunc(auth.sent, func(s sentAs) bool { return strings.Contains(s.body, `"`+u+`"`) })
			require.GreaterOrEqual(t, i, 0, u)
			assert.Equal(t, u, auth.sent[i].user, "the write that first carried %s's change was sent as %s", u, auth.sent[i].user)
		}
	})
}

// 5. Every caller leaves when its own context ends, even the one that
// started the group, whatever the others wait for.
func TestEveryCoalescedCallerLeavesOnTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := orderStore(t)
		g := &gatedReads{next: abandoning{occtest.Transport(store)}}
		c := orderClient(t, g)
		release := make(chan struct{})
		store.BeforeNextWrite(func(*http.Request) { <-release })
		open := g.arm()
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		leader := modifyMany(ctx, c, 1, incrOrder)                 // reading
		other := modifyMany(context.Background(), c, 1, incrOrder) // no deadline, joins meanwhile
		close(open)
		time.Sleep(time.Second) // fake time: the leader's deadline passes while the write waits
		synctest.Wait()
		require.Len(t, leader.errs, 1, "the leader returned on its deadline")
		assert.ErrorIs(t, leader.errs[0], context.DeadlineExceeded)
		close(release)
		synctest.Wait()
		require.Len(t, other.errs, 1)
		require.NoError(t, other.errs[0])
	})
}

// abandoning is a transport that stops waiting for next's answer when the
// request's context ends, as a network transport does.
type abandoning struct{ next http.RoundTripper }

func (a abandoning) RoundTrip(r *http.Request) (*http.Response, error) {
	type answer struct {
		resp *http.Response
		err  error
	}
	ch := make(chan answer, 1)
	go func() {
		resp, err := a.next.RoundTrip(r)
		ch <- answer{resp, err}
	}()
	select {
	case x := <-ch:
		return x.resp, x.err
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
}

// 6. Goexit in a change function (t.FailNow, require), or a panic in the
// transport that the caller recovers, fails only that call; later calls of
// the URL go through.
func TestNoCoalescedCallerCanWedgeTheURL(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, c *occ.Client, store *occtest.Store, release chan struct{})
	}{
		{"goexit in the leader's change", func(t *testing.T, c *occ.Client, _ *occtest.Store, release chan struct{}) {
			close(release)
			goexitingCall(c)
		}},
		{"goexit in a batched change", func(t *testing.T, c *occ.Client, _ *occtest.Store, release chan struct{}) {
			modifyMany(context.Background(), c, 1, incrOrder)
			goexitingCall(c)
			others := modifyMany(context.Background(), c, 2, incrOrder)
			close(release)
			synctest.Wait()
			for _, err := range others.errs {
				assert.NoError(t, err, "the others of its batch run on")
			}
		}},
		{"transport panic recovered by the leader", func(t *testing.T, c *occ.Client, store *occtest.Store, release chan struct{}) {
			close(release)
			panics.Store(1)
			assert.Equal(t, "transport", recoveredCall(c))
		}},
		{"transport panic in a batch", func(t *testing.T, c *occ.Client, store *occtest.Store, release chan struct{}) {
			modifyMany(context.Background(), c, 1, incrOrder)
			got := make(chan any, 2)
			for range 2 {
				go func() { got <- recoveredCall(c) }()
			}
			synctest.Wait()
			panics.Store(1)
			close(release)
			assert.Equal(t, "transport", <-got, "raised in each caller of the batch, the process lives")
			assert.Equal(t, "transport", <-got)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				store, c, release := gatedPanicky(t)
				tc.run(t, c, store, release)
				synctest.Wait()
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				defer cancel()
				_, err := occ.Modify(ctx, c, orderURL, incrOrder(0))
				require.NoError(t, err, "a later call of the URL goes through")
			})
		})
	}
}

// panics makes panicky's next PUT panic, when set.
var panics atomic.Int32

// panicky is a transport that panics on a PUT once panics is set.
type panicky struct{ next http.RoundTripper }

func (p panicky) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPut && panics.CompareAndSwap(1, 0) {
		panic("transport")
	}
	return p.next.RoundTrip(r)
}

func gatedPanicky(t *testing.T) (*occtest.Store, *occ.Client, chan struct{}) {
	t.Helper()
	panics.Store(0)
	store := orderStore(t)
	release := make(chan struct{})
	store.BeforeNextWrite(func(*http.Request) { <-release })
	return store, orderClient(t, panicky{occtest.Transport(store)}), release
}

// goexitingCall makes a call whose change function calls runtime.Goexit,
// on a goroutine of its own, and waits until that goroutine has ended or
// blocked.
func goexitingCall(c *occ.Client) {
	go func() {
		_, _ = occ.Modify(context.Background(), c, orderURL, func(*order) error { runtime.Goexit(); return nil })
	}()
	synctest.Wait()
}

// recoveredCall makes a call and returns the panic it raised, if any.
func recoveredCall(c *occ.Client) (r any) {
	defer func() { r = recover() }()
	_, _ = occ.Modify(context.Background(), c, orderURL, incrOrder(0))
	return nil
}

// 7. A change function that calls Modify on its own URL runs that call
// alone instead of waiting for itself.
func TestAReentrantCoalescedCallDoesNotWaitForItself(t *testing.T) {
	for _, on := range []bool{true, false} {
		synctest.Test(t, func(t *testing.T) {
			store := orderStore(t)
			c := orderClient(t, occtest.Transport(store), occ.WithCoalescing(on))
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_, err := occ.Modify(ctx, c, orderURL, func(o *order) error {
				o.Count++
				_, err := occ.Modify(ctx, c, orderURL, ensureTag("inner"))
				return err
			})
			require.NoError(t, err, "coalescing %v", on)
			doc, _, _ := store.Get("/orders/1")
			assert.JSONEq(t, `{"status":"open","count":1,"tags":["inner"]}`, string(doc), "coalescing %v", on)
		})
	}
}

// 8. A caller that leaves after its change was planned gets the write's
// Idempotency-Key and attempt count.
func TestACoalescedCallerThatLeavesAfterPlanningGetsTheWritesKey(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := orderStore(t)
		first, release := make(chan struct{}), make(chan struct{})
		var writes atomic.Int32
		store.BeforeNextWrites(2, func(*http.Request) {
			if writes.Add(1) == 1 {
				<-first
			} else {
				<-release // the batch's write hangs
			}
		})
		c := orderClient(t, occtest.Transport(store))
		modifyMany(context.Background(), c, 1, incrOrder)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		batch := modifyMany(ctx, c, 2, incrOrder)
		close(first)
		time.Sleep(2 * time.Second) // fake time: the batch's callers leave
		synctest.Wait()
		require.Len(t, batch.errs, 2)
		for _, err := range batch.errs {
			var ae *occ.AmbiguousError
			require.ErrorAs(t, err, &ae)
			assert.Len(t, ae.Key, 26, "the key the write carries")
			assert.Equal(t, 1, ae.Attempts)
		}
		close(release)
		synctest.Wait()
	})
}

// A change function that blocks holds up only its own batch: a call that
// waits behind it runs alone, once the change has run for 50 ms, and lands.
func TestABlockedChangeFunctionDelaysOnlyItsOwnBatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := orderStore(t)
		c := orderClient(t, occtest.Transport(store))
		unblock := make(chan struct{})
		blocked := modifyMany(context.Background(), c, 1, func(int) func(*order) error {
			return func(o *order) error { <-unblock; o.Count++; return nil }
		})
		other := modifyMany(context.Background(), c, 1, func(int) func(*order) error { return ensureTag("other") })
		time.Sleep(time.Second) // fake time: the blocked change has run far past 50 ms
		synctest.Wait()
		require.Len(t, other.errs, 1, "the other call did not wait for the blocked change")
		require.NoError(t, other.errs[0])
		assert.Empty(t, blocked.errs)
		close(unblock)
		synctest.Wait()
		require.NoError(t, blocked.errs[0])
		doc, _, _ := store.Get("/orders/1")
		assert.JSONEq(t, `{"status":"open","count":1,"tags":["other"]}`, string(doc))
	})
}
