package occ

import (
	"bytes"
	"context"
	"runtime"
	"sync"
	"time"
)

// WithCoalescing turns write coalescing (group commit) on or off. It is on
// by default.
//
// When goroutines of one [Client] call [Modify] or [ModifyJSON] on the same
// URL at once, occ gathers the calls that arrive while a write to that URL
// is being made into one batch, applies their change functions one after
// another, in arrival order, to the same state, and sends one conditional
// write. Every caller gets an outcome the same call could have had alone:
//
//   - Success rests only on proof made after the call began: the batch's own
//     2xx to a write that carried its change, or a read sent after the call
//     joined that leaves its change nothing to write. A batch starts from
//     the document the previous batch wrote, without reading it again; when
//     that start leaves a caller's change nothing to write, or its change
//     fails on it, occ reads again before it answers.
//   - A change function that returns an error is left out of the write, and
//     only its caller gets the error. A write refused for a reason one
//     change may have caused (a duplicate, state or unknown conflict, a 4xx
//     such as 422) does not fail the others: every caller of the batch then
//     runs alone.
//   - Each change is applied at most once, and exactly once when its caller
//     is told it landed. A batch whose write may have been applied unseen
//     (see [ErrAmbiguous]) answers each caller as one call would: success
//     when a fresh read leaves its change nothing to write, else an
//     [*AmbiguousError], also when its change now returns an error.
//   - Each caller waits on its own context and leaves when it ends, whatever
//     the others do. One that leaves before its change is planned into a
//     write gets the context's error; one that leaves after gets an
//     [*AmbiguousError] with the write's Idempotency-Key.
//   - Results are the caller's own: the bytes and documents returned share
//     no memory with other callers or with what occ keeps.
//
// Where the work runs: a call that finds no batch under way for its URL
// reads the resource on its own goroutine, under its own context; when no
// other call joined during that read, it goes on alone, as if coalescing
// were off. Otherwise, and for every later batch, a goroutine of occ's
// makes the batch's write (starting from that read), and the change
// functions run there, one at a time, while each caller waits on its own. A panic in a change
// function is raised again in its caller only; runtime.Goexit in one (what
// t.FailNow does) ends its caller's goroutine only. A panic or Goexit in the
// transport or a hook during a batch's request is raised again in each
// caller of that batch; it never ends the process. When one change function
// runs for more than 50 ms (one that blocks, or that calls Modify on its own
// URL and would otherwise wait for itself), the calls waiting behind it
// whose changes are not planned yet leave the batch and run alone.
//
// Identity: a batch of several calls sends its requests under a context
// that carries none of the callers' values (only a deadline and
// cancellation that follow the callers still waiting), so that no caller's
// credentials, tenant or trace is used for another's change. A batch of one
// call uses that call's own context. A client whose transport takes
// credentials from the request's context (per-user or per-tenant
// authentication) must turn coalescing off: its batched requests would go
// out with no identity and be refused (the calls then run alone, slower).
// Tracing shows a batch's requests under one span linked to every caller's
// operation (see [Hooks].OnBatch).
//
// Only calls with the client's settings are batched: a call given any
// option but [WithStats] or WithCoalescing runs alone, so calls with
// different settings are never mixed. [Put], [Create], [Get] and
// [ModifyBytes] are never batched.
func WithCoalescing(on bool) SharedOption {
	return coalescingOption(func(s *settings) error {
		s.coalesce = on
		return nil
	})
}

// coalescingOption is the type of [WithCoalescing]: an option that does not
// make a call's settings its own (see settings.tailored).
type coalescingOption func(*settings) error

func (f coalescingOption) applyCall(s *settings) error { return f(s) }
func (f coalescingOption) applyClient(c *Client) error { return f(&c.defaults) }

// coalescer batches the concurrent changes of one client, by URL.
type coalescer struct {
	mu     sync.Mutex
	groups map[string]*group
}

