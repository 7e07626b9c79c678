package occ

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExponentialFullJitterStaysUnderCap(t *testing.T) {
	b := Exponential(10*time.Millisecond, 80*time.Millisecond)
	for attempt := 1; attempt <= 10; attempt++ {
		ceil := min(80*time.Millisecond, 10*time.Millisecond<<(attempt-1))
		for range 50 {
			d := b.Backoff(attempt)
			require.GreaterOrEqual(t, d, time.Duration(0))
			require.Less(t, d, ceil, "attempt %d", attempt)
		}
	}
	assert.Zero(t, Exponential(0, time.Second).Backoff(3))
}

func TestCappedDoesNotOverflow(t *testing.T) {
	assert.Equal(t, time.Hour, capped(time.Second, time.Hour, 1000))
	assert.Equal(t, 4*time.Second, capped(time.Second, time.Hour, 3))
}

func TestBudgetEmptiesAndRefills(t *testing.T) {
	b, err := NewBudget(2, 0.5)
	require.NoError(t, err)
	assert.True(t, b.withdraw())
	assert.True(t, b.withdraw())
	assert.False(t, b.withdraw(), "empty budget must refuse")
	b.deposit()
	assert.False(t, b.withdraw(), "half a token is not a retry")
	b.deposit()
	assert.True(t, b.withdraw(), "two first attempts earn one retry")
	for range 10 {
		b.deposit()
	}
	assert.InDelta(t, 2, b.Tokens(), 1e-9, "never above max")

	var nilBudget *Budget
	assert.True(t, nilBudget.withdraw(), "a nil budget allows every retry")
	_, err = NewBudget(0, 1)
	assert.Error(t, err)
}
