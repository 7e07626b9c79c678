package occ_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
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

// The solo contract, checked call by call (STYLE.md 21-22): a coalesced
// call's outcome must be one the same call could have had alone. The same
// scripted servers run with coalescing on and off, and every caller of
// both runs is held to the same checks.

// contractDoc is the document the contract tests change.
type contractDoc struct {
	Status string          `json:"status"`
	Count  int             `json:"count"`
	IDs    []int           `json:"ids"`
	Flags  map[string]bool `json:"flags"`
}

const contractPath = "/contract/1"

// Kinds of change a contract call makes, by its id modulo 5.
const (
	kindIncrement   = iota // append its id: applied exactly once when acknowledged
	kindEnsure             // set flag f<id%3>: nothing to write when it is set
	kindConditional        // append its id when count is even, else refuse
	kindFailing            // always refuse
	kindRefused            // a change the server refuses (a forbidden status)
	kinds
)

var errOdd, errRefuse = errors.New("odd count"), errors.New("refused by the change")

// contractChange is the change of call id.
func contractChange(id int) func(*contractDoc) error {
	return func(d *contractDoc) error {
		switch id % kinds {
		case kindEnsure:
			if d.Flags == nil {
				d.Flags = map[string]bool{}
			}
			d.Flags[flagOf(id)] = true
		case kindConditional:
			if d.Count%2 != 0 {
				return errOdd
			}
			d.Count, d.IDs = d.Count+1, append(d.IDs, id)
		case kindFailing:
			return errRefuse
		case kindRefused:
			d.Status, d.IDs = "shipped", append(d.IDs, id)
		default:
			d.Count, d.IDs = d.Count+1, append(d.IDs, id)
		}
		return nil
	}
}

func flagOf(id int) string { return "f" + strconv.Itoa(id%3) }

// history is a transport to the store that numbers every state the
// document takes, so that a success can be checked against the states
// that held while its call ran.
type history struct {
	next    http.RoundTripper
	store   *occtest.Store
	mu      sync.Mutex
	writing sync.Mutex
	etag    string
	states  []contractDoc // states[n] held from write n on; states[0] is the first
	hold    chan struct{} // when set, the next write's answer waits for it to close
}

func newHistory(t *testing.T, store *occtest.Store) *history {
	h := &history{next: occtest.Transport(store), store: store}
	h.record(t)
	return h
}

func (h *history) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodGet {
		return h.next.RoundTrip(r)
	}
	h.writing.Lock() // one write at a time, so that no state goes unrecorded
	resp, err := h.next.RoundTrip(r)
	h.record(nil)
	h.writing.Unlock()
	h.mu.Lock()
	hold := h.hold
	h.hold = nil
	h.mu.Unlock()
	if hold != nil {
		<-hold
	}
	return resp, err
}

// holdNext makes the next write's answer wait, once the store applied it,
// until the returned function is called.
func (h *history) holdNext() func() {
	h.mu.Lock()
	defer h.mu.Unlock()
	hold := make(chan struct{})
	h.hold = hold
	return func() { close(hold) }
}

// record notes the document's state if it changed.
func (h *history) record(t *testing.T) {
	raw, etag, _ := h.store.Get(contractPath)
	var d contractDoc
	if err := json.Unmarshal(raw, &d); err != nil && t != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if etag != h.etag {
		h.etag, h.states = etag, append(h.states, d)
	}
}

// now returns the number of the state holding now.
func (h *history) now() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.states) - 1
}

// held reports whether some state numbered from..to had flag set.
func (h *history) held(from, to int, flag string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, d := range h.states[from : to+1] {
		if d.Flags[flag] {
			return true
		}
	}
	return false
}

// callEnd is how one contract call ended, with the states it spanned.
type callEnd struct {
	id       int
	err      error
	from, to int
	late     time.Duration // how long after its context ended it returned
}

// contractRun is a set of calls on one client and their ends.
type contractRun struct {
	c    *occ.Client
	h    *history
	mu   sync.Mutex
	ends []callEnd
}

// call makes contract call id under a deadline d and records its end.
func (r *contractRun) call(id int, d time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	// The context's end as the runtime saw it: a machine too busy to run
	// this process for a while delays that too, and is no fault of occ's.
	var ended atomic.Pointer[time.Time]
	context.AfterFunc(ctx, func() { now := time.Now(); ended.Store(&now) })
	from := r.h.now()
	_, err := occ.Modify(ctx, r.c, "http://contract.test"+contractPath, contractChange(id))
	end := callEnd{id: id, err: err, from: from, to: r.h.now()}
	if at := ended.Load(); at != nil {
		end.late = time.Since(*at)
	}
	r.mu.Lock()
	r.ends = append(r.ends, end)
	r.mu.Unlock()
}

