package hot

import (
	"sync"
	"time"
)

// Paced is a backoff that scales its waits to the round trip it observes:
// it waits uniformly in [0, m·cycle), where cycle is a moving average of
// the time one retry took (refresh and write, without the wait), measured
// between consecutive calls for the same operation. It starts from a 10 ms
// cycle. A Paced is safe for concurrent use; it is meant for one client.
type Paced struct {
	m float64

	mu       sync.Mutex
	cycle    time.Duration
	last     time.Time
	lastN    int
	lastWait time.Duration
}

// NewPaced returns a Paced backoff waiting up to m cycles.
func NewPaced(m float64) *Paced { return &Paced{m: m, cycle: 10 * time.Millisecond} }

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
	d := jitter(time.Duration(p.m * float64(p.cycle)))
	p.last, p.lastN, p.lastWait = now, n, d
	return d
}
