package hot

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestOpClockFollowsOperationsByAttemptNumber(t *testing.T) {
	ms := time.Millisecond
	t0 := time.Unix(1000, 0)
	c := newOpClock()
	assert.Equal(t, 10*ms, c.tick(1, t0), "a first retry: its read and write took a cycle")
	c.waited(1, t0, 5*ms)
	assert.Equal(t, 35*ms, c.tick(2, t0.Add(25*ms)))
	assert.Equal(t, 10*ms+(20*ms-10*ms)/8, c.cycle, "the retry took 25 ms less the 5 ms wait")
	assert.Zero(t, c.typical, "no operation ended yet")
	c.waited(2, t0.Add(25*ms), 0)
	assert.Equal(t, c.cycle, c.tick(1, t0.Add(100*ms)), "attempt 1 again: a new operation")
	assert.Equal(t, 25*ms+c.cycle+10*ms, c.typical, "the last one ended a cycle after its last retry")
}
