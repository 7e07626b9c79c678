package occ

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// WithCoalescing turns write coalescing (group commit) on or off. It is on
// by default.
//
// When goroutines of one [Client] call [Modify] or [ModifyJSON] on the same
// URL at once, occ gathers the calls that arrive while a write to that URL
// is being made into one batch (a batch that must read the resource first
// also takes the calls that arrive during that read), applies their change
// functions one after another, in arrival order, to the same fresh state,
// and sends one conditional write. Precisely:
//
//   - Every caller of the batch is answered when that write lands, with the
//     document as written. On a version conflict, the batch's change
//     functions are all applied again to the fresh state, as for one call.
//   - A change function that returns an error is left out of the write, and
//     only its caller gets the error. A caller whose context ends before
//     its change is planned into a write is left out and gets the context's
//     error; one whose context ends after that gets an [*AmbiguousError]
//     wrapping it, since the write may land.
//   - Each change is applied exactly once to the state that lands.
//   - A write refused for a reason one change may have caused (a duplicate,
//     state or unknown conflict, a 4xx such as 422) does not fail the
//     others: every caller of the batch then runs alone.
//   - A batch whose write may have been applied unseen ends like one call
//     (see [ErrAmbiguous]): every caller in it gets the same outcome.
//   - Only calls with the client's settings are batched: a call given any
//     option but [WithStats] or WithCoalescing runs alone, so calls with
//     different settings are never mixed. [Put], [Create], [Get] and
//     [ModifyBytes] are never batched.
//   - The batch after a successful one starts from the document that batch
//     wrote, without reading it again; a stale start costs one conflict.
//
// Change functions of a batch run on a goroutine of occ's, one at a time; a
// panic in one is raised again in its caller's goroutine.
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

// group is the changes waiting for one URL, and the state the last batch
// wrote there.
type group struct {
	queue []*caller
	last  *doc
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
	state callerState
	done  chan callerResult // buffered: answering never blocks
}

// callerResult is what a batch came to for one call.
type callerResult struct {
	doc      *doc
	err      error
	solo     bool // run alone: the batch failed for a reason one change may have caused
	panicked any  // the change function panicked with this
}

// coalesced runs a change as part of a batch. It reports solo when the
// call must run alone instead.
func (c *Client) coalesced(ctx context.Context, url string, plan planner, s *settings) (*doc, error, bool) {
	m := &caller{ctx: ctx, plan: plan, s: s, done: make(chan callerResult, 1)}
	if c.batches.join(url, m) {
		c.leadFirst(url) // the first batch holds m: write it on this goroutine
	}
	select {
	case r := <-m.done:
		return r.unpack()
	case <-ctx.Done():
	}
	switch c.batches.depart(m) {
	case answered:
		r := <-m.done
		return r.unpack()
	case planned:
		return nil, &AmbiguousError{Err: ctx.Err()}, false
	}
	return nil, ctx.Err(), false
}

// unpack returns the result, raising a change function's panic again.
func (r callerResult) unpack() (*doc, error, bool) {
	if r.panicked != nil {
		panic(r.panicked)
	}
	return r.doc, r.err, r.solo
}

// join queues m for url; it reports whether m started the group, whose
// leader the caller must then start.
func (co *coalescer) join(url string, m *caller) bool {
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
	g.queue = append(g.queue, m)
	return !ok
}

// depart marks m gone and returns the state it left from.
func (co *coalescer) depart(m *caller) callerState {
	co.mu.Lock()
	defer co.mu.Unlock()
	st := m.state
	if st != answered {
		m.state = departed
	}
	return st
}

