package occ

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Hooks are functions occ calls as an operation runs, for metrics and
// tracing. Any of them may be nil. They are called synchronously from the
// goroutine running the operation, so they must be quick, and safe for
// concurrent use when the client is shared. Each receives the operation's
// context: the caller's, or the one [Hooks.OnStart] returned.
//
// Words keep one meaning: an operation is one call of [Get], [Modify],
// [ModifyJSON], [ModifyBytes], [Put], [Create] or their JSON forms; an
// attempt is one write of an operation (see [WithMaxAttempts]); a request
// is one HTTP request, transient resends included.
type Hooks struct {
	// OnStart is called once when an operation starts, before its first
	// request. The context it returns is the one the operation runs with,
	// and the one every other hook of the operation receives, so that a
	// tracer can start a span in it; nil keeps ctx.
	OnStart func(ctx context.Context, op Operation) context.Context
	// OnRequest is called before every HTTP request occ sends, transient
	// resends included.
	OnRequest func(ctx context.Context, r Request)
	// OnResponse is called after every HTTP request occ sends, with its
	// answer's status or its transport error.
	OnResponse func(ctx context.Context, r Response)
	// OnConflict is called for every 409, 412 or 428 answer.
	OnConflict func(ctx context.Context, ce *ConflictError)
	// OnRetry is called before every wait for a retry, with the wait.
	OnRetry func(ctx context.Context, r Retry)
	// OnEnd is called exactly once when an operation ends, however it
	// ends, with what it did.
	OnEnd func(ctx context.Context, r Result)
	// OnBatch is called when coalescing (see [WithCoalescing]) writes the
	// changes of several operations as one batch, before the batch's write.
	// ctx carries none of the operations' values; the context OnBatch
	// returns is the one the batch's requests and their hooks (OnRequest,
	// OnResponse, OnConflict, OnRetry) receive, so that a tracer can start
	// one span for the batch, linked to each operation's; nil keeps ctx.
	// A batch of one operation runs under that operation's own context and
	// is not reported.
	OnBatch func(ctx context.Context, b Batch) context.Context
	// OnBatchEnd is called once for every batch reported to OnBatch when
	// its write has ended, with the context OnBatch returned.
	OnBatchEnd func(ctx context.Context, r BatchResult)
}

// Batch describes a write that coalescing makes for several operations,
// for [Hooks.OnBatch].
type Batch struct {
	URL string // scheme, host and path: no user info, query or fragment
	// Operations are the contexts of the operations whose changes the
	// batch writes, as their OnStart returned them, in arrival order: for
	// reading values such as a span's context, never for sending requests.
	Operations []context.Context
}

// BatchResult is how a batch ended, for [Hooks.OnBatchEnd]: Err is nil
// when its write landed or it had nothing to write.
type BatchResult struct {
	Batch
	Err error
}

// Operation names an operation, for [Hooks.OnStart] and [Hooks.OnEnd].
type Operation struct {
	Name string // "Get", "Modify", "ModifyJSON", "ModifyBytes", "Put" or "Create"
	URL  string // scheme, host and path: no user info, query or fragment
}

// Request describes one HTTP request, for [Hooks.OnRequest].
type Request struct {
	Method string
	URL    string // scheme, host and path: no user info, query or fragment
	Resend int    // 0 for the first send of a request, then 1, 2, ... for transient resends
}

// Response describes the answer to one HTTP request, for
// [Hooks.OnResponse]. Its URL is the one that answered: the last of the
// redirects a read followed (see [WithHTTPClient]).
type Response struct {
	Request
	StatusCode int           // the answer's status, or 0 when Err is set
	Err        error         // the transport error, if no answer came
	Duration   time.Duration // from sending the request to its answer's headers
}

// Retry describes a coming retry, for [Hooks.OnRetry].
type Retry struct {
	// Reason is "conflict" (refresh, reapply and write again), "busy" (write
	// the same again) or "transient" (resend the same request).
	Reason string
	// Attempt is the write that met the conflict, from 1; 0 for a transient
	// retry.
	Attempt int
	// Resend is, for a transient retry, the resend it leads to, from 1.
	Resend int
	// Wait is how long occ waits before the retry.
	Wait time.Duration
	// Err is what failed: a *ConflictError, a transport error, or nil for a
	// transient status.
	Err error
	// Status is the answer's status, or 0 for a transport error.
	Status int
	// RateLimited says the transient retry follows a rate-limited answer (a
	// 429, or a 503 asking to wait): it spends no retry budget (see
	// [WithRateLimitPacing]).
	RateLimited bool
	// RateLimit is the rate limit that answer announced, or nil.
	RateLimit *RateLimit
}

// Outcome says how an operation ended, for [Result].
type Outcome string

