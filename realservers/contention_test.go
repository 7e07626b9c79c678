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
// own writer number, a change id unique to the call and an option that
// records the call's stats, and fails t on any error. Each writer should use
// a client of its own, as separate processes would. It logs how many
// attempts the changes took.
func race(t *testing.T, inc func(ctx context.Context, w int, id string, st occ.CallOption) error) {
	t.Helper()
	ctx := testContext(t)
	var wg sync.WaitGroup
	errs := make(chan error, writers*increments)
	stats := make([]occ.Stats, writers*increments)
	for w := range writers {
		wg.Go(func() {
			for i := range increments {
				st := &stats[w*increments+i]
				if err := inc(ctx, w, fmt.Sprintf("w%d.%d", w, i), occ.WithStats(st)); err != nil {
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
	t.Logf("%d changes took %d attempts, at most %d for one change", len(stats), all, most)
}

// first returns at most n of errs.
func first(errs []error, n int) []error { return errs[:min(n, len(errs))] }

// assertTally checks the document the race left: every change applied
// exactly once.
func assertTally(t *testing.T, v tally) {
	t.Helper()
	lost, doubled := tallyFaults(v)
	assert.Empty(t, lost, "lost changes")
	assert.Empty(t, doubled, "doubled changes")
	assert.Len(t, strings.Fields(v.Log), writers*increments, "changes in the log")
	assert.Equal(t, writers*increments, v.N, "count")
}

// tallyFaults returns the race's changes missing from v's log, and those
// in it more than once.
func tallyFaults(v tally) (lost, doubled []string) {
	seen := map[string]int{}
	for _, id := range strings.Fields(v.Log) {
		seen[id]++
	}
	for w := range writers {
		for i := range increments {
			switch id := fmt.Sprintf("w%d.%d", w, i); seen[id] {
			case 0:
				lost = append(lost, id)
			case 1:
			default:
				doubled = append(doubled, id)
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