// check holds every call of the run to the solo contract, against the
// store's final document, and returns how many were acknowledged.
func (r *contractRun) check(t *testing.T, store *occtest.Store, slack time.Duration) int {
	t.Helper()
	raw, _, _ := store.Get(contractPath)
	var final contractDoc
	require.NoError(t, json.Unmarshal(raw, &final))
	applied := map[int]int{}
	for _, id := range final.IDs {
		applied[id]++
	}
	acked, late, worst := 0, 0, time.Duration(0)
	for _, e := range r.ends {
		worst = max(worst, e.late)
		if e.err == nil {
			acked++
		}
		checkEnd(t, r.h, e, applied[e.id])
		if e.late > slack {
			late++
			t.Logf("call %d returned %v after its context ended: %v", e.id, e.late, e.err)
		}
		assert.Less(t, e.late, time.Second, "call %d returned %v after its context ended", e.id, e.late)
	}
	if slack > 0 {
		t.Logf("latest return after a context's end: %v", worst)
	}
	// A 2-core machine running other builds can leave this process
	// unscheduled for tens of milliseconds; 1% of the calls may meet that.
	assert.LessOrEqual(t, late*100, len(r.ends), "%d of %d calls returned more than %v after their context ended", late, len(r.ends), slack)
	return acked
}

// checkEnd holds one call to the contract: acknowledged means applied
// exactly once (or, for an ensure, proven by a state that held during the
// call); ambiguous at most once; any other error never applied.
func checkEnd(t *testing.T, h *history, e callEnd, n int) {
	t.Helper()
	ambiguous := errors.Is(e.err, occ.ErrAmbiguous)
	switch kind := e.id % kinds; {
	case kind == kindEnsure && e.err == nil:
		assert.True(t, h.held(e.from, e.to, flagOf(e.id)), "ensure %d acknowledged without a state that held it during the call", e.id)
	case kind == kindEnsure:
	case e.err == nil:
		assert.Equal(t, 1, n, "call %d (kind %d) acknowledged but applied %d times", e.id, kind, n)
		assert.NotContains(t, []int{kindFailing, kindRefused}, kind, "call %d acknowledged a change that cannot land", e.id)
	case ambiguous:
		assert.LessOrEqual(t, n, 1, "call %d ambiguous, applied %d times: %v", e.id, n, e.err)
	default:
		assert.Zero(t, n, "call %d failed but applied %d times: %v", e.id, n, e.err)
	}
}

// contractStore returns a store holding the contract document, whose
// status may only go from open to closed.
func contractStore(t *testing.T, keys bool) *occtest.Store {
	store := occtest.NewStore(occtest.WithIdempotencyKeys(keys),
		occtest.WithTransitions("/status", map[string][]string{"open": {"closed"}}))
	require.NoError(t, store.Set(contractPath, []byte(`{"status":"open","count":0,"ids":[],"flags":{}}`)))
	return store
}

// clearer is a competing writer, on a client of its own: it clears a
// flag, so that a stale "it is set" shows.
func clearer(t *testing.T, h *history, flag string) {
	c, err := occ.New(occ.WithHTTPClient(&http.Client{Transport: h}), occ.WithCoalescing(false), occ.WithBackoff(noWait))
	require.NoError(t, err)
	_, err = occ.Modify(context.Background(), c, "http://contract.test"+contractPath, func(d *contractDoc) error {
		delete(d.Flags, flag)
		return nil
	})
	require.NoError(t, err)
}

// script is a scripted server: what it does to the store before and while
// the calls run, and the calls: those of the first wave, then, after a
// competing writer cleared flag f1, those of the second.
type script struct {
	name          string
	keys          bool // the store honours Idempotency-Key
	arm           func(t *testing.T, store *occtest.Store, h *history) (release func())
	first, second []int
}

// wave returns the ids from..to-1.
func wave(from, to int) []int {
	var ids []int
	for id := from; id < to; id++ {
		ids = append(ids, id)
	}
	return ids
}

func scripts() []script {
	fault := func(f occtest.Fault) func(*testing.T, *occtest.Store, *history) func() {
		return func(_ *testing.T, store *occtest.Store, _ *history) func() { store.Inject(f); return nil }
	}
	mixed := func(sc script) script {
		sc.first, sc.second = wave(0, 10), wave(10, 20)
		return sc
	}
	return []script{
		mixed(script{name: "clean", keys: true, arm: func(*testing.T, *occtest.Store, *history) func() { return nil }}),
		mixed(script{name: "lost answers, keys ignored", arm: fault(occtest.Fault{Method: http.MethodPut, ResetAfterWrite: true, Times: 3})}),
		mixed(script{name: "lost answers, keys honoured", keys: true, arm: fault(occtest.Fault{Method: http.MethodPut, ResetAfterWrite: true, Times: 3})}),
		mixed(script{name: "502 after the write", arm: fault(occtest.Fault{Method: http.MethodPut, StatusAfterWrite: 502, Times: 2})}),
		mixed(script{name: "resets before the write", keys: true, arm: fault(occtest.Fault{Method: http.MethodPut, Reset: true, Times: 3})}),
		mixed(script{name: "503 then through", keys: true, arm: fault(occtest.Fault{Status: 503, Times: 4})}),
		mixed(script{name: "competing writers", keys: true, arm: func(t *testing.T, store *occtest.Store, h *history) func() {
			n := 0
			store.BeforeWrite(func(r *http.Request) {
				if n < 6 {
					n++
					require.NoError(t, store.Update(contractPath, func(d map[string]any) { d["flags"] = map[string]any{} }))
					h.record(t)
				}
			})
			return nil
		}}),
		// A write lands but its answer is late; meanwhile another writer
		// clears f1, and then calls that ensure f1 arrive.
		{name: "stale start", keys: true, first: []int{0}, second: []int{16, 31, 46},
			arm: func(_ *testing.T, _ *occtest.Store, h *history) func() { return h.holdNext() }},
	}
}

