package hot

import (
	"math"
	"sync"
	"time"
)

// Tilt is a prototype conflict backoff that trades goodput for fairness:
// it waits uniformly in [0, m·cycle·f), cycle being the measured round trip
// of one retry (as [Paced] measures it) and f = 2^(-g·(age/typical - 1)),
// clamped to [1/k, k], where age is how long the operation has run and
// typical is the moving average of how long this client's contended
// operations took. An operation younger than usual waits longer, an older
// one retries sooner, so the oldest writers win the next rounds. Like
// [Aged] it tells operations apart by the attempt numbers it is called
// with, so it is meant for one client whose operations run one after
// another; it is safe for concurrent use.
type Tilt struct {
	m, g, k float64

	mu       sync.Mutex
	cycle    time.Duration
	typical  time.Duration // 0 until a contended operation ended
	start    time.Time     // estimated start of the current operation
	last     time.Time
	lastN    int
	lastWait time.Duration
}

// NewTilt returns a Tilt backoff; see [Tilt].
func NewTilt(m, g, k float64) *Tilt {
	return &Tilt{m: m, g: g, k: k, cycle: 10 * time.Millisecond}
}

// Backoff returns the wait before retry n.
func (t *Tilt) Backoff(n int) time.Duration {
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case n <= t.lastN || t.last.IsZero(): // a new operation; the last one ended a cycle after its wait
		if !t.last.IsZero() {
			foldAverage(&t.typical, t.last.Add(t.lastWait+t.cycle).Sub(t.start))
		}
		t.start = now.Add(-t.cycle) // its first read and write
	case n == t.lastN+1:
		foldAverage(&t.cycle, now.Sub(t.last)-t.lastWait)
	}
	f := 1.0
	if t.typical > 0 {
		x := float64(now.Sub(t.start)) / float64(t.typical)
		f = math.Min(t.k, math.Max(1/t.k, math.Exp2(-t.g*(x-1))))
	}
	d := jitter(time.Duration(t.m * f * float64(t.cycle)))
	t.last, t.lastN, t.lastWait = now, n, d
	return d
}

// foldAverage moves a moving average an eighth of the way to sample.
func foldAverage(avg *time.Duration, sample time.Duration) {
	switch {
	case sample <= 0:
	case *avg == 0:
		*avg = sample
	default:
		*avg += (sample - *avg) / 8
	}
}