// take returns the calls queued for url, now batched, and the state the
// last batch wrote; with none queued, it ends the group and returns nil.
func (co *coalescer) take(url string) ([]*caller, *doc) {
	co.mu.Lock()
	defer co.mu.Unlock()
	g := co.groups[url]
	batch := g.batch()
	if len(batch) == 0 {
		delete(co.groups, url)
		return nil, nil
	}
	return batch, g.last
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

// remember keeps d as the state the next batch for url starts from.
func (co *coalescer) remember(url string, d *doc) {
	co.mu.Lock()
	defer co.mu.Unlock()
	co.groups[url].last = d
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

// plannableOne is plannable for a batch of one: it reports whether m is
// still waiting, now planned.
func (co *coalescer) plannableOne(m *caller) bool {
	co.mu.Lock()
	defer co.mu.Unlock()
	return m.markPlanned()
}

// markPlanned marks m planned if it is still waiting, and reports whether
// it is; the caller holds coalescer.mu.
func (m *caller) markPlanned() bool {
	if m.state == batched || m.state == planned {
		m.state = planned
		return true
	}
	return false
}

// plannable marks the callers of batch still waiting as planned, and
// returns them.
func (co *coalescer) plannable(batch []*caller) []*caller {
	co.mu.Lock()
	defer co.mu.Unlock()
	live := make([]*caller, 0, len(batch))
	for _, m := range batch {
		if m.markPlanned() {
			live = append(live, m)
		}
	}
	return live
}

// leadFirst writes the first batch of a group on the caller's goroutine,
// so that an uncontended call costs no other goroutine, and hands the
// batches that queued meanwhile to a goroutine of their own.
func (c *Client) leadFirst(url string) {
	batch, last, err := c.gather(url)
	c.commit(url, batch, last, err)
	if batch, last, err = c.gather(url); batch != nil {
		go func() {
			c.commit(url, batch, last, err)
			c.lead(url)
		}()
	}
}

// lead writes the batches of url until none is waiting.
func (c *Client) lead(url string) {
	for {
		// Let the callers just answered run first: those that change the
		// resource again at once then join this batch, not the next.
		runtime.Gosched()
		batch, last, err := c.gather(url)
		if batch == nil {
			return
		}
		c.commit(url, batch, last, err)
	}
}

// gather returns the next batch for url and the state to plan it on, or
// the error reading it. When no earlier write left a state, it reads the
// resource first, for the calls taken so far (see batchContext), and only
// then closes the batch: the calls that arrive during the read join it instead
// of waiting for the next write.
func (c *Client) gather(url string) ([]*caller, *doc, error) {
	batch, last := c.batches.take(url)
	if batch == nil || last != nil {
		return batch, last, nil
	}
	ctx, s, done := batch[0].ctx, batch[0].s, func() {}
	if len(batch) > 1 {
		ctx, done = batchContext(batch)
		s = batchSettings(batch)
	}
	d, err := c.read(ctx, url, s)
	done()
	if err != nil {
		return batch, nil, err
	}
	return append(batch, c.batches.more(url)...), d, nil
}

// commit makes one batch's write, on last or else on the error reading
// it, and answers its calls.
func (c *Client) commit(url string, batch []*caller, last *doc, read error) {
	if len(batch) == 1 {
		c.commitOne(url, batch[0], last, read)
		return
	}
	ctx, cancel := batchContext(batch)
	defer cancel()
	d, err := c.change1(ctx, url, c.composite(batch), batchSettings(batch), last, read)
	r := callerResult{doc: d, err: err, solo: err != nil && splittable(err)}
	for _, m := range batch {
		c.batches.answer(m, r)
	}
}

// commitOne is commit for a batch of one call: the call's own context,
// settings and change, with none of a batch's bookkeeping.
func (c *Client) commitOne(url string, m *caller, last *doc, read error) {
	if !c.batches.plannableOne(m) {
		return // its caller has gone
	}
	d, err := c.change1(m.ctx, url, func(ctx context.Context, cur *doc, attempt int) ([]byte, error) {
		return planSafely(ctx, m, cur, attempt)
	}, m.s, last, read)
	var p *changePanic
	if errors.As(err, &p) {
		c.batches.answer(m, callerResult{panicked: p.value})
		return
	}
	c.batches.answer(m, callerResult{doc: d, err: err})
}

// change1 runs the conflict loop for one write of a group, from last when
// the group's previous write left a state to start from (or the read that
// gather made failed with err), and keeps the state this one leaves for
// the next.
func (c *Client) change1(ctx context.Context, url string, plan planner, s *settings, last *doc, err error) (*doc, error) {
	cur := last
	if cur == nil && err == nil {
		cur, err = c.read(ctx, url, s)
	}
	var d *doc
	if err == nil {
		d, err = c.run(ctx, cur, plan, s)
	}
	var next *doc
	if err == nil && conditionable(d, s) {
		next = d
	}
	c.batches.remember(url, next)
	return d, err
}

// composite plans a batch's write: each live call's change, in order, on
// the state the ones before it left. A change that fails is answered and
// left out.
func (c *Client) composite(batch []*caller) planner {
	return func(ctx context.Context, cur *doc, attempt int) ([]byte, error) {
		acc, next := cur, []byte(nil)
		for _, m := range c.batches.plannable(batch) {
			out, err := planSafely(ctx, m, acc, attempt)
			var p *changePanic
			if errors.As(err, &p) {
				c.batches.answer(m, callerResult{panicked: p.value})
				continue
			}
			if err != nil {
				c.batches.answer(m, callerResult{err: err})
				continue
			}
			if out != nil {
				next = out
				d := *cur // the same validators: the write is conditioned on cur
				d.raw, d.parsed = out, nil
				acc = &d
			}
		}
		if next != nil && sameDocument(next, cur.raw) {
			return nil, nil
		}
		return next, nil
	}
}

// planSafely runs m's change on cur; a panic is handed to m's caller.
func planSafely(ctx context.Context, m *caller, cur *doc, attempt int) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, &changePanic{value: r}
		}
	}()
	return m.plan(ctx, cur, attempt)
}