// The outcomes of an operation.
const (
	// OutcomeOK: the write landed, or there was nothing to write, or the
	// read or create succeeded.
	OutcomeOK Outcome = "ok"
	// OutcomeConflict: the operation ended on a conflict (a
	// [*ConflictError] or [*MergeConflictError], possibly wrapped by
	// [ErrAttemptsExhausted] or [ErrBudgetExhausted]).
	OutcomeConflict Outcome = "conflict"
	// OutcomeAmbiguous: a write may have been applied unseen, and occ could
	// not prove whether it was (an [*AmbiguousError], matching
	// [ErrAmbiguous]).
	OutcomeAmbiguous Outcome = "ambiguous"
	// OutcomeCanceled: the context was canceled or its deadline passed.
	OutcomeCanceled Outcome = "canceled"
	// OutcomeError: any other error.
	OutcomeError Outcome = "error"
)

// Result is what one operation did, for [Hooks.OnEnd].
type Result struct {
	Operation
	Outcome Outcome
	// Kind is the kind of the last conflict the operation met; it means
	// something only when Conflicts is above 0.
	Kind Kind
	// Stats are the operation's counts: attempts (writes), conflicts,
	// transient retries and reads, and the version it ended on.
	Stats
	Duration time.Duration
	Err      error // the error the operation returned, or nil
}

// outcomeOf classifies the error an operation returned.
func outcomeOf(err error) Outcome {
	switch {
	case err == nil:
		return OutcomeOK
	case errors.Is(err, ErrAmbiguous):
		return OutcomeAmbiguous
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return OutcomeCanceled
	case errors.Is(err, ErrConflict):
		return OutcomeConflict
	}
	return OutcomeError
}

// Stats are what one call did; pass a *Stats with [WithStats] to get them.
type Stats struct {
	Attempts         int    // writes sent, the first included
	Conflicts        int    // 409, 412 and 428 answers
	TransientRetries int    // requests resent by the transient layer
	Reads            int    // GETs
	Version          string // the version the call ended on
	Adopted          bool   // a create found the document existing and returned it
}

// statsRef is where a call records its stats; a nil one records nothing.
// The mutex guards against hooks of the transport running concurrently.
type statsRef struct {
	mu   sync.Mutex
	st   Stats
	kind Kind        // of the last conflict
	fan  []*statsRef // a batch of coalesced calls records in each call's own
}

func (r *statsRef) add(f func(*Stats)) {
	if r == nil {
		return
	}
	for _, o := range r.fan {
		o.add(f)
	}
	if r.fan != nil {
		return
	}
	r.mu.Lock()
	f(&r.st)
	r.mu.Unlock()
}

// conflict counts a conflict answer of kind k.
func (r *statsRef) conflict(k Kind) {
	if r == nil {
		return
	}
	for _, o := range r.fan {
		o.conflict(k)
	}
	r.mu.Lock()
	r.st.Conflicts++
	r.kind = k
	r.mu.Unlock()
}

