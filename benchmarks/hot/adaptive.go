package hot

import (
	"math"
	"sync"
	"time"
)

// Adaptive is a prototype conflict backoff that keeps a small per-client
// estimate of contention: how many attempts its operations needed (seen
// through the attempt numbers it is called with). It scales its waits so
// that operations need about target attempts (more attempts than that: the
// resource is crowded, wait longer; fewer: wait less), and ages operations
// that have needed more attempts than usual: past the usual count, the
// ceiling falls as (usual/n)^a. It is safe for concurrent use; it is meant
// for one client.
type Adaptive struct {
	target, a float64

	mu    sync.Mutex
	scale time.Duration // the wait ceiling of an operation of usual age
	usual float64       // moving average of attempts per operation
	lastN int
}

// NewAdaptive returns an Adaptive backoff aiming at target attempts per
// operation, aging with exponent a.
func NewAdaptive(target, a float64) *Adaptive {
	return &Adaptive{target: target, a: a, scale: 10 * time.Millisecond, usual: 1}
}

// Bounds on the scale.
const (
	minScale = time.Millisecond
	maxScale = 2 * time.Second
)

// Backoff returns the wait before retry n.
func (p *Adaptive) Backoff(n int) time.Duration {
	p.mu.Lock()
	if n <= p.lastN { // a new operation: the last one took lastN+1 attempts
		p.observe(float64(p.lastN + 1))
	}
	p.lastN = n
	if n > int(p.usual+0.5) { // a running operation already past usual
		p.observe(float64(n))
	}
	c := float64(p.scale)
	if x := float64(n) / p.usual; x > 1 {
		c *= math.Pow(1/x, p.a)
	}
	p.mu.Unlock()
	return jitter(time.Duration(c))
}

// observe folds an operation's attempt count into the estimate and nudges
// the scale towards the target.
func (p *Adaptive) observe(m float64) {
	p.usual += (m - p.usual) / 8
	f := math.Pow(math.Max(0.5, math.Min(2, m/p.target)), 0.25)
	p.scale = max(minScale, min(maxScale, time.Duration(float64(p.scale)*f)))
}
