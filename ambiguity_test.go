package occ_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/occ-go/occ"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// raceAPI is one counter {"n":N} behind a strong ETag, over a real
// connection, whose first PUT from occ meets a scripted fault; right after
// that fault another writer changes the counter, before occ's resend.
type raceAPI struct {
	mu      sync.Mutex
	n, ver  int
	honour  bool              // Idempotency-Key: replay the first answer to a key
	answers map[string]answer // by key, when honoured
	fault   fault
	other   func(n int) int // the other writer's change
	faulted bool
	puts    int
	applied int // PUTs applied, ours only
}

type answer struct {
	status int
	n, ver int
}

// fault is what happens to occ's first PUT.
type fault struct {
	applied bool // the origin applied it before the answer was lost
	status  int  // the answer a gateway gave instead (502, 504), or 0 for a reset
}

func (f fault) String() string {
	s := "reset"
	if f.status != 0 {
		s = strconv.Itoa(f.status)
	}
	if f.applied {
		return "applied, then " + s
	}
	return s + " before applying"
}

func (a *raceAPI) etag(v int) string { return `"` + strconv.Itoa(v) + `"` }

func (a *raceAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if r.Method == http.MethodGet {
		a.reply(w, answer{200, a.n, a.ver})
		return
	}
	a.puts++
	key := r.Header.Get("Idempotency-Key")
	if prev, ok := a.answers[key]; ok && a.honour {
		a.reply(w, prev)
		return
	}
	if !a.faulted {
		a.faulted = true
		a.failFirst(w, r, key)
		return
	}
	a.reply(w, a.process(r, key))
}

// failFirst serves occ's first PUT its fault, then lets the other writer in.
func (a *raceAPI) failFirst(w http.ResponseWriter, r *http.Request, key string) {
	if a.fault.applied {
		a.process(r, key)
	}
	a.n, a.ver = a.other(a.n), a.ver+1
	if a.fault.status == 0 {
		panic(http.ErrAbortHandler)
	}
	w.WriteHeader(a.fault.status)
}

// process applies a conditional PUT and records its answer under its key.
func (a *raceAPI) process(r *http.Request, key string) answer {
	ans := answer{status: http.StatusPreconditionFailed, n: a.n, ver: a.ver}
	if r.Header.Get("If-Match") == a.etag(a.ver) {
		var body struct{ N int }
		if err := json.NewDecoder(r.Body).Decode(&body); err == nil {
			a.n, a.ver, a.applied = body.N, a.ver+1, a.applied+1
			ans = answer{http.StatusOK, a.n, a.ver}
		}
	}
	if a.honour {
		a.answers[key] = ans
	}
	return ans
}

func (a *raceAPI) reply(w http.ResponseWriter, ans answer) {
	w.Header().Set("Content-Type", "application/json")
	if ans.status == http.StatusOK {
		w.Header().Set("ETag", a.etag(ans.ver))
		w.WriteHeader(ans.status)
		fmt.Fprintf(w, `{"n":%d}`, ans.n)
		return
	}
	w.WriteHeader(ans.status)
}

type num struct {
	N int `json:"n"`
}

func increment(v *num) error { v.N++; return nil }
func setTo2(v *num) error    { v.N = 2; return nil }

var (
	sameValue = func(int) int { return 2 }       // another writer sets what occ's write would
	movesOn   = func(n int) int { return n + 1 } // another writer increments
)

// raceCase is one interleaving and what must come of it: the final count,
// and whether occ acknowledges (else it must say ErrAmbiguous).
type raceCase struct {
	change      func(*num) error
	fault       fault
	honour      bool
	other       func(int) int
	otherName   string
	final       int
	acknowledge bool
}

