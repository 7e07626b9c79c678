package occ

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/occ-go/occ/occtest"
)

// TestParseRateLimit reads every announcement style of
// draft-ietf-httpapi-ratelimit-headers (current draft section 3 and 4, and
// the earlier drafts' fields), the de-facto X-RateLimit-* fields, and the
// waits of RFC 9110 section 10.2.3 (Retry-After) and the millisecond
// variants, with hostile values bounded.
func TestParseRateLimit(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	for _, tc := range []struct {
		name string
		h    []string
		want *RateLimit
	}{
		{"ietf current", []string{"RateLimit-Policy", `"burst";q=100;w=60, "daily";q=1000;w=86400`, "RateLimit", `"burst";r=12;t=7, "daily";r=900;t=3600`},
			&RateLimit{Limit: 100, Remaining: 12, Reset: 7 * time.Second, Window: time.Minute, Style: "ietf"}},
		{"ietf current fewest remaining wins", []string{"RateLimit-Policy", `"a";q=10;w=1, "b";q=5;w=2`, "RateLimit", `"a";r=9;t=1, "b";r=0;t=2`},
			&RateLimit{Limit: 5, Remaining: 0, Reset: 2 * time.Second, Window: 2 * time.Second, Style: "ietf"}},
		{"ietf dictionary draft", []string{"RateLimit", `limit=50, remaining=3, reset=4`, "RateLimit-Policy", `50;w=5`},
			&RateLimit{Limit: 50, Remaining: 3, Reset: 4 * time.Second, Window: 5 * time.Second, Style: "ietf"}},
		{"ietf legacy trio", []string{"RateLimit-Limit", "10", "RateLimit-Remaining", "0", "RateLimit-Reset", "3"},
			&RateLimit{Limit: 10, Remaining: 0, Reset: 3 * time.Second, Style: "ietf-legacy"}},
		{"x epoch seconds", []string{"X-RateLimit-Limit", "5000", "X-RateLimit-Remaining", "4999", "X-RateLimit-Reset", "1700000042"},
			&RateLimit{Limit: 5000, Remaining: 4999, Reset: 42 * time.Second, Style: "x-ratelimit"}},
		{"x epoch milliseconds", []string{"X-RateLimit-Remaining", "1", "X-RateLimit-Reset", "1700000000250"},
			&RateLimit{Remaining: 1, Reset: 250 * time.Millisecond, Style: "x-ratelimit"}},
		{"x delta seconds", []string{"X-RateLimit-Limit", "60", "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "30", "Retry-After", "30"},
			&RateLimit{Limit: 60, Remaining: 0, Reset: 30 * time.Second, RetryAfter: 30 * time.Second, Style: "x-ratelimit"}},
		{"x reset-after", []string{"X-RateLimit-Remaining", "0", "X-RateLimit-Reset-After", "0.5"},
			&RateLimit{Remaining: 0, Reset: 500 * time.Millisecond, Style: "x-ratelimit"}},
		{"retry-after date", []string{"Retry-After", now.Add(90 * time.Second).UTC().Format(http.TimeFormat)},
			&RateLimit{Remaining: -1, RetryAfter: 90 * time.Second, Style: "retry-after"}},
		{"retry-after-ms first", []string{"Retry-After", "5", "Retry-After-Ms", "1500"},
			&RateLimit{Remaining: -1, RetryAfter: 1500 * time.Millisecond, Style: "retry-after"}},
		{"x-ms-retry-after-ms", []string{"X-Ms-Retry-After-Ms", "20"},
			&RateLimit{Remaining: -1, RetryAfter: 20 * time.Millisecond, Style: "retry-after"}},
		{"hostile: bounded", []string{"X-RateLimit-Limit", "1e300", "X-RateLimit-Remaining", "99999999999999", "X-RateLimit-Reset", "9999999999999999", "Retry-After", "99999999999"},
			&RateLimit{Limit: 1 << 30, Remaining: 1 << 30, Reset: 24 * time.Hour, RetryAfter: 24 * time.Hour, Style: "x-ratelimit"}},
		{"hostile: negative and NaN ignored", []string{"X-RateLimit-Remaining", "-5", "RateLimit", `"a";r=NaN;t=-1`, "Retry-After-Ms", "Inf"}, nil},
		{"hostile: fractional count ignored", []string{"RateLimit-Remaining", "1.5"}, nil},
		{"nothing", []string{"Content-Type", "application/json"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for i := 0; i < len(tc.h); i += 2 {
				h.Add(tc.h[i], tc.h[i+1])
			}
			assert.Equal(t, tc.want, ParseRateLimit(h, now))
		})
	}
}

func TestParseRateLimitBoundsLongFields(t *testing.T) {
	h := http.Header{}
	h.Set("RateLimit", strings.Repeat(`"a";r=1;t=1, `, 2000))
	h.Set("Retry-After", strings.Repeat("1", 5000))
	assert.Nil(t, ParseRateLimit(h, time.Now()), "fields past the bound are ignored")
	h.Set("RateLimit", strings.Repeat(`"a";r=1, `, 100)+`"b";r=0`)
	rl := ParseRateLimit(h, time.Now())
	require.NotNil(t, rl)
	assert.Equal(t, 1, rl.Remaining, "members past the sixteenth are not read")
}

// rateLimitedStore serves documents /d/0 .. /d/n-1 under a rate limit.
func rateLimitedStore(t *testing.T, docs, perSecond int, style occtest.RateLimitStyle) *occtest.Store {
	st := occtest.NewStore(occtest.WithRateLimit(perSecond, time.Second, style))
	for i := range docs {
		require.NoError(t, st.Set(fmt.Sprintf("/d/%d", i), []byte(`{"name":"a","count":0}`)))
	}
	return st
}

// runWriters makes writers goroutines run n Modify calls each on their own
// document through c, and returns the calls that failed.
func runWriters(c *Client, writers, n int) []error {
	var mu sync.Mutex
	var failed []error
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			url := fmt.Sprintf("http://api.test/d/%d", w)
			for range n {
				if _, err := Modify(context.Background(), c, url, incr); err != nil {
					mu.Lock()
					failed = append(failed, err)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return failed
}

// TestRateLimitedCallsAllLand is issue 18's scenario in fake time: 16
// writers share one default client against a store serving 10 requests a
// second. Every call lands, and when the store announces its limit, occ
// paces to it and collects few 429s.
func TestRateLimitedCallsAllLand(t *testing.T) {
	for _, tc := range []struct {
		style   occtest.RateLimitStyle
		max429s float64 // share of requests answered 429
	}{
		{occtest.RateLimitIETF, 0.02},
		{occtest.RateLimitX, 0.02},
		{occtest.RateLimitSilent, 0.25},
	} {
		t.Run(fmt.Sprint(tc.style), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				const writers, calls = 16, 4
				st := rateLimitedStore(t, writers, 10, tc.style)
				c, err := New(WithHTTPClient(&http.Client{Transport: occtest.Transport(st)}))
				require.NoError(t, err)
				failed := runWriters(c, writers, calls)
				assert.Empty(t, failed, "no call fails against a healthy rate-limited server")
				requests := len(st.Requests())
				t.Logf("%d of %d requests answered 429", st.RateLimited(), requests)
				assert.LessOrEqual(t, float64(st.RateLimited()), tc.max429s*float64(requests),
					"%d of %d requests answered 429", st.RateLimited(), requests)
				for i := range writers {
					doc, _, _ := st.Get(fmt.Sprintf("/d/%d", i))
					assert.JSONEq(t, fmt.Sprintf(`{"name":"a","count":%d}`, calls), string(doc))
				}
			})
		})
	}
}