// snapshot returns the stats so far and the last conflict's kind.
func (r *statsRef) snapshot() (Stats, Kind) {
	if r == nil {
		return Stats{}, KindUnknown
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.st, r.kind
}

// operation runs one operation: it checks its arguments, settles the call's
// settings, and reports its start and its end to the hooks, once each. Every
// operation goes through here.
func operation[T any](ctx context.Context, c *Client, name, target string, opts []CallOption, run func(context.Context, *settings) (Versioned[T], error)) (Versioned[T], error) {
	switch {
	case c == nil:
		return Versioned[T]{}, argError(name, "nil *Client")
	case ctx == nil:
		return Versioned[T]{}, argError(name, "nil context")
	}
	op := Operation{Name: name}
	if c.hooks.OnStart != nil || c.hooks.OnEnd != nil {
		op.URL = hookURL(target)
	}
	start := time.Now()
	if c.hooks.OnStart != nil {
		if octx := c.hooks.OnStart(ctx, op); octx != nil {
			ctx = octx
		}
	}
	s, err := c.settingsFor(name, opts)
	var v Versioned[T]
	if err == nil {
		s.origin = target
		v, err = run(ctx, s)
	}
	c.end(ctx, op, start, s, err)
	return v, err
}

// end hands the operation's stats to the caller's [WithStats] and reports
// its end.
func (c *Client) end(ctx context.Context, op Operation, start time.Time, s *settings, err error) {
	var st Stats
	var kind Kind
	if s != nil {
		st, kind = s.stats.snapshot()
		if s.statsOut != nil {
			*s.statsOut = st
		}
	}
	if c.hooks.OnEnd == nil {
		return
	}
	c.hooks.OnEnd(ctx, Result{Operation: op, Outcome: outcomeOf(err), Kind: kind, Stats: st, Duration: time.Since(start), Err: err})
}

// noteConflict counts, logs and reports a conflict answer.
func (c *Client) noteConflict(ctx context.Context, s *settings, ce *ConflictError) {
	if s != nil {
		s.stats.conflict(ce.Kind)
	}
	c.logger.DebugContext(ctx, "occ: conflict", "status", ce.StatusCode, "kind", ce.Kind.String(), "code", ce.Code)
	if c.hooks.OnConflict != nil {
		c.hooks.OnConflict(ctx, ce)
	}
}

// noteRetry logs and reports a retry.
func (c *Client) noteRetry(ctx context.Context, r Retry) {
	c.logger.DebugContext(ctx, "occ: retrying", "reason", r.Reason, "attempt", r.Attempt, "resend", r.Resend, "status", r.Status, "wait", r.Wait)
	if c.hooks.OnRetry != nil {
		c.hooks.OnRetry(ctx, r)
	}
}

// onRequest is the transient layer's request hook. It notes the request
// on its exchange, for [Client.onResponse].
func (c *Client) onRequest(req *http.Request, resend int) {
	ctx := req.Context()
	watched := c.hooks.OnRequest != nil || c.hooks.OnResponse != nil
	if !watched && !c.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	r := Request{Method: req.Method, URL: logURL(req.URL), Resend: resend}
	if x := exchangeFrom(ctx); x != nil {
		x.request, x.sent = r, time.Now()
	}
	c.logger.DebugContext(ctx, "occ: request", "method", r.Method, "url", r.URL, "resend", resend)
	if c.hooks.OnRequest != nil {
		c.hooks.OnRequest(ctx, r)
	}
}

// onResponse reports the answer to the request last sent for x, or its
// transport error.
func (c *Client) onResponse(ctx context.Context, x *exchange, resp *http.Response, err error) {
	if c.hooks.OnResponse == nil || x == nil {
		return
	}
	r := Response{Request: x.request, Err: err, Duration: time.Since(x.sent)}
	if resp != nil {
		r.StatusCode = resp.StatusCode
		if resp.Request != nil && resp.Request.URL != nil {
			r.URL = logURL(resp.Request.URL) // the final URL, after redirects
		}
	}
	c.hooks.OnResponse(ctx, r)
}

// logURL renders u for logs and hooks: scheme, host and path only, since a
// query may carry personal data as well as secrets.
func logURL(u *url.URL) string {
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}).String()
}

// hookURL is [logURL] for a URL string; one that does not parse is left
// out.
func hookURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	return logURL(u)
}

// reasonOf names the retry a conflict leads to.
func reasonOf(ce *ConflictError) string {
	if ce.Kind == KindBusy {
		return "busy"
	}
	return "conflict"
}

// resolveURL resolves ref against base, or returns base when either does
// not parse.
func resolveURL(base, ref string) string {
	b, err := url.Parse(base)
	if err != nil {
		return base
	}
	r, err := url.Parse(ref)
	if err != nil {
		return base
	}
	return b.ResolveReference(r).String()
}

// joinHooks returns hooks that call a's, then b's.
func joinHooks(a, b Hooks) Hooks {
	return Hooks{
		OnStart:    joinStart(a.OnStart, b.OnStart),
		OnRequest:  join2(a.OnRequest, b.OnRequest),
		OnResponse: join2(a.OnResponse, b.OnResponse),
		OnConflict: join2(a.OnConflict, b.OnConflict),
		OnRetry:    join2(a.OnRetry, b.OnRetry),
		OnEnd:      join2(a.OnEnd, b.OnEnd),
		OnBatch:    joinStart(a.OnBatch, b.OnBatch),
		OnBatchEnd: join2(a.OnBatchEnd, b.OnBatchEnd),
	}
}

// join2 returns a hook calling f, then g; either may be nil.
func join2[P any](f, g func(context.Context, P)) func(context.Context, P) {
	if f == nil || g == nil {
		if f == nil {
			return g
		}
		return f
	}
	return func(ctx context.Context, p P) { f(ctx, p); g(ctx, p) }
}

// joinStart returns a hook that calls f, then g with the context f
// returned, and returns the context g returned (OnStart, OnBatch).
func joinStart[P any](f, g func(context.Context, P) context.Context) func(context.Context, P) context.Context {
	if f == nil || g == nil {
		if f == nil {
			return g
		}
		return f
	}
	return func(ctx context.Context, p P) context.Context {
		if c := f(ctx, p); c != nil {
			ctx = c
		}
		if c := g(ctx, p); c != nil {
			ctx = c
		}
		return ctx
	}
}
