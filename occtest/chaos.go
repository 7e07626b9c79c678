package occtest

import (
	"fmt"
	"math/rand/v2"
	"net/http"
)

// RandomFault is a [Fault] that hits each request it matches with
// probability Rate, for soak tests; see [Store.InjectRandom]. Its Times
// must be 0: a random fault never runs out.
type RandomFault struct {
	Fault
	// Rate is the probability, between 0 and 1, that the fault hits a
	// request it matches.
	Rate float64
}

// chaos is the state of InjectRandom: the faults and their random source.
type chaos struct {
	faults []RandomFault
	rng    *rand.Rand
}

// InjectRandom makes faults hit requests at random, replacing the faults of
// an earlier call (none removes them). Queued faults ([Store.Inject]) come
// first; a request that none of them hits draws one number, uniform in
// [0, 1), from a PCG source seeded with seed, and the faults that match the
// request take consecutive slices of [0, 1) as wide as their rates, in
// order. So each fault hits with its Rate as long as the rates of the
// faults that match one request add up to at most 1, and the same seed
// gives the same faults to the same sequence of requests. Request.Fault
// records which one hit. InjectRandom panics if a fault is invalid, has a
// Times, or a Rate outside [0, 1]. It is safe for concurrent use.
func (s *Store) InjectRandom(seed uint64, faults ...RandomFault) {
	cp := make([]RandomFault, len(faults))
	for i, f := range faults {
		if err := f.validate(); err != nil {
			panic(err)
		}
		if f.Times != 0 || !(f.Rate >= 0 && f.Rate <= 1) {
			panic(fmt.Errorf("occtest: RandomFault %d: Times must be 0 and Rate in [0, 1], got %d and %v", i, f.Times, f.Rate))
		}
		f.Header = f.Header.Clone()
		cp[i] = f
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chaos = nil
	if len(cp) > 0 {
		s.chaos = &chaos{faults: cp, rng: rand.New(rand.NewPCG(seed, seed))}
	}
}

// drawRandom picks a random fault for r, if one hits; s.mu must be held.
func (s *Store) drawRandom(r *http.Request) (Fault, bool) {
	if s.chaos == nil {
		return Fault{}, false
	}
	u := s.chaos.rng.Float64()
	acc := 0.0
	for _, f := range s.chaos.faults {
		if !f.matches(r) {
			continue
		}
		acc += f.Rate
		if u < acc {
			return f.Fault, true
		}
	}
	return Fault{}, false
}
