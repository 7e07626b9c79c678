package occtest

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// RateLimitStyle says how a store with [WithRateLimit] announces its limit.
type RateLimitStyle int

// The announcement styles of [WithRateLimit].
const (
	// RateLimitSilent announces nothing: only a 429 says the window is
	// spent, with Retry-After in whole seconds (rounded up) until it resets.
	RateLimitSilent RateLimitStyle = iota
	// RateLimitIETF announces the limit on every answer in the RateLimit
	// and RateLimit-Policy structured fields of
	// draft-ietf-httpapi-ratelimit-headers: `RateLimit-Policy:
	// "default";q=50;w=1` and `RateLimit: "default";r=12;t=1`, t in whole
	// seconds rounded up.
	RateLimitIETF
	// RateLimitX announces it GitHub's way: X-RateLimit-Limit,
	// X-RateLimit-Remaining, X-RateLimit-Used and X-RateLimit-Reset (the
	// window's end in epoch seconds, rounded up).
	RateLimitX
)

// codeRateLimited is the problem code of a 429.
const codeRateLimited = "rate_limited"

// WithRateLimit makes the store serve at most n requests per window, in
// fixed windows aligned on the clock (a one-second window starts on each
// whole second), announced in style; the default is no limit. A request
// past the limit is recorded (see [Store.Requests]), not processed, and
// answered 429 with code rate_limited and a Retry-After in whole seconds.
// [Store.RateLimited] counts those answers. The window's clock is the real
// one (time.Now, so testing/synctest's fake clock in a bubble). n and
// window must be positive.
func WithRateLimit(n int, window time.Duration, style RateLimitStyle) Option {
	return optionFunc(func(c *config) error {
		if n < 1 || window <= 0 || style < RateLimitSilent || style > RateLimitX {
			return fmt.Errorf("occtest: WithRateLimit(%d, %v, %d): want n and window positive and a known style", n, window, style)
		}
		c.rateLimit = &rateLimitConfig{n: n, window: window, style: style}
		return nil
	})
}

// rateLimitConfig is a store's rate limit.
type rateLimitConfig struct {
	n      int
	window time.Duration
	style  RateLimitStyle
}

// rateLimiter counts a store's requests in the current window.
type rateLimiter struct {
	mu      sync.Mutex
	start   time.Time // the current window's start
	used    int       // requests served in it
	limited int       // requests answered 429, in all
}

// RateLimited returns how many requests the store answered 429 because of
// [WithRateLimit]. It is safe for concurrent use.
func (s *Store) RateLimited() int {
	s.limiter.mu.Lock()
	defer s.limiter.mu.Unlock()
	return s.limiter.limited
}

// rateLimit takes r's place in the current window. When the window is
// spent it answers 429 and reports true; otherwise it puts the
// announcement on w's headers and reports false.
func (s *Store) rateLimit(w http.ResponseWriter, r *http.Request, id int) bool {
	rl := s.cfg.rateLimit
	if rl == nil {
		return false
	}
	now := time.Now()
	left, reset, ok := s.limiter.take(now, rl)
	h := w.Header()
	announce(h, rl, left, now, reset)
	if ok {
		return false
	}
	resp := problemResponse(http.StatusTooManyRequests, codeRateLimited, "too many requests: the window resets in "+reset.Sub(now).String())
	resp.header.Set("Retry-After", strconv.FormatInt(ceilSeconds(reset.Sub(now)), 10))
	s.noteAnswer(id, resp, resp)
	resp.write(w, r)
	return true
}

// take counts a request at now in rl's current window: it returns the
// requests left after it, when the window resets, and whether the request
// is served.
func (l *rateLimiter) take(now time.Time, rl *rateLimitConfig) (int, time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if start := now.Truncate(rl.window); !start.Equal(l.start) {
		l.start, l.used = start, 0
	}
	reset := l.start.Add(rl.window)
	if l.used >= rl.n {
		l.limited++
		return 0, reset, false
	}
	l.used++
	return rl.n - l.used, reset, true
}

// announce puts the limit on h in rl's style.
func announce(h http.Header, rl *rateLimitConfig, left int, now, reset time.Time) {
	switch rl.style {
	case RateLimitIETF:
		h.Set("RateLimit-Policy", fmt.Sprintf(`"default";q=%d;w=%d`, rl.n, ceilSeconds(rl.window)))
		h.Set("RateLimit", fmt.Sprintf(`"default";r=%d;t=%d`, left, ceilSeconds(reset.Sub(now))))
	case RateLimitX:
		h.Set("X-RateLimit-Limit", strconv.Itoa(rl.n))
		h.Set("X-RateLimit-Remaining", strconv.Itoa(left))
		h.Set("X-RateLimit-Used", strconv.Itoa(rl.n-left))
		h.Set("X-RateLimit-Reset", strconv.FormatInt(int64(math.Ceil(float64(reset.UnixNano())/1e9)), 10))
	}
}

// ceilSeconds returns d in whole seconds, rounded up.
func ceilSeconds(d time.Duration) int64 {
	return int64(math.Ceil(d.Seconds()))
}
