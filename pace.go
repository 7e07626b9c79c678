package occ

import (
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// pacer is the default conflict backoff. Before a retry it waits a
// uniformly random time below paceWindows times the client's moving
// average of how long one retry takes (the refresh and the write), so that
// competing writers spread over what the server can serialize, whatever
// its latency. It was chosen on the hot-resource benchmark
// (benchmarks/cmd/hotbench): see the README's Benchmarks. A pacer is safe
// for concurrent use.
type pacer struct {
	rtt atomic.Int64 // moving average of a retry's round trip, in ns; 0 before the first
}

const (
	paceWindows = 8                      // the wait is below this many round trips
	paceStart   = 10 * time.Millisecond  // the round trip assumed before any is measured
	paceMin     = 100 * time.Microsecond // round trips are clamped to [paceMin, paceMax]
	paceMax     = time.Second
)

// wait returns how long to wait before a retry.
func (p *pacer) wait() time.Duration {
	rtt := time.Duration(p.rtt.Load())
	if rtt <= 0 {
		rtt = paceStart
	}
	return rand.N(paceWindows * rtt)
}

// observe records how long one retry's refresh and write took, in a moving
// average of weight 1/8.
func (p *pacer) observe(d time.Duration) {
	d = min(max(d, paceMin), paceMax)
	for {
		old := p.rtt.Load()
		next := int64(d)
		if old > 0 {
			next = old + (int64(d)-old)/8
		}
		if p.rtt.CompareAndSwap(old, next) {
			return
		}
	}
}
