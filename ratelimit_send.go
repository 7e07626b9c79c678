package occ

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// ErrAttemptTimeout is returned, wrapped, when one send of a request got no
// answer within the client's attempt timeout (see [WithAttemptTimeout]).
// A read, or a write that cannot have been applied or is safe to resend,
// is resent like after a connection error; a write that may have been
// applied follows the lost-answer rules (see [ErrAmbiguous]).
var ErrAttemptTimeout = errors.New("occ: attempt timed out")

// errUnsent marks an error of a send that never left occ: it waited for
// the host's rate limit and gave up. Such a send was not applied.
var errUnsent = errors.New("occ: not sent")

// rateLimitResends bounds how many rate-limited answers one request is
// resent after: they spend no transient budget, and the context and
// [WithMaxRetryAfter] bound each wait.
const rateLimitResends = 32

// maxPaceTurns bounds how many times one send asks its host's pacer again
// after waiting.
const maxPaceTurns = 1 << 12

// rateLimiting is a client's pacing state and settings.
type rateLimiting struct {
	hosts          hostPacers
	noPacing       bool          // WithRateLimitPacing(false)
	attemptTimeout time.Duration // WithAttemptTimeout; 0 for none
}

// pacing is the client's RoundTripper under the transient layer: it waits
// for the host's rate limit before each send, bounds each send by the
// attempt timeout, and lets the host's pacer learn from each answer.
type pacing struct {
	c  *Client
	rt http.RoundTripper
}

// RoundTrip sends req when its host's pacer allows, within the attempt
// timeout.
func (p pacing) RoundTrip(req *http.Request) (*http.Response, error) {
	hp, gen, err := p.c.waitTurn(req)
	if err != nil {
		return nil, err
	}
	resp, err := p.c.attempt(p.rt, req)
	if err != nil {
		if hp != nil {
			hp.release()
		}
		return nil, err
	}
	if hp != nil {
		now := time.Now()
		rl := ParseRateLimit(resp.Header, now)
		hp.observe(now, gen, rl, rateLimited(resp.StatusCode, rl))
	}
	return resp, nil
}

// attempt sends req through rt, cancelled when no answer came within the
// client's attempt timeout. The timeout covers the send until the answer's
// headers arrive; the body is read under the call's context.
func (c *Client) attempt(rt http.RoundTripper, req *http.Request) (*http.Response, error) {
	if c.limits.attemptTimeout <= 0 {
		return rt.RoundTrip(req)
	}
	ctx, cancel := context.WithCancelCause(req.Context())
	timer := time.AfterFunc(c.limits.attemptTimeout, func() { cancel(ErrAttemptTimeout) })
	resp, err := rt.RoundTrip(req.WithContext(ctx))
	timer.Stop()
	if err != nil {
		timedOut := errors.Is(context.Cause(ctx), ErrAttemptTimeout)
		cancel(nil)
		if timedOut && req.Context().Err() == nil {
			return nil, fmt.Errorf("%w after %v: %w", ErrAttemptTimeout, c.limits.attemptTimeout, err)
		}
		return nil, err
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: func() { cancel(nil) }}
	return resp, nil
}

// cancelOnClose releases an attempt's context when its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel func()
}

// Close closes the body and releases the attempt's context.
func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// waitTurn waits until req's host's pacer lets it be sent. It fails fast,
// with an error matching [ErrRateLimited], when the wait would outlast the
// context's deadline or the client's cap.
func (c *Client) waitTurn(req *http.Request) (*hostPacer, int, error) {
	if c.limits.noPacing {
		return nil, 0, nil
	}
	hp := c.limits.hosts.host(req.URL.Host)
	ctx := req.Context()
	for range maxPaceTurns {
		d, gen, guess := hp.reserve(time.Now())
		if d <= 0 {
			return hp, gen, nil
		}
		if err := c.fitWait(ctx, d); err != nil {
			if guess {
				// The wait is occ's own estimate, not the server's word:
				// sending beats failing a call the server may serve, and
				// keeps the estimate fed.
				hp.force()
				return hp, gen, nil
			}
			return nil, 0, unsent(err)
		}
		if err := sleep(ctx, d); err != nil {
			return nil, 0, unsent(err)
		}
	}
	return nil, 0, unsent(fmt.Errorf("%w: %s kept its requests waiting", ErrRateLimited, req.URL.Host))
}

// unsent marks err as the error of a send that never left.
func unsent(err error) error { return &wrapped{text: err.Error(), errs: []error{err, errUnsent}} }

// fitWait reports, as an error matching [ErrRateLimited], a wait for a rate
// limit that the client will not make: above its cap, or past the
// context's deadline.
func (c *Client) fitWait(ctx context.Context, d time.Duration) error {
	if d > c.maxRetryAfter {
		return fmt.Errorf("%w: the server's limit resets in %v, more than the %v allowed", ErrRateLimited, d, c.maxRetryAfter)
	}
	if deadline, ok := ctx.Deadline(); ok && time.Now().Add(d).After(deadline) {
		return fmt.Errorf("%w: the server's limit resets in %v, past the context's deadline: %w", ErrRateLimited, d, context.DeadlineExceeded)
	}
	return nil
}

// rateLimited reports whether an answer refuses a request for its rate: a
// 429, or a 503 that says when to come back (Retry-After) or that no
// request is left.
func rateLimited(code int, rl *RateLimit) bool {
	switch code {
	case http.StatusTooManyRequests:
		return true
	case http.StatusServiceUnavailable:
		return rl != nil && (rl.RetryAfter > 0 || rl.Remaining == 0)
	}
	return false
}

// rateLimitRetry decides the resend of a rate-limited answer: it spends no
// transient budget, and waits as long as the host's pacer says (the
// announced window's reset) or, when the host announces no window, as the
// answer's Retry-After asks (else the transient backoff). A wait that does
// not fit the cap or the context's deadline ends the request with an error
// matching [ErrRateLimited] that wraps the answer.
func (c *Client) rateLimitRetry(ctx context.Context, x *exchange, resp *http.Response, rl *RateLimit) (bool, error) {
	if c.transientMax == 0 {
		return false, nil // transient retries are off: the answer stands
	}
	if x.limited >= rateLimitResends {
		return false, fmt.Errorf("%w: %d rate-limited answers to one request", ErrRateLimited, x.limited+1)
	}
	d := c.limitWait(resp, rl, x.retries+1)
	if err := c.fitWait(ctx, d); err != nil {
		return false, err
	}
	r := Retry{Reason: "transient", Resend: x.retries + 1, Wait: d, Status: resp.StatusCode, RateLimited: true, RateLimit: rl}
	c.noteRetry(ctx, r)
	if err := sleep(ctx, d); err != nil {
		return false, err
	}
	x.retries++
	x.limited++
	return true, nil
}

// limitWait is how long to wait before resend n of a rate-limited request.
func (c *Client) limitWait(resp *http.Response, rl *RateLimit, n int) time.Duration {
	if !c.limits.noPacing && resp.Request != nil {
		if d, known := c.limits.hosts.host(resp.Request.URL.Host).pending(time.Now()); known {
			return d
		}
	}
	switch {
	case rl != nil && rl.RetryAfter > 0:
		return rl.RetryAfter
	case rl != nil && rl.Remaining == 0:
		return rl.Reset
	}
	return c.transientBackoff.Backoff(n)
}
