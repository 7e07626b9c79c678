package hot

import "time"

// opClock follows one client's operations through the attempt numbers its
// backoff is called with (a number not above the last one starts a new
// operation): the round trip of one retry (cycle: from one call to the
// next, less the wait between), how long its contended operations usually
// take (typical: 0 until one ended), and when the current one started. It
// is meant for a client whose operations run one after another; the
// backoff that holds it guards it.
type opClock struct {
	cycle, typical time.Duration
	start, last    time.Time
	lastN          int
	lastWait       time.Duration
}

// newOpClock returns a clock that assumes a 10 ms round trip until it
// measured one.
func newOpClock() opClock { return opClock{cycle: 10 * time.Millisecond} }

// tick notes the call for retry n at now, and returns the age of the
// current operation.
func (c *opClock) tick(n int, now time.Time) time.Duration {
	switch {
	case n <= c.lastN || c.last.IsZero(): // a new operation; the last one ended a cycle after its wait
		if !c.last.IsZero() {
			foldAverage(&c.typical, c.last.Add(c.lastWait+c.cycle).Sub(c.start))
		}
		c.start = now.Add(-c.cycle) // its first read and write
	case n == c.lastN+1:
		foldAverage(&c.cycle, now.Sub(c.last)-c.lastWait)
	}
	return now.Sub(c.start)
}

// waited notes the wait chosen at the last tick.
func (c *opClock) waited(n int, now time.Time, d time.Duration) {
	c.last, c.lastN, c.lastWait = now, n, d
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
