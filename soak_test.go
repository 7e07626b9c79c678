package occ_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/occ-go/occ"
	"github.com/occ-go/occ/occtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var soakFor = flag.Duration("soak", 1500*time.Millisecond, "how long each fault soak runs")

// soakFaults are the faults a soak injects at random: lost answers before
// and after a write is applied, gateways, overload with and without
// Retry-After, cut bodies, a lying Content-Length, malformed 409s, latency.
func soakFaults() []occtest.RandomFault {
	bad409 := http.Header{"Content-Type": {"application/json"}}
	return []occtest.RandomFault{
		{Fault: occtest.Fault{Reset: true}, Rate: 0.03},
		{Fault: occtest.Fault{ResetAfterWrite: true}, Rate: 0.03},
		{Fault: occtest.Fault{Status: 502}, Rate: 0.02},
		{Fault: occtest.Fault{StatusAfterWrite: 502}, Rate: 0.02},
		{Fault: occtest.Fault{Status: 504}, Rate: 0.01},
		{Fault: occtest.Fault{StatusAfterWrite: 504}, Rate: 0.01},
		{Fault: occtest.Fault{Status: 503, Header: http.Header{"Retry-After": {"0"}}}, Rate: 0.02},
		{Fault: occtest.Fault{Status: 429}, Rate: 0.02},
		{Fault: occtest.Fault{Truncate: true}, Rate: 0.02},
		{Fault: occtest.Fault{Truncate: true, ClaimLength: 32 << 20}, Rate: 0.005},
		{Fault: occtest.Fault{Status: 409, Header: bad409, Body: `{"error":`}, Rate: 0.005},
		{Fault: occtest.Fault{Delay: time.Millisecond}, Rate: 0.05},
	}
}

// tally counts what the calls of a soak came to.
type tally struct {
	calls, acked, ambiguous, failed atomic.Int64
}

func (t *tally) note(err error) string {
	t.calls.Add(1)
	switch {
	case err == nil:
		t.acked.Add(1)
		return "acked"
	case errors.Is(err, occ.ErrAmbiguous):
		t.ambiguous.Add(1)
		return "ambiguous"
	}
	t.failed.Add(1)
	return "failed"
}

// ledger is the document each increment changes: a count, and the id of
// every call that changed it, so that a doubled or a missing change shows.
type ledger struct {
	Count int   `json:"count"`
	IDs   []int `json:"ids"`
}

// soak runs writers on 3 clients against srv until the deadline: each
// increments a ledger or creates an order, recording how each call ended.
type soak struct {
	srv     *occtest.Server
	clients []*occ.Client
	tally   tally
	mu      sync.Mutex
	ends    map[int]string // call id -> acked, ambiguous or failed
	orders  map[int]string
	errs    map[int]error // the errors of failed calls, to explain a finding
	late    atomic.Int64  // calls that returned after their deadline
	nextID  atomic.Int64
}

const (
	soakDocs    = 6
	soakWriters = 15
	callTimeout = 2 * time.Second
)

// TestFaultSoakNeverLosesOrDoublesAWrite runs increments and creates
// through random faults, on a server that honours Idempotency-Key (and is
// declared to) and on one that ignores it, and checks every call against
// the final state. Run longer with -soak=1m.
func TestFaultSoakNeverLosesOrDoublesAWrite(t *testing.T) {
	for _, honours := range []bool{true, false} {
		t.Run(fmt.Sprintf("keys honoured=%t", honours), func(t *testing.T) {
			s := newSoak(t, honours)
			s.run(t, *soakFor)
			s.check(t)
		})
	}
}

func newSoak(t *testing.T, honours bool) *soak {
	srv := occtest.New(t, occtest.WithIdempotencyKeys(honours))
	for d := range soakDocs {
		require.NoError(t, srv.Set(docPath(d), []byte(`{"count":0,"ids":[]}`)))
	}
	srv.InjectRandom(uint64(time.Now().UnixNano()), soakFaults()...)
	s := &soak{srv: srv, ends: map[int]string{}, orders: map[int]string{}, errs: map[int]error{}}
	for range 3 {
		c, err := occ.New(occ.WithHTTPClient(srv.Client()), occ.WithIdempotencyKeysHonoured(honours),
			occ.WithTransientRetries(4, noWait), occ.WithBackoff(occ.Exponential(time.Millisecond, 20*time.Millisecond)))
		require.NoError(t, err)
		s.clients = append(s.clients, c)
	}
	return s
}

func docPath(d int) string { return "/ledgers/" + strconv.Itoa(d) }

func (s *soak) run(t *testing.T, d time.Duration) {
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for w := range soakWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := s.clients[w%len(s.clients)]
			for i := 0; time.Now().Before(deadline) && i < 100000; i++ {
				if i%5 == 4 {
					s.create(c)
				} else {
					s.increment(c, (w+i)%soakDocs)
				}
			}
		}()
	}
	wg.Wait()
	t.Logf("calls %d: acknowledged %d, ErrAmbiguous %d, other errors %d %v; faults injected (in the last %d requests) %v",
		s.tally.calls.Load(), s.tally.acked.Load(), s.tally.ambiguous.Load(), s.tally.failed.Load(), s.errorCounts(), len(s.srv.Requests()), s.faultCounts())
}

