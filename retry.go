package occ

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// Backoff says how long to wait before a retry. retry is 1 before the first
// retry, 2 before the second, and so on: of an operation's writes for
// [WithBackoff], of a request's sends for [WithTransientRetries].
// Implementations must be safe for concurrent use.
type Backoff interface {
	Backoff(retry int) time.Duration
}

// BackoffFunc adapts a function to a [Backoff].
type BackoffFunc func(retry int) time.Duration

// Backoff calls f.
func (f BackoffFunc) Backoff(retry int) time.Duration { return f(retry) }

var _ Backoff = BackoffFunc(nil)

// Exponential returns a [Backoff] with full jitter: before retry n it waits a
// uniformly random duration in [0, min(max, base·2^(n-1))). Full jitter is
// stateless, so one Backoff serves any number of concurrent operations, and
// it spreads competing writers of a hot resource furthest apart. A zero base
// means no waiting.
func Exponential(base, max time.Duration) Backoff {
	return BackoffFunc(func(attempt int) time.Duration {
		ceil := capped(base, max, attempt)
		if ceil <= 0 {
			return 0
		}
		return rand.N(ceil)
	})
}

// capped returns min(max, base·2^(attempt-1)) without overflowing.
func capped(base, max time.Duration, attempt int) time.Duration {
	d := base
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

// defaultTransientBackoff waits out transient failures. Conflicts are
// paced by the client instead (see pacer).
var defaultTransientBackoff = Exponential(200*time.Millisecond, 10*time.Second)

// Budget is a token bucket that bounds retries against first tries, in the
// spirit of gRPC retry throttling and the AWS SDK retry quota: every
// operation (for a transient budget, every request) earns a fraction of a
// token, every retry spends a whole one, and when fewer than one token is
// left, calls fail fast instead of
// retrying. A nil *Budget allows every retry. A Budget is safe for concurrent
// use and may be shared by several clients.
type Budget struct {
	mu     sync.Mutex
	tokens float64
	max    float64
	earn   float64
}

// NewBudget returns a full budget of max retries that earns perCall tokens
// for every operation (every request, as a transient budget). For example
// NewBudget(100, 0.2)
// allows a burst of 100 retries and, in the long run, one retry for every
// five operations. max must be at least 1 and perCall finite and at least 0.
func NewBudget(max int, perCall float64) (*Budget, error) {
	if max < 1 || !(perCall >= 0) || math.IsInf(perCall, 1) {
		return nil, argError("NewBudget", "max must be at least 1 and perCall at least 0")
	}
	return &Budget{tokens: float64(max), max: float64(max), earn: perCall}, nil
}

// deposit records a first try.
func (b *Budget) deposit() {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.tokens = min(b.max, b.tokens+b.earn)
	b.mu.Unlock()
}

// withdraw takes one retry out of the budget; it reports false when the
// budget is empty.
func (b *Budget) withdraw() bool {
	if b == nil {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// Tokens returns how many retries the budget holds now.
func (b *Budget) Tokens() float64 {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.tokens
}

// ErrBudgetExhausted is returned, wrapped with the failure that wanted a
// retry, when a client's retry budget is empty.
var ErrBudgetExhausted = errors.New("occ: retry budget exhausted")

// sleep waits for d or until ctx is done, whichever comes first.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// exchange is what the transient layer knows about one logical request,
// shared with its retry policy through the request's context.
type exchange struct {
	write bool // not a GET, HEAD or OPTIONS: never follows a redirect
	// safe says the request may be sent again even when an earlier send
	// may have been applied: its method is idempotent, it is conditional,
	// or it carries an Idempotency-Key the server is declared to honour.
	safe      bool
	retries   int  // transient retries made, rate-limited ones included
	limited   int  // resends after a rate-limited answer
	ambiguous bool // some send may have been applied without an answer seen
	send      sendTrace
	request   Request       // the request last sent, when hooks or logs watch
	sent      time.Time     // when it was sent, likewise
	req       *http.Request // the request as occ built it, for the secrets it carries (see sentSecrets)
}

type exchangeKey struct{}

func exchangeFrom(ctx context.Context) *exchange {
	x, _ := ctx.Value(exchangeKey{}).(*exchange)
	return x
}

// failed notes a failed send (a transport error, or a transient answer) on
// x and reports whether it may have been applied: a 502 or 504 from a
// gateway, or a transport error after the request was written in full. A
// send refused or cut before it was written was not applied.
func (x *exchange) failed(resp *http.Response, err error) bool {
	applied := false
	switch {
	case errors.Is(err, errUnsent):
	case err != nil:
		applied = x.send.mayHaveArrived(err)
	case resp.StatusCode == http.StatusBadGateway || resp.StatusCode == http.StatusGatewayTimeout:
		applied = true
	}
	x.ambiguous = x.ambiguous || applied
	return applied
}

// sendTrace follows one send through net/http/httptrace. Its callbacks run
// on the transport's goroutines.
type sendTrace struct {
	asked atomic.Bool // the transport asked for a connection: it reports through httptrace
	wrote atomic.Bool // the request was written in full
}

// reset readies t for the next send.
func (t *sendTrace) reset() {
	t.asked.Store(false)
	t.wrote.Store(false)
}

// clientTrace returns the httptrace hooks that feed t.
func (t *sendTrace) clientTrace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		GetConn: func(string) { t.asked.Store(true) },
		WroteRequest: func(i httptrace.WroteRequestInfo) {
			if i.Err == nil {
				t.wrote.Store(true)
			}
		},
	}
}

// mayHaveArrived reports whether a send that failed with err may have
// reached the server whole. A transport that reports through httptrace
// tells; for one that does not, only a failed dial proves the request never
// left.
func (t *sendTrace) mayHaveArrived(err error) bool {
	if t.asked.Load() {
		return t.wrote.Load()
	}
	var op *net.OpError
	return !(errors.As(err, &op) && op.Op == "dial")
}

// transientStatus reports whether a status is worth a transient retry.
func transientStatus(code int) bool {
	switch code {
	case http.StatusTooManyRequests, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// newTransport builds the transient-retry layer over the client's
// *http.Client. It never logs on its own, and never closes the idle
// connections of a transport the caller may share with the rest of its
// program (go-retryablehttp does on every give-up).
func (c *Client) newTransport() *retryablehttp.Client {
	hc := *c.hc
	hc.Transport = pacing{c, keepIdle{c.hc.Transport}}
	hc.CheckRedirect = writesStay(readRedirects(c.hc.CheckRedirect))
	return &retryablehttp.Client{
		HTTPClient:   &hc,
		RetryMax:     c.transientMax + rateLimitResends, // checkRetry bounds each kind
		CheckRetry:   c.checkRetry,
		Backoff:      noWait, // checkRetry waits, so that hooks see the wait
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
		RequestLogHook: func(_ retryablehttp.Logger, req *http.Request, resend int) {
			if x := exchangeFrom(req.Context()); x != nil {
				x.send.reset()
			}
			c.onRequest(req, resend)
		},
	}
}

// writesStay returns a redirect policy under which a write never follows a
// redirect: its 3xx answer comes back to occ, and no header of the write
// reaches another URL. Reads follow policy, the caller's own, or net/http's
// default of at most 10 redirects.
func writesStay(policy func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if x := exchangeFrom(via[0].Context()); x != nil && x.write {
			return http.ErrUseLastResponse
		}
		if policy != nil {
			return policy(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
}

// keepIdle is a RoundTripper without CloseIdleConnections, so that
// http.Client.CloseIdleConnections leaves the transport's pool alone.
type keepIdle struct{ rt http.RoundTripper }

// RoundTrip sends req through the wrapped transport, or
// http.DefaultTransport when the caller's client had none (as net/http
// would).
func (k keepIdle) RoundTrip(req *http.Request) (*http.Response, error) {
	if k.rt == nil {
		return http.DefaultTransport.RoundTrip(req)
	}
	return k.rt.RoundTrip(req)
}

// checkRetry is the transient retry policy: connection errors and 429, 502,
// 503 and 504 answers are retried when the failed send was not applied, or
// the request is safe to send again; when the wait fits the client's cap and
// the context's deadline; and when the transient budget allows it. It
// reports the answer, and waits before a retry.
func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	x := exchangeFrom(ctx)
	err = c.redactError(err, x) // before any hook or log sees it
	c.onResponse(ctx, x, resp, err)
	if err == nil && !transientStatus(resp.StatusCode) {
		return false, nil // an answer: whatever the context says now, it stands
	}
	if x == nil {
		return false, ctx.Err()
	}
	applied := x.failed(resp, err)
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if errors.Is(err, errUnsent) {
		return false, err
	}
	if resp != nil {
		if rl := ParseRateLimit(resp.Header, time.Now()); rateLimited(resp.StatusCode, rl) {
			return c.rateLimitRetry(ctx, x, resp, rl)
		}
	}
	if !transientFailure(ctx, resp, err) || (applied && !x.safe) || x.retries-x.limited >= c.transientMax {
		return false, nil
	}
	d, ok := c.transientDelay(ctx, resp, x.retries+1)
	if !ok {
		return false, nil
	}
	if !c.transientBudget.withdraw() {
		if err != nil {
			return false, wrap(ErrBudgetExhausted, err)
		}
		return false, ErrBudgetExhausted
	}
	return c.transientSleep(ctx, x, resp, err, d)
}

// transientSleep reports a transient retry and waits for it.
func (c *Client) transientSleep(ctx context.Context, x *exchange, resp *http.Response, err error, d time.Duration) (bool, error) {
	r := Retry{Reason: "transient", Resend: x.retries + 1, Wait: d, Err: err}
	if resp != nil {
		r.Status = resp.StatusCode
	}
	c.noteRetry(ctx, r)
	if err := sleep(ctx, d); err != nil {
		return false, err
	}
	x.retries++
	return true, nil
}

// transientFailure reports whether resp or err is a transient failure.
func transientFailure(ctx context.Context, resp *http.Response, err error) bool {
	if err != nil {
		retry, _ := retryablehttp.DefaultRetryPolicy(ctx, nil, err)
		return retry
	}
	return transientStatus(resp.StatusCode)
}

// transientDelay is how long to wait before resend n of a request: the
// server's Retry-After when it gave one, else the client's transient
// backoff. It reports false when the wait is above the client's cap or would
// outlast the context's deadline: then the answer stands.
func (c *Client) transientDelay(ctx context.Context, resp *http.Response, n int) (time.Duration, bool) {
	d := c.transientBackoff.Backoff(n)
	if resp != nil {
		if ra, ok := retryAfter(resp.Header, time.Now); ok {
			if ra > c.maxRetryAfter {
				return 0, false
			}
			d = ra
		}
	}
	deadline, has := ctx.Deadline()
	return d, !has || time.Now().Add(d).Before(deadline)
}

// noWait is the transient layer's backoff: none, since checkRetry has
// waited already.
func noWait(_, _ time.Duration, _ int, _ *http.Response) time.Duration { return 0 }

// conflictWait is how long to wait before retrying after a conflict: the
// server's Retry-After, within the cap, else the call's backoff.
func (c *Client) conflictWait(s *settings, attempt int, ce *ConflictError) (time.Duration, bool) {
	if d, ok := retryAfter(ce.Header, time.Now); ok || ce.RetryAfter > 0 {
		d = max(d, ce.RetryAfter) // the header's, or one the body gave
		return d, d <= c.maxRetryAfter
	}
	if s.backoff == nil {
		return c.pace.wait(), true
	}
	return s.backoff.Backoff(attempt), true
}
