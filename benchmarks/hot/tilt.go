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

	mu    sync.Mutex
	clock opClock
}

// NewTilt returns a Tilt backoff; see [Tilt].
func NewTilt(m, g, k float64) *Tilt { return &Tilt{m: m, g: g, k: k, clock: newOpClock()} }

// Backoff returns the wait before retry n.
func (t *Tilt) Backoff(n int) time.Duration {
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	age := t.clock.tick(n, now)
	f := 1.0
	if typical := t.clock.typical; typical > 0 {
		x := float64(age) / float64(typical)
		f = math.Min(t.k, math.Max(1/t.k, math.Exp2(-t.g*(x-1))))
	}
	d := jitter(time.Duration(t.m * f * float64(t.clock.cycle)))
	t.clock.waited(n, now, d)
	return d
}