// group is the calls waiting for one URL. A group exists while it has a
// leader: the goroutine, a caller's or occ's, that makes its writes; it
// ends when its leader finds its queue empty.
type group struct {
	queue    []*caller
	last     *doc      // a private copy of the state the last batch left, or nil
	lastSeq  uint64    // joins counted when last was asked for (see proves)
	joins    uint64    // calls that have joined, ever: a call's seq
	planning time.Time // when the change function running now began; zero when none runs
}

// callerState is where a call stands in its group; guarded by coalescer.mu.
type callerState int

const (
	queued   callerState = iota // waiting for a batch
	batched                     // in a batch, not yet planned into a write
	planned                     // its change is in a write that may be sent
	answered                    // its result is in its channel
	departed                    // its caller has gone
)

// caller is one call waiting in a group.
type caller struct {
	ctx   context.Context
	plan  planner
	s     *settings
	seq   uint64 // its place among the group's joins
	state callerState
	key   string            // the Idempotency-Key of the write it is planned into
	tries int               // that write's attempt number
	done  chan callerResult // buffered: answering never blocks
}

// callerResult is what a batch came to for one call.
type callerResult struct {
	doc      *doc
	err      error
	solo     bool // run alone: the batch failed for a reason one change may have caused
	panicked any  // raise this panic in the caller
	goexit   bool // end the caller's goroutine with runtime.Goexit
}

// role is what a call that joins a group does next.
type role int

const (
	follow role = iota // wait for a batch
	lead               // make the group's first write, alone
)

// coalesced runs a change as part of a batch. It reports solo when the
// call must run alone instead.
func (c *Client) coalesced(ctx context.Context, url string, plan planner, s *settings) (*doc, error, bool) {
	m := &caller{ctx: ctx, plan: plan, s: s, done: make(chan callerResult, 1)}
	if c.batches.join(url, m) == lead {
		return c.leadAlone(url, m)
	}
	return c.batches.await(url, m)
}

// stuckAfter is how long one change function of a group may run before
// the calls waiting behind it that are not planned yet leave the group and
// run alone: a change function that blocks, or that calls Modify on its
// own URL (which would otherwise wait for itself), holds up nobody longer.
const stuckAfter = 50 * time.Millisecond

// await waits for m's result or the end of its caller's context, whichever
// comes first. It reports solo when m left a group stuck in a change
// function (see stuckAfter) to run alone.
func (co *coalescer) await(url string, m *caller) (*doc, error, bool) {
	stuck := time.NewTimer(stuckAfter)
	defer stuck.Stop()
	for {
		select {
		case r := <-m.done:
			return r.unpack()
		case <-m.ctx.Done():
			return co.left(m)
		case <-stuck.C:
			wait, escaped := co.escape(url, m)
			if escaped {
				return nil, nil, true
			}
			stuck.Reset(wait)
		}
	}
}

// escape takes m out of url's group, to run alone, when the change
// function running there has run for stuckAfter and m's change is not
// planned yet; else it returns how long to wait before asking again.
func (co *coalescer) escape(url string, m *caller) (time.Duration, bool) {
	co.mu.Lock()
	defer co.mu.Unlock()
	g := co.groups[url]
	if g == nil || g.planning.IsZero() || (m.state != queued && m.state != batched) {
		return stuckAfter, false
	}
	if ran := time.Since(g.planning); ran < stuckAfter {
		return stuckAfter - ran, false
	}
	m.state = departed
	return 0, true
}

// left returns what a call whose context ended gets, by where it stood.
func (co *coalescer) left(m *caller) (*doc, error, bool) {
	st, key, tries := co.depart(m)
	switch st {
	case answered:
		return (<-m.done).unpack()
	case planned:
		return nil, &AmbiguousError{Key: key, Attempts: tries, Err: m.ctx.Err()}, false
	}
	return nil, m.ctx.Err(), false
}

// unpack returns the result, raising a change function's panic or Goexit
// again in the caller's goroutine.
func (r callerResult) unpack() (*doc, error, bool) {
	switch {
	case r.panicked != nil:
		panic(r.panicked)
	case r.goexit:
		runtime.Goexit()
	}
	return r.doc, r.err, r.solo
}