// TestRateLimitWaitPastTheDeadlineFailsFast: a window announced as spent
// holds the next request, and a wait past the deadline is not started.
func TestRateLimitWaitPastTheDeadlineFailsFast(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := occtest.NewStore(occtest.WithRateLimit(1, time.Minute, occtest.RateLimitX))
		require.NoError(t, st.Set("/d/0", []byte(`{"name":"a"}`)))
		c, err := New(WithHTTPClient(&http.Client{Transport: occtest.Transport(st)}))
		require.NoError(t, err)
		_, err = Get[item](context.Background(), c, "http://api.test/d/0")
		require.NoError(t, err, "the window's one request")

		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		start := time.Now()
		_, err = Get[item](ctx, c, "http://api.test/d/0")
		assert.ErrorIs(t, err, ErrRateLimited)
		assert.ErrorIs(t, err, context.DeadlineExceeded, "the cause")
		assert.Zero(t, time.Since(start), "fails fast rather than wait for a reset past the deadline")
		assert.Len(t, st.Requests(), 1, "no request sent to collect a 429")
	})
}

// TestRateLimitWaitsForTheResetAndSharesIt: one goroutine's answer tells
// the others of the client to wait for the reset (one view per host).
func TestRateLimitWaitsForTheResetAndSharesIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := rateLimitedStore(t, 4, 2, occtest.RateLimitIETF)
		c, err := New(WithHTTPClient(&http.Client{Transport: occtest.Transport(st)}))
		require.NoError(t, err)
		start := time.Now()
		assert.Empty(t, runWriters(c, 4, 1))
		assert.Zero(t, st.RateLimited(), "no 429 collected")
		assert.Equal(t, 3*time.Second, time.Since(start).Truncate(time.Second), "8 requests at 2 a second")
	})
}

