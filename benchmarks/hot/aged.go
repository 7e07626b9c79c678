package hot

import (
	"sync"
	"time"
)

// Aged is a prototype conflict backoff that ages operations by time, with
// a small per-client state: it measures the round trip of one retry (cycle,
// as [Paced] does) and how long its contended operations usually take
// (typical). An operation younger than alpha·typical waits uniformly in
// [0, young·cycle); an older one in [0, old·cycle), so it jumps the queue.
// Since typical follows the contention, only the unlucky few are old, and
// the aggregate retry rate stays bounded. It tells operations apart by the
// attempt numbers it is called with, so it is meant for one client whose
// operations run one after another; it is safe for concurrent use.
type Aged struct {
	young, old, alpha float64

	mu    sync.Mutex
	clock opClock
}

// NewAged returns an Aged backoff; see [Aged].
func NewAged(young, old, alpha float64) *Aged {
	return &Aged{young: young, old: old, alpha: alpha, clock: newOpClock()}
}

// Backoff returns the wait before retry n.
func (a *Aged) Backoff(n int) time.Duration {
	now := time.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	age := a.clock.tick(n, now)
	m := a.young
	if typical := a.clock.typical; typical > 0 && float64(age) > a.alpha*float64(typical) {
		m = a.old
	}
	d := jitter(time.Duration(m * float64(a.clock.cycle)))
	a.clock.waited(n, now, d)
	return d
}
