package occ

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Hooks are functions occ calls as an operation runs, for metrics and
// tracing. Any of them may be nil. They are called synchronously from the
// goroutine running the operation, so they must be quick, and safe for
// concurrent use when the client is shared.
type Hooks struct {
	// OnAttempt is called before every HTTP request occ sends, transient
	// retries included.
	OnAttempt func(ctx context.Context, a Attempt)
	// OnConflict is called for every 409, 412 or 428 answer.
	OnConflict func(ctx context.Context, ce *ConflictError)
	// OnRetry is called before every wait for a retry.
	OnRetry func(ctx context.Context, r Retry)
}

// Attempt describes one HTTP request, for [Hooks.OnAttempt].
type Attempt struct {
	Method string
	URL    string // scheme, host and path: no user info, query or fragment
	Retry  int    // 0 for the first try of a request, then 1, 2, ... for transient retries
}

// Retry describes a coming retry, for [Hooks.OnRetry].
type Retry struct {
	Reason  string        // "conflict" (refresh and reapply), "busy" (resend unchanged) or "transient"
	Attempt int           // the attempt that failed, from 1
	Wait    time.Duration // how long occ waits first (0 when the transient layer decides)
	Err     error         // what failed: a *ConflictError, a transport error, or nil for a transient status
	Status  int           // the answer's status, or 0 for a transport error
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
	mu  sync.Mutex
	st  *Stats
	fan []*statsRef // where a batch of coalesced calls records: each call's own
}

func (r *statsRef) add(f func(*Stats)) {
	if r == nil {
		return
	}
	for _, o := range r.fan {
		o.add(f)
	}
	if r.st == nil {
		return
	}
	r.mu.Lock()
	f(r.st)
	r.mu.Unlock()
}

// noteConflict counts, logs and reports a conflict answer.
func (c *Client) noteConflict(ctx context.Context, s *settings, ce *ConflictError) {
	if s != nil {
		s.stats.add(func(st *Stats) { st.Conflicts++ })
	}
	c.logger.DebugContext(ctx, "occ: conflict", "status", ce.StatusCode, "kind", ce.Kind.String(), "code", ce.Code)
	if c.hooks.OnConflict != nil {
		c.hooks.OnConflict(ctx, ce)
	}
}

// noteRetry logs and reports a conflict-loop retry.
func (c *Client) noteRetry(ctx context.Context, r Retry) {
	c.logger.DebugContext(ctx, "occ: retrying", "reason", r.Reason, "attempt", r.Attempt, "wait", r.Wait)
	if c.hooks.OnRetry != nil {
		c.hooks.OnRetry(ctx, r)
	}
}

// logRetry logs and reports a transient retry.
func (c *Client) logRetry(ctx context.Context, reason string, n int, resp *http.Response, err error) {
	r := Retry{Reason: reason, Attempt: n, Err: err}
	if resp != nil {
		r.Status = resp.StatusCode
	}
	c.logger.DebugContext(ctx, "occ: retrying", "reason", reason, "attempt", n, "status", r.Status)
	if c.hooks.OnRetry != nil {
		c.hooks.OnRetry(ctx, r)
	}
}

// onAttempt is the transient layer's request hook.
func (c *Client) onAttempt(req *http.Request, retry int) {
	logging := c.logger.Enabled(req.Context(), slog.LevelDebug)
	if !logging && c.hooks.OnAttempt == nil {
		return
	}
	a := Attempt{Method: req.Method, URL: logURL(req.URL), Retry: retry}
	c.logger.DebugContext(req.Context(), "occ: request", "method", a.Method, "url", a.URL, "retry", retry)
	if c.hooks.OnAttempt != nil {
		c.hooks.OnAttempt(req.Context(), a)
	}
}

// logURL renders u for logs and hooks: scheme, host and path only, since a
// query may carry personal data as well as secrets.
func logURL(u *url.URL) string {
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}).String()
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