// changePanic carries a change function's panic to its caller.
type changePanic struct{ value any }

func (p *changePanic) Error() string {
	return fmt.Sprintf("occ: change function panicked: %v", p.value)
}

// batchContext returns the context a batch's requests run under: the first
// call's values, cancelled once every call of the batch has gone, with the
// latest of their deadlines when they all have one.
func batchContext(batch []*caller) (context.Context, context.CancelFunc) {
	base := context.WithoutCancel(batch[0].ctx)
	var cancelDeadline context.CancelFunc = func() {}
	if d, ok := latestDeadline(batch); ok {
		base, cancelDeadline = context.WithDeadline(base, d)
	}
	ctx, cancel := context.WithCancel(base)
	var live atomic.Int64
	live.Store(int64(len(batch)))
	stops := make([]func() bool, len(batch))
	for i, m := range batch {
		stops[i] = context.AfterFunc(m.ctx, func() {
			if live.Add(-1) == 0 {
				cancel()
			}
		})
	}
	return ctx, func() {
		for _, stop := range stops {
			stop()
		}
		cancel()
		cancelDeadline()
	}
}

// latestDeadline returns the latest deadline of the batch's calls, if
// every one has a deadline.
func latestDeadline(batch []*caller) (time.Time, bool) {
	var latest time.Time
	for _, m := range batch {
		d, ok := m.ctx.Deadline()
		if !ok {
			return time.Time{}, false
		}
		if d.After(latest) {
			latest = d
		}
	}
	return latest, true
}

// batchSettings are the settings a batch runs with: the client's, shared by
// every call of the batch, recording into each call's stats.
func batchSettings(batch []*caller) *settings {
	s := *batch[0].s
	fan := &statsRef{fan: make([]*statsRef, 0, len(batch))}
	for _, m := range batch {
		fan.fan = append(fan.fan, m.s.stats)
	}
	s.stats = fan
	return &s
}

// splittable reports whether a batch's write failed for a reason one of its
// changes may have caused, so that its calls should run alone.
func splittable(err error) bool {
	if errors.Is(err, ErrAmbiguous) {
		return false
	}
	var ce *ConflictError
	if errors.As(err, &ce) {
		return ce.Kind == KindDuplicate || ce.Kind == KindState || ce.Kind == KindUnknown
	}
	var se *StatusError
	return errors.As(err, &se) && se.StatusCode >= 400 && se.StatusCode < 500 &&
		se.StatusCode != http.StatusRequestTimeout && se.StatusCode != http.StatusTooManyRequests
}
