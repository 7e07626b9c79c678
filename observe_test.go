package occ

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder keeps what hooks report, and marks the operation's context.
type recorder struct {
	mu        sync.Mutex
	starts    []Operation
	ends      []Result
	requests  []Request
	responses []Response
	retries   []Retry
	foreign   int // hook calls whose context lacks the mark OnStart put in it
}

type markKey struct{}

func (r *recorder) check(ctx context.Context) {
	if ctx.Value(markKey{}) == nil {
		r.foreign++
	}
}

func (r *recorder) hooks() Hooks {
	return Hooks{
		OnStart: func(ctx context.Context, op Operation) context.Context {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.starts = append(r.starts, op)
			return context.WithValue(ctx, markKey{}, op.Name)
		},
		OnRequest: func(ctx context.Context, q Request) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.check(ctx)
			r.requests = append(r.requests, q)
		},
		OnResponse: func(ctx context.Context, a Response) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.check(ctx)
			r.responses = append(r.responses, a)
		},
		OnRetry: func(ctx context.Context, rt Retry) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.check(ctx)
			r.retries = append(r.retries, rt)
		},
		OnEnd: func(ctx context.Context, res Result) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.check(ctx)
			r.ends = append(r.ends, res)
		},
	}
}

func TestOnEndIsCalledOncePerOperation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const u = "http://user:pw@api.test/items/1?token=secret"
	ops := map[string]func(c *Client) error{
		"Get":    func(c *Client) error { _, err := Get[item](ctx, c, u); return err },
		"Modify": func(c *Client) error { _, err := Modify(ctx, c, u, incr); return err },
		"ModifyJSON": func(c *Client) error {
			_, err := ModifyJSON(ctx, c, u, func(b []byte) ([]byte, error) { return []byte(`{"name":"b","count":1}`), nil })
			return err
		},
		"Put": func(c *Client) error {
			_, err := PutJSON(ctx, c, u, Versioned[json.RawMessage]{Raw: json.RawMessage(`{"name":"a","count":1}`), ETag: `"1"`}, json.RawMessage(`{"name":"p","count":1}`))
			return err
		},
		"Create": func(c *Client) error { _, err := Create(ctx, c, u, item{Name: "n"}); return err },
	}
	for name, op := range ops {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			api := newFakeAPI(`{"name":"a","count":1}`)
			if name == "Create" {
				api.then(reply(201, `{"name":"n","count":0}`, "ETag", `"1"`))
			}
			var rec recorder
			c := memClient(t, api, WithHooks(rec.hooks()))
			require.NoError(t, op(c))
			require.Len(t, rec.starts, 1)
			require.Len(t, rec.ends, 1)
			end := rec.ends[0]
			want := Operation{Name: name, URL: "http://api.test/items/1"}
			assert.Equal(t, want, rec.starts[0])
			assert.Equal(t, want, end.Operation, "no user info, no query")
			assert.Equal(t, OutcomeOK, end.Outcome)
			assert.NoError(t, end.Err)
			assert.NotEmpty(t, end.Version)
			assert.Zero(t, rec.foreign, "every hook gets the context OnStart returned")
			assert.Len(t, rec.responses, len(rec.requests))
		})
	}
}

func TestOnEndReportsAConflictingModify(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(`{"name":"a","count":1}`)
	api.then(api.pass, reply(412, ``), api.pass, reply(503, `down`))
	var rec recorder
	var st Stats
	c := memClient(t, api, WithHooks(rec.hooks()))
	_, err := Modify(context.Background(), c, itemURL, incr, WithStats(&st))
	require.NoError(t, err)
	require.Len(t, rec.ends, 1)
	end := rec.ends[0]
	assert.Equal(t, OutcomeOK, end.Outcome)
	assert.Equal(t, KindVersion, end.Kind)
	assert.Equal(t, 2, end.Attempts, "writes")
	assert.Equal(t, 1, end.Conflicts)
	assert.Equal(t, 1, end.TransientRetries)
	assert.Equal(t, `"2"`, end.Version)
	assert.Equal(t, end.Stats, st, "WithStats sees the same counts")
	statuses := []int{}
	for _, r := range rec.responses {
		statuses = append(statuses, r.StatusCode)
	}
	assert.Equal(t, []int{200, 412, 200, 503, 200}, statuses)
	assert.Equal(t, []int{0, 0, 0, 0, 1}, resends(rec.requests))
}

func resends(rs []Request) []int {
	out := []int{}
	for _, r := range rs {
		out = append(out, r.Resend)
	}
	return out
}

func TestOnEndReportsFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		answers []func(http.ResponseWriter, *http.Request)
		ctx     func() context.Context
		want    Outcome
		kind    Kind
	}{
		{"state conflict", []func(http.ResponseWriter, *http.Request){nil, reply(409, `{"message":"order already shipped"}`)}, nil, OutcomeConflict, KindState},
		{"attempts exhausted", []func(http.ResponseWriter, *http.Request){nil, reply(412, ``), nil, reply(412, ``)}, nil, OutcomeConflict, KindVersion},
		{"status", []func(http.ResponseWriter, *http.Request){reply(404, `{}`)}, nil, OutcomeError, KindUnknown},
		{"canceled", nil, func() context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		}, OutcomeCanceled, KindUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			api := newFakeAPI(`{"name":"a","count":1}`)
			for _, a := range tt.answers {
				if a == nil {
					a = api.pass
				}
				api.then(a)
			}
			var rec recorder
			c := memClient(t, api, WithHooks(rec.hooks()), WithMaxAttempts(2))
			ctx := context.Background()
			if tt.ctx != nil {
				ctx = tt.ctx()
			}
			_, err := Modify(ctx, c, itemURL, incr)
			require.Error(t, err)
			require.Len(t, rec.ends, 1)
			assert.Equal(t, tt.want, rec.ends[0].Outcome)
			assert.Equal(t, tt.kind, rec.ends[0].Kind)
			assert.Equal(t, err, rec.ends[0].Err)
		})
	}
}

