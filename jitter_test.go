package occ

import (
	"container/heap"
	"math/rand/v2"
	"testing"
	"time"
)

// This file measures the choice of full jitter for conflict backoff: a
// discrete-event simulation of writers racing to update one resource, in
// virtual time, so that it is exact and repeatable. Run it with
//
//	go test -run '^$' -bench Jitter -benchtime 20x .
//
// and compare writes/op (total write attempts: the load on the server) and
// makespan-ms (virtual time until every writer landed).

// simEvent is a writer's next step in virtual time.
type simEvent struct {
	at      time.Duration
	writer  int
	writing bool // false: the read is due; true: the write is due
}

type simQueue []simEvent

func (q simQueue) Len() int           { return len(q) }
func (q simQueue) Less(i, j int) bool { return q[i].at < q[j].at }
func (q simQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *simQueue) Push(x any)        { *q = append(*q, x.(simEvent)) }
func (q *simQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

// simulate races writers that each land one conditional write, with a
// round trip of rtt per request, backing off with wait(writer, attempt)
// after each conflict. It returns the write attempts and the makespan.
func simulate(writers int, rtt time.Duration, wait func(writer, attempt int) time.Duration) (int, time.Duration) {
	version, writes := 0, 0
	seen := make([]int, writers)
	attempts := make([]int, writers)
	q := &simQueue{}
	for w := range writers {
		heap.Push(q, simEvent{at: 0, writer: w})
	}
	var end time.Duration
	for q.Len() > 0 {
		e := heap.Pop(q).(simEvent)
		if !e.writing {
			seen[e.writer] = version
			heap.Push(q, simEvent{at: e.at + rtt, writer: e.writer, writing: true})
			continue
		}
		writes++
		attempts[e.writer]++
		if seen[e.writer] == version {
			version++
			end = max(end, e.at)
			continue
		}
		next := e.at + wait(e.writer, attempts[e.writer])
		heap.Push(q, simEvent{at: next + rtt, writer: e.writer})
	}
	return writes, end
}

// decorrelated is AWS's "decorrelated jitter": sleep = min(cap,
// random(base, 3·previous)). It needs per-operation state, which a shared
// [Backoff] cannot hold; that is one reason occ does not use it.
func decorrelated(writers int, base, ceil time.Duration) func(int, int) time.Duration {
	prev := make([]time.Duration, writers)
	return func(w, _ int) time.Duration {
		if prev[w] == 0 {
			prev[w] = base
		}
		prev[w] = min(ceil, base+rand.N(3*prev[w]-base+1))
		return prev[w]
	}
}

func BenchmarkJitter(b *testing.B) {
	const writers, rtt = 32, 2 * time.Millisecond
	base, ceil := 20*time.Millisecond, 2*time.Second
	strategies := []struct {
		name string
		wait func() func(int, int) time.Duration
	}{
		{"none", func() func(int, int) time.Duration {
			return func(int, int) time.Duration { return 0 }
		}},
		{"exponential-no-jitter", func() func(int, int) time.Duration {
			return func(_, a int) time.Duration { return capped(base, ceil, a) }
		}},
		{"full", func() func(int, int) time.Duration {
			e := Exponential(base, ceil)
			return func(_, a int) time.Duration { return e.Backoff(a) }
		}},
		{"decorrelated", func() func(int, int) time.Duration { return decorrelated(writers, base, ceil) }},
	}
	for _, s := range strategies {
		b.Run("jitter="+s.name, func(b *testing.B) {
			var writes int
			var span time.Duration
			for b.Loop() {
				w, d := simulate(writers, rtt, s.wait())
				writes, span = writes+w, span+d
			}
			b.ReportMetric(float64(writes)/float64(b.N), "writes/op")
			b.ReportMetric(float64(span.Milliseconds())/float64(b.N), "makespan-ms")
		})
	}
}

func TestSimulationLandsEveryWriter(t *testing.T) {
	writes, span := simulate(8, time.Millisecond, func(int, int) time.Duration { return 0 })
	if writes < 8 || span <= 0 {
		t.Fatalf("writes=%d span=%v: every writer must land once", writes, span)
	}
	// One writer never conflicts: one write, one round trip.
	writes, span = simulate(1, time.Millisecond, nil)
	if writes != 1 || span != time.Millisecond {
		t.Fatalf("writes=%d span=%v, want 1 and 1ms", writes, span)
	}
}