// runScript runs the calls of sc concurrently with coalescing on or off,
// under synctest, and checks each against the contract. It returns how
// many were acknowledged.
func runScript(t *testing.T, sc script, on bool) int {
	store := contractStore(t, sc.keys)
	h := newHistory(t, store)
	c, err := occ.New(occ.WithHTTPClient(&http.Client{Transport: h}), occ.WithCoalescing(on),
		occ.WithBackoff(noWait), occ.WithTransientRetries(3, noWait), occ.WithIdempotencyKeysHonoured(sc.keys))
	require.NoError(t, err)
	run := &contractRun{c: c, h: h}
	// A first write sets every flag, so that later ensures may find them
	// set on a document occ keeps.
	_, err = occ.Modify(context.Background(), c, "http://contract.test"+contractPath, func(d *contractDoc) error {
		d.Flags = map[string]bool{"f0": true, "f1": true, "f2": true}
		return nil
	})
	require.NoError(t, err)
	release := sc.arm(t, store, h)
	var wg sync.WaitGroup
	for _, id := range sc.first {
		wg.Go(func() { run.call(id, time.Minute) })
	}
	synctest.Wait()
	clearer(t, h, "f1")
	for _, id := range sc.second {
		wg.Go(func() { run.call(id, time.Minute) })
	}
	synctest.Wait()
	if release != nil {
		release()
	}
	wg.Wait()
	return run.check(t, store, 0)
}

func TestCoalescingKeepsTheSoloContractOnScriptedServers(t *testing.T) {
	for _, sc := range scripts() {
		t.Run(sc.name, func(t *testing.T) {
			acked := map[bool]int{}
			for _, on := range []bool{false, true} {
				t.Run(fmt.Sprintf("coalescing=%t", on), func(t *testing.T) {
					synctest.Test(t, func(t *testing.T) { acked[on] = runScript(t, sc, on) })
				})
			}
			t.Logf("acknowledged: coalescing off %d, on %d", acked[false], acked[true])
		})
	}
}

// TestCoalescingFaultSoak runs one shared client's calls of every kind
// through random faults, with a competing writer, and holds every call to
// the contract: none acknowledged and unapplied, none doubled, no success
// without proof, each back within 50 ms of its deadline. Run longer with
// -soak=1m.
func TestCoalescingFaultSoak(t *testing.T) {
	for _, keys := range []bool{true, false} {
		t.Run(fmt.Sprintf("keys honoured=%t", keys), func(t *testing.T) {
			store := contractStore(t, keys)
			store.InjectRandom(uint64(time.Now().UnixNano()), soakFaults()...)
			h := newHistory(t, store)
			c, err := occ.New(occ.WithHTTPClient(&http.Client{Transport: abandoning{h}}),
				occ.WithBackoff(occ.Exponential(time.Millisecond, 10*time.Millisecond)),
				occ.WithTransientRetries(4, noWait), occ.WithIdempotencyKeysHonoured(keys))
			require.NoError(t, err)
			run := &contractRun{c: c, h: h}
			deadline := time.Now().Add(*soakFor)
			var next atomic.Int64
			var wg sync.WaitGroup
			for range 12 {
				wg.Go(func() {
					for i := 0; time.Now().Before(deadline) && i < 10000; i++ {
						run.call(int(next.Add(1)), 300*time.Millisecond)
					}
				})
			}
			wg.Go(func() {
				for i := 0; time.Now().Before(deadline) && i < 10000; i++ {
					clearerQuiet(h, flagOf(i))
				}
			})
			wg.Wait()
			acked := run.check(t, store, 50*time.Millisecond)
			t.Logf("%d calls, %d acknowledged", len(run.ends), acked)
			assert.Positive(t, acked)
			assert.True(t, slices.ContainsFunc(run.ends, func(e callEnd) bool { return e.id%kinds == kindEnsure && e.err == nil }))
		})
	}
}

// clearerQuiet is clearer for a soak: its errors are the faults'.
func clearerQuiet(h *history, flag string) {
	c, _ := occ.New(occ.WithHTTPClient(&http.Client{Transport: h}), occ.WithCoalescing(false), occ.WithBackoff(noWait))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, _ = occ.Modify(ctx, c, "http://contract.test"+contractPath, func(d *contractDoc) error {
		delete(d.Flags, flag)
		return nil
	})
}