// TestRateLimitedAnswersSpendNoBudget: 429s (RFC 6585 section 4) and 503s
// with Retry-After (RFC 9110 section 15.6.4) are waited out without
// spending the transient budget; 503s without one still spend it and fail
// fast.
func TestRateLimitedAnswersSpendNoBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		budget, err := NewBudget(1, 0)
		require.NoError(t, err)
		api := newFakeAPI(`{"name":"a","count":1}`)
		api.then(reply(429, `slow`, "Retry-After", "1"), reply(429, `slow`, "Retry-After", "1"),
			reply(503, `busy`, "Retry-After", "1"), reply(429, `slow`, "Retry-After", "1"))
		var rec recorder
		c := memClient(t, api, WithRetryBudgets(nil, budget), WithHooks(rec.hooks()))
		_, err = Get[item](context.Background(), c, itemURL)
		require.NoError(t, err)
		assert.Equal(t, 1.0, budget.Tokens(), "no budget spent on rate limits")
		require.Len(t, rec.retries, 4)
		assert.True(t, rec.retries[0].RateLimited)
		require.NotNil(t, rec.retries[0].RateLimit)
		assert.Equal(t, time.Second, rec.retries[0].RateLimit.RetryAfter)

		api.then(reply(503, `down`), reply(503, `down`), reply(503, `down`))
		_, err = Get[item](context.Background(), c, itemURL)
		assert.ErrorIs(t, err, ErrBudgetExhausted, "an outage still fails fast")
	})
}

func TestRateLimitIsOnTheError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI(`{"name":"a","count":1}`)
		api.then(reply(429, `slow`, "RateLimit-Policy", `"p";q=10;w=60`, "RateLimit", `"p";r=0;t=30`))
		c := memClient(t, api, WithTransientRetries(0, Exponential(0, 0)))
		_, err := Get[item](context.Background(), c, itemURL)
		var se *StatusError
		require.ErrorAs(t, err, &se)
		require.NotNil(t, se.RateLimit)
		assert.Equal(t, RateLimit{Limit: 10, Remaining: 0, Reset: 30 * time.Second, Window: time.Minute, Style: "ietf"}, *se.RateLimit)

		api.then(api.pass, reply(409, `{"message":"busy"}`, "X-RateLimit-Remaining", "7"))
		start := time.Now()
		_, err = Modify(context.Background(), c, itemURL, incr, WithMaxAttempts(1))
		var ce *ConflictError
		require.ErrorAs(t, err, &ce)
		require.NotNil(t, ce.RateLimit)
		assert.Equal(t, 7, ce.RateLimit.Remaining)
		assert.Equal(t, 30*time.Second, time.Since(start), "the next request waited for the announced reset")
	})
}

// TestAttemptTimeout: a send that gets no answer within the attempt
// timeout is resent when safe, and a POST whose answer is lost that way is
// ambiguous, as after any lost answer.
func TestAttemptTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := occtest.NewStore()
		require.NoError(t, st.Set("/d/0", []byte(`{"name":"a"}`)))
		st.Inject(occtest.Fault{Method: http.MethodGet, Delay: time.Hour})
		c, err := New(WithHTTPClient(&http.Client{Transport: occtest.Transport(st)}), WithAttemptTimeout(time.Second),
			WithTransientRetries(4, Exponential(0, 0)))
		require.NoError(t, err)
		var stats Stats
		start := time.Now()
		got, err := Get[item](context.Background(), c, "http://api.test/d/0", WithStats(&stats))
		require.NoError(t, err)
		assert.Equal(t, "a", got.Value.Name)
		assert.Equal(t, time.Second, time.Since(start), "one attempt timed out, not the call")
		assert.Equal(t, 1, stats.TransientRetries)

		st.Inject(occtest.Fault{Method: http.MethodPost, Delay: time.Hour})
		_, err = Create(context.Background(), c, "http://api.test/d", item{Name: "n"},
			WithCreateMethod(http.MethodPost), WithIdempotencyKey("k1"))
		assert.ErrorIs(t, err, ErrAmbiguous)
		assert.ErrorIs(t, err, ErrAttemptTimeout)
		posts := 0
		for _, r := range st.Requests() {
			if r.Method == http.MethodPost {
				posts++
			}
		}
		assert.Equal(t, 1, posts, "a POST that may have landed is not resent")
	})
}

