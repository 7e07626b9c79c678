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

	mu       sync.Mutex
	cycle    time.Duration
	typical  time.Duration // 0 until an operation was seen
	start    time.Time     // estimated start of the current operation
	last     time.Time
	lastN    int
	lastWait time.Duration
}

// NewAged returns an Aged backoff; see [Aged].
func NewAged(young, old, alpha float64) *Aged {
	return &Aged{young: young, old: old, alpha: alpha, cycle: 10 * time.Millisecond}
}

// Backoff returns the wait before retry n.
func (a *Aged) Backoff(n int) time.Duration {
	now := time.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case n <= a.lastN || a.last.IsZero(): // a new operation
		if !a.last.IsZero() {
			a.fold(&a.typical, a.last.Add(a.lastWait+a.cycle).Sub(a.start))
		}
		a.start = now.Add(-a.cycle)
	case n == a.lastN+1:
		a.fold(&a.cycle, now.Sub(a.last)-a.lastWait)
	}
	m := a.young
	if a.typical > 0 && float64(now.Sub(a.start)) > a.alpha*float64(a.typical) {
		m = a.old
	}
	d := jitter(time.Duration(m * float64(a.cycle)))
	a.last, a.lastN, a.lastWait = now, n, d
	return d
}

// fold moves a moving average an eighth of the way to sample.
func (a *Aged) fold(avg *time.Duration, sample time.Duration) {
	if sample <= 0 {
		return
	}
	if *avg == 0 {
		*avg = sample
		return
	}
	*avg += (sample - *avg) / 8
}
