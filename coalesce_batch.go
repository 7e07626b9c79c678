package occ

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"sync/atomic"
	"time"
)

// batchRun is one batch of a group: its calls and what the batch knows of
// the document. Only the goroutine leading the group touches it, but for
// abort, which runs on that goroutine too.
type batchRun struct {
	url      string
	callers  []*caller
	start    *doc   // the state the batch plans its first write on
	startSeq uint64 // joins counted when start was asked for
	readErr  error  // reading start failed
	key      string // the Idempotency-Key of the write being planned
	planSeq  uint64 // joins counted when the last write was planned
	planning *caller
	settle   *settling // the batch's write may have landed: see settleEach
}

// errUnproven says that a batch's start proves nothing for a caller whose
// answer would rest on it: the batch reads again before it answers.
var errUnproven = errors.New("occ: batch start older than a caller")

// errGoexit is what the other callers of a batch get when a change function
// ended the batch's goroutine after the batch's write may have landed.
var errGoexit = errors.New("occ: a change function of the same batch called runtime.Goexit")

// leadAlone makes a new group's first write, for its leader m, on m's
// goroutine and under m's context and settings, as if coalescing were off.
// Calls that join while m reads make it a batch: it is handed, with the
// document m read as its start, to a goroutine of occ's, and m waits for
// it like the others. Either way the group gets its next leader, however
// this ends.
func (c *Client) leadAlone(url string, m *caller) (*doc, error, bool) {
	handed := false
	defer func() {
		if !handed {
			c.handOff(url)
		}
	}()
	seq := c.batches.now(url)
	cur, err := c.read(m.ctx, url, m.s)
	if err != nil {
		return nil, err, false
	}
	if more := c.batches.more(url); len(more) > 0 {
		handed = true
		go c.lead(url, &batchRun{url: url, callers: append([]*caller{m}, more...), start: cur, startSeq: seq})
		return c.batches.await(url, m)
	}
	d, err := c.run(m.ctx, cur, c.marking(url, m.plan), m.s)
	c.keep(url, d, err, m.s, cur, seq, seq)
	return d, err, false
}

// marking is plan, noting while it runs that a change function of url is
// running (see coalescer.join).
func (c *Client) marking(url string, plan planner) planner {
	return func(ctx context.Context, cur *doc, attempt int) ([]byte, error) {
		c.batches.setPlanning(url, true)
		defer c.batches.setPlanning(url, false)
		return plan(ctx, cur, attempt)
	}
}

// keep remembers what a write of url left, d, as the next batch's start:
// start itself (read when startSeq joins were counted) when nothing was
// written, else a write's answer or a read made after the write was
// planned (when planSeq joins were counted). Nothing is kept after an
// error or when d cannot condition a write.
func (c *Client) keep(url string, d *doc, err error, s *settings, start *doc, startSeq, planSeq uint64) {
	switch {
	case err != nil || !conditionable(d, s):
		c.batches.remember(url, nil, 0)
	case d == start:
		c.batches.remember(url, d, startSeq)
	default:
		c.batches.remember(url, d, planSeq)
	}
}

// lead writes the batches of url, b first when it is not nil, until none
// is waiting.
func (c *Client) lead(url string, b *batchRun) {
	for c.leadBatch(url, b) {
		b = nil
	}
}

// leadBatch writes one batch of url, b or else the next one gathered, and
// reports whether to look for more. A panic or Goexit on the way ends only
// this batch: its callers are answered (see abort) and another goroutine
// leads the group on.
func (c *Client) leadBatch(url string, b *batchRun) (more bool) {
	if b == nil {
		b = &batchRun{url: url}
	}
	finished := false
	defer func() {
		if !finished {
			c.abort(b, recover()) // nil: runtime.Goexit
			c.handOff(url)        // to another goroutine: this one stops
			more = false
		}
	}()
	if more = b.callers != nil; !more {
		// Let the callers just answered run first: those that change the
		// resource again at once then join this batch, not the next.
		runtime.Gosched()
		more = c.gather(b)
	}
	if more {
		c.commit(b)
	}
	finished = true
	return more
}

// gather takes the next batch for url and the state to plan it on. A batch
// of several calls with no state to start from reads the resource first,
// for the calls taken so far, and only then closes: the calls that arrive
// during the read join it. It reports false when no call is waiting.
func (c *Client) gather(b *batchRun) bool {
	callers, last, seq := c.batches.take(b.url)
	if callers == nil {
		return false
	}
	b.callers, b.start, b.startSeq = callers, last, seq
	if last != nil || len(callers) == 1 {
		return true // a lone call reads under its own context, in change1
	}
	ctx, done := batchContext(callers)
	b.fetch(ctx, c, batchSettings(callers))
	done()
	if b.readErr == nil {
		b.callers = append(b.callers, c.batches.more(b.url)...)
	}
	return true
}

