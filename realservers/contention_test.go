package realservers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/occ-go/occ"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The race every server gets: writers clients each make increments
// changes to one document at once.
const (
	writers    = 16
	increments = 25
)

// tally is the document the writers change: a count, and the log of the
// changes that made it, one id per change, so that a lost change and a
// doubled one cannot hide behind a right count.
type tally struct {
	N   int    `json:"n"`
	Log string `json:"log"`
}

// add records the change id.
func (v *tally) add(id string) {
	v.N++
	v.Log = strings.TrimSpace(v.Log + " " + id)
}

// race runs writers goroutines, each making increments calls of inc with its
// own writer number, a change id unique to the call (round, the writer
// number, a dot, the change number) and an option that records the call's
// stats, and fails t on any error. It logs how many attempts the changes
// took.
func race(t *testing.T, round string, inc func(ctx context.Context, w int, id string, st occ.CallOption) error) {
	t.Helper()
	ctx := testContext(t)
	var wg sync.WaitGroup
	errs := make(chan error, writers*increments)
	stats := make([]occ.Stats, writers*increments)
	for w := range writers {
		wg.Go(func() {
			for i := range increments {
				st := &stats[w*increments+i]
				if err := inc(ctx, w, fmt.Sprintf("%s%d.%d", round, w, i), occ.WithStats(st)); err != nil {
					errs <- fmt.Errorf("writer %d, change %d: %w", w, i, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	logAttempts(t, stats)
	var failed []error
	for err := range errs {
		failed = append(failed, err)
	}
	if len(failed) > 0 {
		t.Fatalf("%d of %d changes failed; the first: %v", len(failed), writers*increments, errors.Join(first(failed, 3)...))
	}
}

// logAttempts logs the attempts the race's changes took: in all, and the
// most one change took.
func logAttempts(t *testing.T, stats []occ.Stats) {
	t.Helper()
	all, most := 0, 0
	for _, st := range stats {
		all += st.Attempts
		most = max(most, st.Attempts)
	}
	t.Logf("%d changes took %d attempts (as their Stats count them), at most %d for one change", len(stats), all, most)
}

// first returns at most n of errs.
func first(errs []error, n int) []error { return errs[:min(n, len(errs))] }

// The rounds of changes: each writer with a client of its own, as separate
// processes would; all writers sharing one client, whose concurrent Modify
// calls may share a write (coalescing).
const (
	ownClients = "w"
	oneClient  = "s"
)

// raceRounds are the races every server gets, in this order, on one
// document.
var raceRounds = []struct {
	name    string
	id      string // the round's change ids start with it
	clients func(func() *occ.Client) []*occ.Client
	done    []string // the rounds the document holds after this one
}{
	{"race", ownClients, writerClients, []string{ownClients}},
	{"race, one client", oneClient, sharedClient, []string{ownClients, oneClient}},
}

// assertTally checks the document left by the races of rounds: every change
// applied exactly once.
func assertTally(t *testing.T, v tally, rounds ...string) {
	t.Helper()
	lost, doubled := tallyFaults(v, rounds...)
	assert.Empty(t, lost, "lost changes")
	assert.Empty(t, doubled, "doubled changes")
	assert.Len(t, strings.Fields(v.Log), len(rounds)*writers*increments, "changes in the log")
	assert.Equal(t, len(rounds)*writers*increments, v.N, "count")
}

// tallyFaults returns the changes of the races of rounds missing from v's
// log, and those in it more than once.
func tallyFaults(v tally, rounds ...string) (lost, doubled []string) {
	seen := map[string]int{}
	for _, id := range strings.Fields(v.Log) {
		seen[id]++
	}
	for _, r := range rounds {
		for w := range writers {
			for i := range increments {
				switch id := fmt.Sprintf("%s%d.%d", r, w, i); seen[id] {
				case 0:
					lost = append(lost, id)
				case 1:
				default:
					doubled = append(doubled, id)
				}
			}
		}
	}
	return lost, doubled
}

// writerClients returns one occ client per writer, made by mk.
func writerClients(mk func() *occ.Client) []*occ.Client {
	cs := make([]*occ.Client, writers)
	for i := range cs {
		cs[i] = mk()
	}
	return cs
}

// sharedClient returns one occ client, made by mk, for every writer.
func sharedClient(mk func() *occ.Client) []*occ.Client {
	c := mk()
	cs := make([]*occ.Client, writers)
	for i := range cs {
		cs[i] = c
	}
	return cs
}

// staleOnce returns a change function for a Modify[tally] that, the first
// time it is called, lets rival land a change of its own (through another
// client) before it changes v: the write that follows is stale.
func staleOnce(t *testing.T, rival func() error) func(v *tally) error {
	var once sync.Once
	return func(v *tally) error {
		once.Do(func() { require.NoError(t, rival(), "the rival's write") })
		v.add("stale")
		return nil
	}
}

// requireStale checks that err is a stale write refused with status,
// code and message, after exactly one attempt.
func requireStale(t *testing.T, err error, status int, code, message string) *occ.ConflictError {
	t.Helper()
	require.ErrorIs(t, err, occ.ErrAttemptsExhausted)
	require.ErrorIs(t, err, occ.ErrVersionMismatch)
	var ce *occ.ConflictError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, status, ce.StatusCode, "status")
	assert.Equal(t, occ.KindVersion, ce.Kind, "kind")
	assert.Equal(t, code, ce.Code, "code")
	assert.Equal(t, message, ce.Message, "message")
	return ce
}

// requireDuplicate checks that err is a duplicate create refused with
// status and code.
func requireDuplicate(t *testing.T, err error, status int, code string) *occ.ConflictError {
	t.Helper()
	require.ErrorIs(t, err, occ.ErrDuplicate)
	var ce *occ.ConflictError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, status, ce.StatusCode, "status")
	assert.Equal(t, occ.KindDuplicate, ce.Kind, "kind")
	assert.Equal(t, code, ce.Code, "code")
	return ce
}
