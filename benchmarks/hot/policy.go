package hot

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/occ-go/occ"
)

// Policy is a candidate conflict policy for occ clients: the options each
// client is made with.
type Policy struct {
	Name    string
	Options func() []occ.Option // called once per client; nil is occ's defaults
}

// liftedAttempts stands for "no attempt cap" in the candidate policies.
const liftedAttempts = 100000

// lifted returns options that keep b but lift the attempt cap and the
// conflict budget (the transient budget stays occ's default): the
// candidates measure the backoff alone, as the library will once conflicts
// that show progress no longer spend budget or attempts.
func lifted(b func() occ.Backoff) func() []occ.Option {
	return func() []occ.Option {
		transient, _ := occ.NewBudget(100, 0.2)
		return []occ.Option{occ.WithBackoff(b()), occ.WithMaxAttempts(liftedAttempts),
			occ.WithRetryBudgets(nil, transient)}
	}
}

// ParsePolicy reads a policy spec:
//
//	default            occ's defaults
//	lifted             occ's default backoff, no attempt cap, no conflict budget
//	full:B:C           full jitter, uniform in [0, min(C, B·2^(n-1)))
//	equal:B:C          equal jitter, half that ceiling plus uniform in the other half
//	const:C            uniform in [0, C) whatever the attempt
//	aging:B:C:K        full jitter whose ceiling grows to attempt K, then halves
//	                   each attempt (a writer that lost often retries sooner)
//	hump:B:C:K:A:F     full jitter whose ceiling grows from B to C, then from
//	                   attempt K on falls as c·(K/n)^A, but not below c/F
//	adaptive:T:A       a per-client contention estimate aiming at T attempts per
//	                   operation, aging with exponent A (see Adaptive)
//	step:B:C:K:S       full jitter from B to C before attempt K, then uniform in
//	                   [0, S): a writer that has lost K rounds jumps the queue
//	aged:Y:O:A         per-client time aging: uniform in [0, Y·cycle) for an
//	                   operation younger than A times the usual, else [0, O·cycle)
//	paced:M            uniform in [0, M·cycle), cycle the client's measured
//	                   time from one conflict to the next (adapts to latency)
//
//	pacedx:M           as paced, but the ceiling rises from one cycle, doubling
//	                   up to M cycles
//	tilt:M:G:K         paced:M tilted by an operation's age against the usual
//	                   (see Tilt): younger waits up to K times longer, older
//	                   down to K times shorter
//
// Every spec but default lifts the attempt cap and the conflict budget.
func ParsePolicy(spec string) (Policy, error) {
	parts := strings.Split(spec, ":")
	args := make([]time.Duration, 0, len(parts)-1)
	for _, p := range parts[1:] {
		d, err := parseArg(p)
		if err != nil {
			return Policy{}, fmt.Errorf("policy %q: %w", spec, err)
		}
		args = append(args, d)
	}
	mk, ok := backoffs[parts[0]]
	if !ok || len(args) != mk.args {
		return Policy{}, fmt.Errorf("policy %q: unknown kind or wrong number of arguments", spec)
	}
	if parts[0] == "default" {
		return Policy{Name: spec}, nil
	}
	return Policy{Name: spec, Options: lifted(func() occ.Backoff { return mk.make(args) })}, nil
}

// parseArg reads a duration, or a bare number (a count or a factor, in
// nanoseconds' clothing).
func parseArg(s string) (time.Duration, error) {
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		return time.Duration(n * float64(time.Second)), nil
	}
	return time.ParseDuration(s)
}