// TestEveryLostAnswerInterleavingNeverLosesOrDoublesAnUpdate scripts every
// interleaving of {not applied, applied and answer lost} x {reset, 502, 504}
// x {key honoured, key ignored} x {another writer sets the same value,
// another writer moves on}, for an increment and for a set, starting from
// n=1, and checks the exact final state and the exact result.
func TestEveryLostAnswerInterleavingNeverLosesOrDoublesAnUpdate(t *testing.T) {
	for _, tc := range raceCases() {
		name := fmt.Sprintf("%s/%s/honour=%t/%s", changeName(tc.change), tc.fault, tc.honour, tc.otherName)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			api := &raceAPI{n: 1, ver: 1, honour: tc.honour, answers: map[string]answer{}, fault: tc.fault, other: tc.other}
			srv := httptest.NewServer(api)
			defer srv.Close()
			c, err := occ.New(occ.WithHTTPClient(srv.Client()), occ.WithTransientRetries(2, noWait),
				occ.WithBackoff(noWait), occ.WithIdempotencyKeysHonoured(tc.honour))
			require.NoError(t, err)
			got, err := occ.Modify(context.Background(), c, srv.URL+"/n", tc.change)
			api.mu.Lock()
			defer api.mu.Unlock()
			assert.Equal(t, tc.final, api.n, "final state")
			assert.LessOrEqual(t, api.applied, 1, "occ's change applied at most once")
			if tc.acknowledge {
				require.NoError(t, err)
				if changeName(tc.change) == "increment" {
					assert.Equal(t, 1, api.applied, "acknowledged, so applied exactly once")
					assert.Equal(t, 2+boolInt(!tc.fault.applied), got.N, "the document as written")
					return
				}
				assert.Equal(t, 2, got.N, "the state asked for holds")
				return
			}
			var ae *occ.AmbiguousError
			require.ErrorAs(t, err, &ae)
			assert.ErrorIs(t, err, occ.ErrVersionMismatch, "the conflict the resend met")
			assert.Equal(t, strconv.Quote(strconv.Itoa(api.ver)), ae.Version)
			assert.JSONEq(t, fmt.Sprintf(`{"n":%d}`, api.n), string(ae.Current))
			assert.NotEmpty(t, ae.Key)
		})
	}
}

func raceCases() []raceCase {
	var cases []raceCase
	for _, f := range []fault{{false, 0}, {true, 0}, {false, 502}, {true, 502}, {false, 504}, {true, 504}} {
		for _, honour := range []bool{true, false} {
			cases = append(cases,
				incrementCase(f, honour, sameValue, "same value"),
				incrementCase(f, honour, movesOn, "moves on"),
				setCase(f, honour, sameValue, "same value"),
				setCase(f, honour, movesOn, "moves on"))
		}
	}
	return cases
}

// incrementCase: occ adds one to n=1. With keys honoured the resend tells
// the truth and occ always lands exactly one increment; with keys ignored a
// 412 after a lost answer cannot tell whose write moved the version, and an
// increment always has something left to write, so occ must say so.
func incrementCase(f fault, honour bool, other func(int) int, name string) raceCase {
	tc := raceCase{change: increment, fault: f, honour: honour, other: other, otherName: name, acknowledge: honour}
	ours := 0
	if f.applied {
		ours = 1
	}
	switch {
	case f.applied:
		tc.final = other(1 + ours)
	case honour:
		tc.final = other(1) + 1 // the resend is proven unapplied: reapplied on the fresh state
	default:
		tc.final = other(1)
	}
	return tc
}

// setCase: occ sets n to 2. With keys ignored, success is truthful exactly
// when the fresh state already holds n=2: nothing is left to write.
func setCase(f fault, honour bool, other func(int) int, name string) raceCase {
	tc := raceCase{change: setTo2, fault: f, honour: honour, other: other, otherName: name, acknowledge: true}
	switch {
	case f.applied:
		tc.final = other(2)
		tc.acknowledge = honour || tc.final == 2
	case honour:
		tc.final = 2
	default:
		tc.final = other(1)
		tc.acknowledge = tc.final == 2
	}
	return tc
}

func changeName(f func(*num) error) string {
	var v num
	_ = f(&v)
	if v.N == 1 {
		return "increment"
	}
	return "set"
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
