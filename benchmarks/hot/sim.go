package hot

import (
	"container/heap"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// SimConfig is one setting of [Simulate]: a discrete-event model of the
// counter workload, with no CPU and no scheduler, in milliseconds.
type SimConfig struct {
	Writers, Updates int     // as in Config
	Latency          float64 // the server's wait before it handles a request
	Net              float64 // one way on the wire
	Overhead         float64 // the client's work before each request
	Seed             uint64
}

// SimResult is what the writers of one simulation did.
type SimResult struct {
	XSerial, WritesPerLanded float64
	P50, P99, Max            float64 // latency of updates, ms
}

// SimPolicy decides a writer's wait before a retry. The writer's state is
// what a client can know: its measured retry round trip, its usual
// contended latency, and how long the current update has run.
type SimPolicy interface {
	Wait(w *SimWriter, rng *rand.Rand) float64
}

// SimWriter is one writer's view, kept by [Simulate] for its policy.
type SimWriter struct {
	RTT     float64 // moving average (1/8) of a retry's read and write
	Typical float64 // moving average (1/8) of contended update latency; 0 before one
	Age     float64 // how long the current update has run
	Retry   int     // retries of the current update so far
}

// ParseSimPolicy reads immediate, full:B:C, paced:M or tilt:M:G:K, as
// ParsePolicy does (durations in ms, bare numbers).
func ParseSimPolicy(spec string) (SimPolicy, error) {
	kind, rest, _ := strings.Cut(spec, ":")
	var a []float64
	if rest != "" {
		for _, f := range strings.Split(rest, ":") {
			v, err := strconv.ParseFloat(strings.TrimSuffix(f, "ms"), 64)
			if err != nil {
				return nil, fmt.Errorf("sim policy %q: %w", spec, err)
			}
			a = append(a, v)
		}
	}
	want := map[string]int{"immediate": 0, "full": 2, "paced": 1, "tilt": 3}
	if n, ok := want[kind]; !ok || n != len(a) {
		return nil, fmt.Errorf("sim policy %q: unknown kind or wrong number of arguments", spec)
	}
	switch kind {
	case "full":
		return simFull{a[0], a[1]}, nil
	case "paced":
		return simTilt{m: a[0], g: 0, k: 1}, nil
	case "tilt":
		return simTilt{m: a[0], g: a[1], k: a[2]}, nil
	}
	return simTilt{}, nil // immediate: a window of zero
}

// simFull is full jitter from b to c ms.
type simFull struct{ b, c float64 }

func (p simFull) Wait(w *SimWriter, rng *rand.Rand) float64 {
	return rng.Float64() * math.Min(p.c, p.b*math.Exp2(float64(w.Retry-1)))
}

// simTilt is Tilt (paced when k is 1).
type simTilt struct{ m, g, k float64 }

func (p simTilt) Wait(w *SimWriter, rng *rand.Rand) float64 {
	f := 1.0
	if w.Typical > 0 && p.k > 1 {
		f = math.Min(p.k, math.Max(1/p.k, math.Exp2(-p.g*(w.Age/w.Typical-1))))
	}
	return rng.Float64() * p.m * f * w.RTT
}

// event is something that happens at a time.
type event struct {
	at float64
	do func()
}

type events []event

func (q events) Len() int           { return len(q) }
func (q events) Less(i, j int) bool { return q[i].at < q[j].at }
func (q events) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *events) Push(x any)        { *q = append(*q, x.(event)) }
func (q *events) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

// sim is one simulation's world: the clock, the queue, one document's
// version, and what was measured.
type sim struct {
	cfg     SimConfig
	now     float64
	q       events
	rng     *rand.Rand
	version int
	writes  int
	lats    []float64
}

func (s *sim) after(d float64, do func()) { heap.Push(&s.q, event{s.now + d, do}) }

// request sends one request: the server handles it after the wire and its
// latency, and the answer comes back over the wire.
func (s *sim) request(handle func() func()) {
	s.after(s.cfg.Overhead+s.cfg.Net+s.cfg.Latency, func() {
		answer := handle()
		s.after(s.cfg.Net, answer)
	})
}

// update runs one writer's updates one after another, each a read and a
// conditional write, retried after the policy's wait.
func (s *sim) update(w *SimWriter, p SimPolicy, left int) {
	start := s.now
	w.Retry = 0
	var attempt func()
	attempt = func() {
		began := s.now
		s.request(func() func() {
			v := s.version
			return func() {
				s.request(func() func() {
					s.writes++
					won := v == s.version
					if won {
						s.version++
					}
					return func() { s.answered(w, p, won, start, began, left, attempt) }
				})
			}
		})
	}
	attempt()
}

// answered handles a write's answer.
func (s *sim) answered(w *SimWriter, p SimPolicy, won bool, start, began float64, left int, attempt func()) {
	if w.Retry > 0 {
		w.RTT += (s.now - began - w.RTT) / 8
	}
	if won {
		lat := s.now - start
		s.lats = append(s.lats, lat)
		if w.Retry > 0 {
			if w.Typical == 0 {
				w.Typical = lat
			} else {
				w.Typical += (lat - w.Typical) / 8
			}
		}
		if left > 1 {
			s.after(0, func() { s.update(w, p, left-1) })
		}
		return
	}
	w.Retry++
	w.Age = s.now - start
	s.after(p.Wait(w, s.rng), attempt)
}

// Simulate runs the counter workload under policy p in the model: every
// writer reads and writes one document, the server handles each request
// one latency after it was sent (concurrently), and a write commits when it
// names the current version.
func Simulate(cfg SimConfig, p SimPolicy) SimResult {
	s := &sim{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 1))}
	for range cfg.Writers {
		w := &SimWriter{RTT: 10}
		s.after(s.rng.Float64()*cfg.Net, func() { s.update(w, p, cfg.Updates) })
	}
	for s.q.Len() > 0 {
		e := heap.Pop(&s.q).(event)
		s.now = e.at
		e.do()
	}
	serial := 1 / (2*(cfg.Latency+2*cfg.Net) + 2*cfg.Overhead)
	slices.Sort(s.lats)
	at := func(f float64) float64 { return s.lats[int(f*float64(len(s.lats)-1))] }
	return SimResult{
		XSerial:         float64(len(s.lats)) / s.now / serial,
		WritesPerLanded: float64(s.writes) / float64(len(s.lats)),
		P50:             at(0.5), P99: at(0.99), Max: at(1),
	}
}

// ModelXSerial is the most goodput, over the serial limit, that writers
// who do not coordinate can reach on one document at the given writes per
// landed update: with reads (each then written) at rate λ, unrelated to
// the commits, a cycle between commits lasts L + 1/λ and costs 1 + λL
// writes, and the serial limit is one update per 2L, so goodput / serial =
// 2 / (1 + 1/(λL)) with λL = writes - 1.
// The bound is meant for contention (2 writes per update and more); below
// that, one writer alone reaches the serial limit, and ModelXSerial says 1.
func ModelXSerial(writesPerLanded float64) float64 {
	if writesPerLanded <= 2 {
		return 1
	}
	return 2 / (1 + 1/(writesPerLanded-1))
}