// fetch reads the batch's start afresh.
func (b *batchRun) fetch(ctx context.Context, c *Client, s *settings) {
	b.startSeq = c.batches.now(b.url)
	b.start, b.readErr = c.read(ctx, b.url, s)
}

// commit makes one batch's write and answers its calls.
func (c *Client) commit(b *batchRun) {
	ctx, s, end := c.scope(b)
	d, err := c.change1(ctx, b, s)
	end(err)
	r := callerResult{doc: d, err: err, solo: len(b.callers) > 1 && err != nil && splittable(err)}
	for i, m := range b.callers {
		if i > 0 && d != nil {
			r.doc = d.clone() // each caller's own
		}
		c.batches.answer(m, r)
	}
}

// scope returns the context and settings a batch's requests run with, and
// what to call when it ends: a lone call's own, or for several calls a
// context with none of their values (see batchContext) and the client's
// settings recording into each call's stats.
func (c *Client) scope(b *batchRun) (context.Context, *settings, func(error)) {
	if len(b.callers) == 1 {
		m := b.callers[0]
		s := *m.s
		s.writeKey = b.currentKey
		return m.ctx, &s, func(error) {}
	}
	ctx, cancel := batchContext(b.callers)
	s := batchSettings(b.callers)
	s.writeKey = b.currentKey
	ctx, end := c.startBatch(ctx, b)
	return ctx, s, func(err error) {
		end(err)
		cancel()
	}
}

// currentKey is the Idempotency-Key of the write the batch planned last.
func (b *batchRun) currentKey() string { return b.key }

// change1 runs the conflict loop for one batch, from the state its group's
// last write left or a fresh read, and keeps the state this one leaves for
// the next batch. A start that proves nothing for some caller's answer is
// read again.
func (c *Client) change1(ctx context.Context, b *batchRun, s *settings) (*doc, error) {
	if b.start == nil && b.readErr == nil {
		b.fetch(ctx, c, s)
	}
	d, err := c.runBatch(ctx, b, s)
	if errors.Is(err, errUnproven) {
		b.fetch(ctx, c, s)
		d, err = c.runBatch(ctx, b, s)
	}
	c.keep(b.url, d, err, s, b.start, b.startSeq, b.planSeq)
	return d, err
}

// runBatch runs the conflict loop from the batch's start.
func (c *Client) runBatch(ctx context.Context, b *batchRun, s *settings) (*doc, error) {
	if b.readErr != nil {
		return nil, b.readErr
	}
	return c.run(ctx, b.start, c.composite(b), s)
}

// composite plans a batch's write: each live call's change, in order, on
// the state the ones before it left.
func (c *Client) composite(b *batchRun) planner {
	return func(ctx context.Context, cur *doc, attempt int) ([]byte, error) {
		if st := settlingFrom(ctx); st != nil {
			b.settle = st
			c.settleEach(ctx, b, c.batches.plannable(b.callers, "", 0), cur, attempt)
			return nil, nil
		}
		b.key, b.planSeq = newIdempotencyKey(), c.batches.now(b.url)
		return c.planAll(ctx, b, c.batches.plannable(b.callers, b.key, attempt), cur, attempt)
	}
}

// planAll runs the changes of live in order on cur and returns the
// document to write, or nil. A change that fails is answered and left
// out; but when cur is the batch's start and proves nothing for a caller
// whose answer would rest on it (its change failed, or nothing is left to
// write), nobody is answered and the batch reads again (errUnproven).
func (c *Client) planAll(ctx context.Context, b *batchRun, live []*caller, cur *doc, attempt int) ([]byte, error) {
	acc, next := cur, []byte(nil)
	var failed []*caller
	var errs []error
	unproven, unprovenFailed := false, false
	for _, m := range live {
		proven := cur != b.start || m.seq <= b.startSeq
		unproven = unproven || !proven
		out, err := c.planOne(ctx, b, m, acc, attempt)
		if p := (*changePanic)(nil); errors.As(err, &p) {
			c.batches.answer(m, callerResult{panicked: p.value})
			continue
		}
		if err != nil {
			failed, errs = append(failed, m), append(errs, err)
			unprovenFailed = unprovenFailed || !proven
			continue
		}
		if out != nil {
			next, acc = out, withRaw(cur, out)
		}
	}
	nothing := next == nil || sameDocument(next, cur.raw)
	if unprovenFailed || (nothing && unproven) {
		return nil, errUnproven
	}
	for i, m := range failed {
		c.batches.answer(m, callerResult{err: errs[i]})
	}
	if nothing {
		return nil, nil
	}
	return next, nil
}