// TestAdaptiveBucket: a host that announces nothing is paced, after its
// first 429, at the rate it served over the last second, growing while no
// 429 comes, and unpaced after a quiet spell.
func TestAdaptiveBucket(t *testing.T) {
	var hp hostPacer
	t0 := time.Unix(1000, 0)
	for i := range 20 {
		d, _, _ := hp.reserve(t0.Add(time.Duration(i) * 40 * time.Millisecond))
		require.Zero(t, d, "unpaced before any 429")
		hp.observe(t0.Add(time.Duration(i)*40*time.Millisecond), 0, nil, false)
	}
	now := t0.Add(800 * time.Millisecond)
	hp.observe(now, 0, &RateLimit{Remaining: -1, RetryAfter: time.Second}, true)
	assert.InDelta(t, 20, hp.rate, 0.01, "the rate served over the last second")
	d, _, _ := hp.reserve(now)
	assert.Equal(t, 50*time.Millisecond, d, "one token at 20 a second")
	d, _, _ = hp.reserve(now.Add(50 * time.Millisecond))
	assert.Zero(t, d)

	hp.observe(now.Add(60*time.Millisecond), 0, nil, true) // an answer in flight at the 429
	assert.InDelta(t, 20, hp.rate, 0.1, "no second cut within the second")

	later := now.Add(1050 * time.Millisecond)
	_, _, _ = hp.reserve(later)
	assert.Greater(t, hp.rate, 20.5, "grows while no 429 comes")
	d, _, _ = hp.reserve(later.Add(adaptQuiet))
	assert.Zero(t, d)
	assert.Zero(t, hp.rate, "dropped after a quiet spell")
}

// TestWindowPacer: an announced window is spent by the client's own sends,
// then requests wait for its reset, and the next window holds the limit.
func TestWindowPacer(t *testing.T) {
	var hp hostPacer
	t0 := time.Unix(1000, 0)
	_, gen, _ := hp.reserve(t0)
	hp.observe(t0, gen, &RateLimit{Limit: 3, Remaining: 2, Reset: time.Second, Window: time.Second}, false)
	for range 2 {
		d, _, _ := hp.reserve(t0)
		require.Zero(t, d)
	}
	d, _, _ := hp.reserve(t0.Add(100 * time.Millisecond))
	assert.Equal(t, 900*time.Millisecond, d, "spent: wait for the reset")
	for range 3 {
		d, _, _ = hp.reserve(t0.Add(time.Second))
		require.Zero(t, d, "the next window holds the limit")
	}
	d, _, _ = hp.reserve(t0.Add(time.Second))
	assert.Equal(t, time.Second, d)
}

// TestSecondaryLimitHoldsTheHost: a 429 that says requests are left in the
// window (GitHub's secondary limits) holds the host's requests for its
// Retry-After, not until the window's reset.
func TestSecondaryLimitHoldsTheHost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI(`{"name":"a","count":1}`)
		secondary := []string{"X-RateLimit-Limit", "5000", "X-RateLimit-Remaining", "4000", "X-RateLimit-Reset", "1800"}
		api.then(reply(429, `{"message":"You have exceeded a secondary rate limit"}`, append(secondary, "Retry-After", "20")...))
		c := memClient(t, api)
		start := time.Now()
		_, err := Get[item](context.Background(), c, itemURL)
		require.NoError(t, err)
		assert.Equal(t, 20*time.Second, time.Since(start), "its Retry-After, not the window's 30 minutes")
		start = time.Now()
		_, err = Get[item](context.Background(), c, itemURL)
		require.NoError(t, err)
		assert.Zero(t, time.Since(start), "the window still has requests")
	})
}