func TestOnEndReportsInvalidArguments(t *testing.T) {
	t.Parallel()
	var rec recorder
	c := memClient(t, newFakeAPI(`{}`), WithHooks(rec.hooks()))
	_, err := Modify[item](context.Background(), c, itemURL, nil)
	require.ErrorIs(t, err, ErrInvalidArgument)
	_, err = Get[item](context.Background(), c, itemURL, WithMaxAttempts(0))
	require.ErrorIs(t, err, ErrInvalidArgument)
	require.Len(t, rec.ends, 2)
	assert.Equal(t, OutcomeError, rec.ends[0].Outcome)
	assert.Empty(t, rec.requests)
}

func TestTransientRetryHookReportsTheRealWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI(`{"name":"a","count":1}`)
		api.then(reply(503, `down`, "Retry-After", "2"), reset, reply(429, `slow`))
		var rec recorder
		c := memClient(t, api, WithHooks(rec.hooks()), WithRateLimitPacing(false),
			WithTransientRetries(4, BackoffFunc(func(n int) time.Duration { return time.Duration(n) * 7 * time.Millisecond })))
		start := time.Now()
		_, err := Get[item](context.Background(), c, itemURL)
		require.NoError(t, err)
		require.Len(t, rec.retries, 3)
		var total time.Duration
		for i, want := range []time.Duration{2 * time.Second, 14 * time.Millisecond, 21 * time.Millisecond} {
			r := rec.retries[i]
			assert.Equal(t, "transient", r.Reason)
			assert.Equal(t, i != 1, r.RateLimited, "the 503 with Retry-After and the 429 are rate limits")
			assert.Equal(t, want, r.Wait, "retry %d", i)
			assert.Equal(t, i+1, r.Resend)
			assert.Zero(t, r.Attempt, "a transient retry is no write attempt")
			total += want
		}
		assert.Equal(t, []int{503, 0, 429}, []int{rec.retries[0].Status, rec.retries[1].Status, rec.retries[2].Status})
		assert.Error(t, rec.retries[1].Err)
		assert.Equal(t, total, time.Since(start), "waited exactly what the hook said")
	})
}

func TestConflictRetryHookReportsTheAttempt(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(`{"name":"a","count":1}`)
	api.then(api.pass, reply(412, ``))
	var rec recorder
	c := memClient(t, api, WithHooks(rec.hooks()), WithBackoff(BackoffFunc(func(int) time.Duration { return 0 })))
	_, err := Modify(context.Background(), c, itemURL, incr)
	require.NoError(t, err)
	require.Len(t, rec.retries, 1)
	assert.Equal(t, Retry{Reason: "conflict", Attempt: 1, Status: 412, Err: rec.retries[0].Err}, rec.retries[0])
	assert.ErrorIs(t, rec.retries[0].Err, ErrPreconditionFailed)
}

func TestWithHooksAddUp(t *testing.T) {
	t.Parallel()
	var order []string
	type k struct{}
	first := Hooks{
		OnStart: func(ctx context.Context, _ Operation) context.Context { return context.WithValue(ctx, k{}, "first") },
		OnEnd:   func(context.Context, Result) { order = append(order, "first") },
	}
	second := Hooks{
		OnStart: func(ctx context.Context, _ Operation) context.Context {
			order = append(order, "second saw "+ctx.Value(k{}).(string))
			return nil
		},
		OnEnd: func(ctx context.Context, _ Result) { order = append(order, "second "+ctx.Value(k{}).(string)) },
	}
	c := memClient(t, newFakeAPI(`{"name":"a","count":1}`), WithHooks(first), WithHooks(Hooks{}), WithHooks(second))
	_, err := Get[item](context.Background(), c, itemURL)
	require.NoError(t, err)
	assert.Equal(t, []string{"second saw first", "first", "second first"}, order)
}

func TestWithStatsHoldsOneCall(t *testing.T) {
	t.Parallel()
	c := memClient(t, newFakeAPI(`{"name":"a","count":1}`))
	var st Stats
	for range 2 {
		_, err := Modify(context.Background(), c, itemURL, incr, WithStats(&st))
		require.NoError(t, err)
	}
	assert.Equal(t, Stats{Attempts: 1, Reads: 1, Version: `"3"`}, st)
}

func TestOnEndReportsAnAmbiguousOutcome(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(`{"name":"a","count":1}`)
	writeThenReset := func(w http.ResponseWriter, r *http.Request) {
		api.pass(httptest.NewRecorder(), r)
		panic(http.ErrAbortHandler)
	}
	api.then(api.pass, writeThenReset, reply(409, "\x00garbage{"))
	var rec recorder
	c := memClient(t, api, WithHooks(rec.hooks()))
	_, err := Modify(context.Background(), c, itemURL, incr)
	require.ErrorIs(t, err, ErrAmbiguous)
	require.Len(t, rec.ends, 1)
	assert.Equal(t, OutcomeAmbiguous, rec.ends[0].Outcome)
	assert.Equal(t, KindUnknown, rec.ends[0].Kind)
	assert.Equal(t, 1, rec.ends[0].Conflicts)
}