// timed runs call under a deadline and notes whether it kept it.
func (s *soak) timed(call func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	start := time.Now()
	err := call(ctx)
	if time.Since(start) > callTimeout+time.Second {
		s.late.Add(1)
	}
	return err
}

func (s *soak) increment(c *occ.Client, d int) {
	id := int(s.nextID.Add(1))
	err := s.timed(func(ctx context.Context) error {
		_, err := occ.Modify(ctx, c, s.srv.URL+docPath(d), func(l *ledger) error {
			l.Count++
			l.IDs = append(l.IDs, id)
			return nil
		})
		return err
	})
	end := s.tally.note(err)
	s.mu.Lock()
	s.ends[id] = end
	if end == "failed" {
		s.errs[id] = err
	}
	s.mu.Unlock()
}

func (s *soak) create(c *occ.Client) {
	id := int(s.nextID.Add(1))
	err := s.timed(func(ctx context.Context) error {
		_, err := occ.Create(ctx, c, s.srv.URL+"/orders", map[string]int{"order": id},
			occ.WithCreateMethod(http.MethodPost))
		return err
	})
	end := s.tally.note(err)
	s.mu.Lock()
	s.orders[id] = end
	if end == "failed" {
		s.errs[id] = err
	}
	s.mu.Unlock()
}

// check compares every call with the final state.
func (s *soak) check(t *testing.T) {
	applied := s.appliedIncrements(t)
	for id, end := range s.ends {
		assertApplied(t, "increment", id, end, applied[id], s.errs[id])
	}
	made := s.madeOrders(t)
	for id, end := range s.orders {
		assertApplied(t, "create", id, end, made[id], s.errs[id])
	}
	assert.Zero(t, s.late.Load(), "calls that outlived their deadline")
	assert.Positive(t, s.tally.acked.Load(), "the soak made progress")
}

// assertApplied checks one call: acknowledged means applied exactly once,
// ambiguous at most once, any other error never.
func assertApplied(t *testing.T, what string, id int, end string, n int, err error) {
	switch {
	case end == "acked" && n != 1:
		t.Errorf("%s %d acknowledged but applied %d times", what, id, n)
	case end == "ambiguous" && n > 1:
		t.Errorf("%s %d ambiguous and applied %d times", what, id, n)
	case end == "failed" && n != 0:
		t.Errorf("%s %d failed but applied %d times: %v", what, id, n, err)
	}
}

// appliedIncrements counts, by call id, the increments the ledgers hold,
// and checks each ledger's count against its ids.
func (s *soak) appliedIncrements(t *testing.T) map[int]int {
	applied := map[int]int{}
	for d := range soakDocs {
		raw, _, ok := s.srv.Get(docPath(d))
		require.True(t, ok)
		var l ledger
		require.NoError(t, json.Unmarshal(raw, &l))
		assert.Len(t, l.IDs, l.Count, "ledger %d: count and ids agree", d)
		for _, id := range l.IDs {
			applied[id]++
		}
	}
	return applied
}

// madeOrders counts, by call id, the orders the store holds.
func (s *soak) madeOrders(t *testing.T) map[int]int {
	made := map[int]int{}
	for n, misses := 1, 0; misses < 1000; n++ {
		raw, _, ok := s.srv.Get("/orders/" + strconv.Itoa(n))
		if !ok {
			misses++
			continue
		}
		var o struct{ Order int }
		require.NoError(t, json.Unmarshal(raw, &o))
		made[o.Order]++
	}
	return made
}

// errorCounts sorts the other errors: budgets, deadlines, the rest.
func (s *soak) errorCounts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	counts := map[string]int{}
	for _, err := range s.errs {
		switch {
		case errors.Is(err, occ.ErrBudgetExhausted):
			counts["budget"]++
		case errors.Is(err, occ.ErrAttemptsExhausted):
			counts["attempts"]++
		case errors.Is(err, context.DeadlineExceeded):
			counts["deadline"]++
		default:
			var se *occ.StatusError
			var ce *occ.ConflictError
			switch {
			case errors.As(err, &se):
				counts[strconv.Itoa(se.StatusCode)]++
			case errors.As(err, &ce):
				counts["conflict "+ce.Kind.String()]++
			default:
				counts["transport"]++
			}
		}
	}
	return counts
}

// faultCounts returns how many requests each kind of fault hit.
func (s *soak) faultCounts() map[occtest.FaultKind]int {
	counts := map[occtest.FaultKind]int{}
	for _, r := range s.srv.Requests() {
		if r.Fault != nil {
			counts[r.Fault.Kind()]++
		}
	}
	return counts
}