func TestPacedHostsAreBounded(t *testing.T) {
	var p hostPacers
	for i := range maxPacedHosts + 50 {
		p.host(fmt.Sprintf("h%d:80", i))
	}
	assert.Len(t, p.hosts, maxPacedHosts)
	assert.Same(t, p.host("h1000:80"), p.host("h1000:80"), "one view per host")
}

// TestRateLimitedResendsAreBounded: a server that answers 429 forever ends
// the call after 32 resends, with an error matching ErrRateLimited that
// wraps the last answer; a wait past the deadline is never started.
func TestRateLimitedResendsAreBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI(`{"name":"a","count":1}`)
		always := make([]func(http.ResponseWriter, *http.Request), 40)
		for i := range always {
			always[i] = reply(429, `slow`, "Retry-After", "1")
		}
		api.then(always...)
		c := memClient(t, api, WithRateLimitPacing(false))
		_, err := Get[item](context.Background(), c, itemURL)
		assert.ErrorIs(t, err, ErrRateLimited)
		var se *StatusError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, 429, se.StatusCode)
		assert.Equal(t, 1+rateLimitResends, api.count(http.MethodGet))

		api = newFakeAPI(`{"name":"a","count":1}`)
		api.then(reply(429, `slow`, "Retry-After", "30"))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		start := time.Now()
		_, err = Get[item](ctx, memClient(t, api), itemURL)
		assert.ErrorIs(t, err, ErrRateLimited)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		require.ErrorAs(t, err, &se)
		assert.Zero(t, time.Since(start))
	})
}

// TestWindowPacerWithPartialAnnouncements: a remaining count with no reset
// does not pace (the window is unknown), and a window with no announced
// limit is learnt afresh from its first answer.
func TestWindowPacerWithPartialAnnouncements(t *testing.T) {
	var hp hostPacer
	t0 := time.Unix(1000, 0)
	_, gen, _ := hp.reserve(t0)
	hp.observe(t0, gen, &RateLimit{Remaining: 4999}, false)
	for range 10 {
		d, _, _ := hp.reserve(t0)
		require.Zero(t, d, "no reset announced: no window to pace by")
	}

	hp = hostPacer{}
	_, gen, _ = hp.reserve(t0)
	hp.observe(t0, gen, &RateLimit{Remaining: 1, Reset: time.Second}, false)
	d, _, _ := hp.reserve(t0)
	require.Zero(t, d)
	hp.observe(t0, gen, &RateLimit{Remaining: 0, Reset: time.Second}, false)
	d, _, _ = hp.reserve(t0)
	require.Equal(t, time.Second, d, "spent")
	next := t0.Add(time.Second)
	d, gen, _ = hp.reserve(next)
	require.Zero(t, d, "the next window's probe")
	hp.observe(next, gen, &RateLimit{Remaining: 5, Reset: time.Second}, false)
	for range 5 {
		d, _, _ = hp.reserve(next)
		require.Zero(t, d, "its answer tells the window's size")
	}
	d, _, _ = hp.reserve(next)
	assert.Equal(t, time.Second, d)
}

func TestParseRateLimitOfAnAnswerAnnouncingNothingAllocatesNothing(t *testing.T) {
	h := http.Header{"Content-Type": {"application/json"}, "Etag": {`"1"`}}
	now := time.Now()
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = ParseRateLimit(h, now) }))
}

// The adaptive bucket's wait is occ's own estimate: a call whose deadline
// it does not fit is sent rather than failed (a server that announced no
// limit may well serve it), and the send is counted against the bucket.
// A wait the server announced still fails fast.
func TestAnEstimatedWaitNeverFailsACall(t *testing.T) {
	c, err := New()
	require.NoError(t, err)
	now := time.Now()
	hp := c.limits.hosts.host("api.test")
	hp.rate, hp.tokens, hp.filled, hp.throttled = adaptMinRate, 0, now, now
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://api.test/x", nil)
	require.NoError(t, err)
	got, _, err := c.waitTurn(req)
	require.NoError(t, err, "sent, not failed, on an estimate")
	assert.Same(t, hp, got)
	assert.Less(t, hp.tokens, 0.0, "the send is owed to the bucket")

	hp2 := c.limits.hosts.host("announced.test")
	hp2.known, hp2.remaining, hp2.resetAt = true, 0, now.Add(time.Second)
	req2, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://announced.test/x", nil)
	require.NoError(t, err)
	_, _, err = c.waitTurn(req2)
	assert.ErrorIs(t, err, ErrRateLimited, "the server's own word still fails fast")
}