// join queues m for url and says what its caller does next: lead a new
// group, or follow the one under way.
func (co *coalescer) join(url string, m *caller) role {
	co.mu.Lock()
	defer co.mu.Unlock()
	if co.groups == nil {
		co.groups = map[string]*group{}
	}
	g, ok := co.groups[url]
	if !ok {
		g = &group{}
		co.groups[url] = g
	}
	g.joins++
	m.seq = g.joins
	if !ok {
		m.state = batched // the leader's batch is itself
		return lead
	}
	g.queue = append(g.queue, m)
	return follow
}

// depart marks m gone and returns the state it left from, with the write
// it was planned into.
func (co *coalescer) depart(m *caller) (callerState, string, int) {
	co.mu.Lock()
	defer co.mu.Unlock()
	st := m.state
	if st != answered {
		m.state = departed
	}
	return st, m.key, m.tries
}

// take returns the calls queued for url, now batched, the state the last
// batch left and the joins counted when it was asked for; with none
// queued, it ends the group and returns nil.
func (co *coalescer) take(url string) ([]*caller, *doc, uint64) {
	co.mu.Lock()
	defer co.mu.Unlock()
	g := co.groups[url]
	batch := g.batch()
	if len(batch) == 0 {
		delete(co.groups, url)
		return nil, nil, 0
	}
	return batch, g.last, g.lastSeq
}

// more returns the calls queued for url since the last take, now batched;
// unlike take, it leaves the group open when there are none.
func (co *coalescer) more(url string) []*caller {
	co.mu.Lock()
	defer co.mu.Unlock()
	return co.groups[url].batch()
}

// batch empties the queue into a batch of the calls still waiting; the
// caller holds coalescer.mu.
func (g *group) batch() []*caller {
	var batch []*caller
	for _, m := range g.queue {
		if m.state == queued {
			m.state = batched
			batch = append(batch, m)
		}
	}
	g.queue = nil
	return batch
}

// now returns the joins counted so far for url: a request sent after now
// was sent after every call counted had joined.
func (co *coalescer) now(url string) uint64 {
	co.mu.Lock()
	defer co.mu.Unlock()
	return co.groups[url].joins
}

// remember keeps a private copy of d, asked for when seq joins had been
// counted, as the state the next batch for url starts from; nil forgets.
func (co *coalescer) remember(url string, d *doc, seq uint64) {
	if d != nil {
		d = d.clone()
	}
	co.mu.Lock()
	defer co.mu.Unlock()
	g := co.groups[url]
	g.last, g.lastSeq = d, seq
}

// handOff ends the leadership of the goroutine that held url's group: a
// goroutine of occ's takes the calls still queued, or the group ends.
func (c *Client) handOff(url string) {
	co := &c.batches
	co.mu.Lock()
	defer co.mu.Unlock()
	g := co.groups[url]
	g.planning = time.Time{}
	if len(g.queue) == 0 {
		delete(co.groups, url)
		return
	}
	go c.lead(url, nil)
}

// answer gives m its result, unless it has one or has gone.
func (co *coalescer) answer(m *caller, r callerResult) {
	co.mu.Lock()
	defer co.mu.Unlock()
	if m.state == answered || m.state == departed {
		return
	}
	m.state = answered
	m.done <- r
}

// plannable marks the callers of batch still waiting as planned into the
// write of the given attempt, with key, and returns them.
func (co *coalescer) plannable(batch []*caller, key string, attempt int) []*caller {
	co.mu.Lock()
	defer co.mu.Unlock()
	live := make([]*caller, 0, len(batch))
	for _, m := range batch {
		if m.state == batched || m.state == planned {
			m.state, m.key, m.tries = planned, key, attempt
			live = append(live, m)
		}
	}
	return live
}

// setPlanning notes whether a change function of url is running.
func (co *coalescer) setPlanning(url string, on bool) {
	co.mu.Lock()
	defer co.mu.Unlock()
	g := co.groups[url]
	if g.planning = (time.Time{}); on {
		g.planning = time.Now()
	}
}

// clone returns a copy of d that shares no memory with it.
func (d *doc) clone() *doc {
	cp := *d
	cp.raw, cp.parsed = bytes.Clone(d.raw), nil
	return &cp
}