// backoffs are the candidate backoff kinds, by spec name.
var backoffs = map[string]struct {
	args int
	make func(a []time.Duration) occ.Backoff
}{
	"default": {0, nil},
	"lifted":  {0, func([]time.Duration) occ.Backoff { return occ.Exponential(20*time.Millisecond, 2*time.Second) }},
	"full":    {2, func(a []time.Duration) occ.Backoff { return occ.Exponential(a[0], a[1]) }},
	"equal":   {2, func(a []time.Duration) occ.Backoff { return EqualJitter(a[0], a[1]) }},
	"const":   {1, func(a []time.Duration) occ.Backoff { return Constant(a[0]) }},
	"aging":   {3, func(a []time.Duration) occ.Backoff { return Aging(a[0], a[1], count(a[2])) }},
	"hump": {5, func(a []time.Duration) occ.Backoff {
		return Hump(a[0], a[1], count(a[2]), a[3].Seconds(), a[4].Seconds())
	}},
	"adaptive": {2, func(a []time.Duration) occ.Backoff { return NewAdaptive(a[0].Seconds(), a[1].Seconds()) }},
	"step":     {4, func(a []time.Duration) occ.Backoff { return Step(a[0], a[1], count(a[2]), a[3]) }},
	"aged":     {3, func(a []time.Duration) occ.Backoff { return NewAged(a[0].Seconds(), a[1].Seconds(), a[2].Seconds()) }},
	"pacedx":   {1, func(a []time.Duration) occ.Backoff { return NewPacedRise(a[0].Seconds()) }},
	"paced":    {1, func(a []time.Duration) occ.Backoff { return NewPaced(a[0].Seconds()) }},
	"tilt": {3, func(a []time.Duration) occ.Backoff {
		return NewTilt(a[0].Seconds(), a[1].Seconds(), a[2].Seconds())
	}},
}

// count reads a bare number back from parseArg.
func count(d time.Duration) int { return int(d.Seconds()) }

// ceiling returns min(max, base·2^(n-1)).
func ceiling(base, max time.Duration, n int) time.Duration {
	d := base
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

// jitter returns a uniform random duration in [0, d).
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d)
}

// EqualJitter waits half the exponential ceiling plus a uniform random
// part of the other half.
func EqualJitter(base, max time.Duration) occ.Backoff {
	return occ.BackoffFunc(func(n int) time.Duration {
		c := ceiling(base, max, n)
		return c/2 + jitter(c-c/2)
	})
}

// Constant waits uniformly in [0, c) whatever the attempt.
func Constant(c time.Duration) occ.Backoff {
	return occ.BackoffFunc(func(int) time.Duration { return jitter(c) })
}

// Aging is full jitter whose ceiling grows to attempt k and then halves
// with every further attempt, so that a writer that has lost many rounds
// retries sooner than one that just started losing.
func Aging(base, max time.Duration, k int) occ.Backoff {
	return occ.BackoffFunc(func(n int) time.Duration {
		if n <= k {
			return jitter(ceiling(base, max, n))
		}
		return jitter(ceiling(base, max, k) >> min(n-k, 62))
	})
}

// Hump is full jitter whose ceiling grows from base (doubling) up to max,
// and from attempt k on falls as c_k·(k/n)^a, c_k the ceiling at k, but
// never below c_k/floor: the rise finds the contention, the fall ages a
// writer that has lost many rounds ahead of those that just started
// losing.
func Hump(base, max time.Duration, k int, a, floor float64) occ.Backoff {
	return occ.BackoffFunc(func(n int) time.Duration {
		c := ceiling(base, max, min(n, k))
		if n > k {
			c = time.Duration(float64(c) * math.Max(1/floor, math.Pow(float64(k)/float64(n), a)))
		}
		return jitter(c)
	})
}

// Step is full jitter from base to max before attempt k, and from attempt
// k on a uniform wait in [0, short): a writer that has lost k rounds
// retries far sooner than those still climbing, so it wins the next rounds.
func Step(base, max time.Duration, k int, short time.Duration) occ.Backoff {
	return occ.BackoffFunc(func(n int) time.Duration {
		if n >= k {
			return jitter(short)
		}
		return jitter(ceiling(base, max, n))
	})
}