// withRaw returns cur with its bytes replaced by raw: the same validators,
// since the write is conditioned on cur.
func withRaw(cur *doc, raw []byte) *doc {
	d := *cur
	d.raw, d.parsed = raw, nil
	return &d
}

// settleEach answers each live call of a batch whose write may have landed
// unseen and then met a version conflict, as [Client.settle] answers one
// call: success when its change, alone on the fresh state cur, has nothing
// to write; otherwise an [*AmbiguousError], also when the change now fails.
func (c *Client) settleEach(ctx context.Context, b *batchRun, live []*caller, cur *doc, attempt int) {
	for _, m := range live {
		out, err := c.planOne(ctx, b, m, cur, attempt)
		var r callerResult
		switch p := (*changePanic)(nil); {
		case errors.As(err, &p):
			r.panicked = p.value
		case err != nil:
			r.err = b.settle.fail(err)
		case out == nil || sameDocument(out, cur.raw):
			r.doc = cur.clone()
		default:
			r.err = b.settle.fail(b.settle.conflict)
		}
		c.batches.answer(m, r)
	}
}

// planOne runs m's change on cur, noting that a change function of the
// group is running (see coalescer.join) and whose it is (see abort).
func (c *Client) planOne(ctx context.Context, b *batchRun, m *caller, cur *doc, attempt int) ([]byte, error) {
	c.batches.setPlanning(b.url, true)
	b.planning = m
	out, err := planSafely(ctx, m, cur, attempt)
	b.planning = nil // left set when the change function called Goexit
	c.batches.setPlanning(b.url, false)
	return out, err
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

// abort answers the calls of a batch that a panic (r) or runtime.Goexit (r
// nil) ended on the goroutine leading it. A Goexit in a change function is
// its caller's alone: the others run alone, since no write of the batch can
// have landed, unless it may have (then they get an [*AmbiguousError]). A
// panic or Goexit elsewhere (the transport, a hook) is raised again in every
// caller of the batch, as it would have been in each one alone.
func (c *Client) abort(b *batchRun, r any) {
	culprit := b.planning
	for _, m := range b.callers {
		var res callerResult
		switch {
		case m == culprit:
			res.goexit = true
		case culprit != nil && b.settle != nil:
			res.err = b.settle.fail(errGoexit)
		case culprit != nil:
			res.solo = true
		case r != nil:
			res.panicked = r
		default:
			res.goexit = true
		}
		c.batches.answer(m, res)
	}
}

// batchContext returns the context a batch's requests run under: one that
// carries none of the calls' values, cancelled once every call of the
// batch has gone, with the latest of their deadlines when they all have
// one.
func batchContext(batch []*caller) (context.Context, context.CancelFunc) {
	base := context.Background()
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

// settling is what [Client.settle] tells a planner when the write it
// planned may have landed unseen: how to report the outcome of one change.
type settling struct {
	fail     func(error) error // wraps an error in the operation's *AmbiguousError
	conflict error             // the version conflict met after the write
}

type settlingKey struct{}

// withSettling marks ctx as the context of a plan made to settle a write
// that may have landed (see settleEach).
func withSettling(ctx context.Context, fail func(error) error, conflict error) context.Context {
	return context.WithValue(ctx, settlingKey{}, &settling{fail: fail, conflict: conflict})
}

// settlingFrom returns the mark withSettling left on ctx, or nil.
func settlingFrom(ctx context.Context) *settling {
	st, _ := ctx.Value(settlingKey{}).(*settling)
	return st
}

// newKey returns the Idempotency-Key of a new write: the one a batch chose
// for it when planning (see composite), else a fresh one.
func (s *settings) newKey() string {
	if s.writeKey != nil {
		return s.writeKey()
	}
	return newIdempotencyKey()
}

// startBatch reports a batch of several calls to the hooks (see
// [Hooks].OnBatch) and returns the context its requests run with and what
// to call when it ends.
func (c *Client) startBatch(ctx context.Context, b *batchRun) (context.Context, func(error)) {
	if c.hooks.OnBatch == nil && c.hooks.OnBatchEnd == nil {
		return ctx, func(error) {}
	}
	info := Batch{URL: hookURL(b.url), Operations: make([]context.Context, len(b.callers))}
	for i, m := range b.callers {
		info.Operations[i] = m.ctx
	}
	if c.hooks.OnBatch != nil {
		if bctx := c.hooks.OnBatch(ctx, info); bctx != nil {
			ctx = bctx
		}
	}
	return ctx, func(err error) {
		if c.hooks.OnBatchEnd != nil {
			c.hooks.OnBatchEnd(ctx, BatchResult{Batch: info, Err: err})
		}
	}
}
