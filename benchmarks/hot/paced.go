package hot

import (
	"math"
	"sync"
	"time"
)

// Paced is a backoff that scales its waits to the round trip it observes:
// it waits uniformly in [0, m·cycle), where cycle is a moving average of
// the time one retry took (refresh and write, without the wait), measured
// between consecutive calls for the same operation. It starts from a 10 ms
// cycle. A Paced is safe for concurrent use; it is meant for one client.
type Paced struct {
	m    float64
	rise bool // the ceiling doubles from one cycle up to m cycles

	mu       sync.Mutex
	cycle    time.Duration
	last     time.Time
	lastN    int
	lastWait time.Duration
}

// NewPaced returns a Paced backoff waiting up to m cycles.
func NewPaced(m float64) *Paced { return &Paced{m: m, cycle: 10 * time.Millisecond} }

// NewPacedRise returns a Paced backoff whose ceiling before retry n is
// min(m, 2^(n-1)) cycles: one round trip first, as the competing writer is
// usually done by then, then doubling up to m.
func NewPacedRise(m float64) *Paced {
	return &Paced{m: m, rise: true, cycle: 10 * time.Millisecond}
}

// Backoff returns the wait before retry n.
func (p *Paced) Backoff(n int) time.Duration {
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if n == p.lastN+1 && !p.last.IsZero() {
		if sample := now.Sub(p.last) - p.lastWait; sample > 0 {
			p.cycle += (sample - p.cycle) / 8
		}
	}
	m := p.m
	if p.rise {
		m = math.Min(m, math.Ldexp(1, min(n-1, 62)))
	}
	d := jitter(time.Duration(m * float64(p.cycle)))
	p.last, p.lastN, p.lastWait = now, n, d
	return d
}
