package occ

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type item struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

const itemURL = "http://api.test/items/1"

func incr(v *item) error { v.Count++; return nil }

func TestModifyKeepsMembersTheTypeDoesNotModel(t *testing.T) {
	api := newFakeAPI(`{"name":"a","count":1,"extra":{"deep":[1,2]},"flag":null}`)
	c := memClient(t, api)
	got, err := Modify(context.Background(), c, itemURL, incr)
	require.NoError(t, err)
	assert.Equal(t, item{Name: "a", Count: 2}, got)
	assert.JSONEq(t, `{"name":"a","count":2,"extra":{"deep":[1,2]},"flag":null}`, api.doc)
	reqs, _ := api.requests(http.MethodPut)
	require.Len(t, reqs, 1)
	assert.Equal(t, `"1"`, reqs[0].Header.Get("If-Match"))
}

func TestModifyThatChangesNothingWritesNothing(t *testing.T) {
	api := newFakeAPI(`{"name":"a","count":1}`)
	c := memClient(t, api)
	var st Stats
	got, err := Modify(context.Background(), c, itemURL, func(v *item) error { v.Name = "a"; return nil }, WithStats(&st))
	require.NoError(t, err)
	assert.Equal(t, "a", got.Name)
	assert.Zero(t, api.count(http.MethodPut))
	assert.Equal(t, Stats{Reads: 1, Version: `"1"`}, st)
}

func TestModifyChangeErrorAborts(t *testing.T) {
	api := newFakeAPI(`{"name":"a","count":1}`)
	c := memClient(t, api)
	errNo := errors.New("no thanks")
	_, err := Modify(context.Background(), c, itemURL, func(*item) error { return errNo })
	assert.ErrorIs(t, err, errNo)
	assert.ErrorIs(t, err, ErrChangeAborted)
	assert.Zero(t, api.count(http.MethodPut))
}

func TestModifyRefreshesAndReappliesOnVersionConflict(t *testing.T) {
	api := newFakeAPI(`{"name":"a","count":1}`)
	// Someone else writes between our GET and our PUT.
	api.then(api.pass, func(w http.ResponseWriter, r *http.Request) {
		api.mu.Lock()
		api.doc, api.version = `{"name":"b","count":10}`, 2
		api.mu.Unlock()
		api.pass(w, r)
	})
	c := memClient(t, api)
	var st Stats
	got, err := Modify(context.Background(), c, itemURL, incr, WithStats(&st))
	require.NoError(t, err)
	assert.Equal(t, item{Name: "b", Count: 11}, got)
	assert.Equal(t, 2, st.Attempts)
	assert.Equal(t, 1, st.Conflicts)
	assert.Equal(t, 2, st.Reads)
	assert.Equal(t, `"3"`, st.Version)
}

func TestNonRetryableAnswersEndAfterOneWrite(t *testing.T) {
	cases := []struct {
		name   string
		status int
		body   string
		kind   Kind
	}{
		{"duplicate", 409, `{"error":"conflict","message":"email already exists"}`, KindDuplicate},
		{"state", 409, `{"message":"cannot transition from shipped to cancelled"}`, KindState},
		{"unknown 409", 409, `{}`, KindUnknown},
		{"422", 422, `{"message":"count must be positive"}`, 0},
		{"400", 400, `not json`, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			api := newFakeAPI(`{"name":"a","count":1}`)
			api.then(api.pass, reply(tc.status, tc.body, "Content-Type", "application/json"))
			c := memClient(t, api)
			_, err := Modify(context.Background(), c, itemURL, incr)
			require.Error(t, err)
			assert.Equal(t, 1, api.count(http.MethodPut))
			var ce *ConflictError
			if tc.status != 409 {
				var se *StatusError
				require.ErrorAs(t, err, &se)
				assert.Equal(t, tc.status, se.StatusCode)
				assert.False(t, errors.As(err, &ce))
				return
			}
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tc.kind, ce.Kind)
			assert.Equal(t, 1, ce.Attempts)
			assert.False(t, ce.Retryable())
		})
	}
}

func TestAttemptsExhaustedKeepsLastConflict(t *testing.T) {
	api := newFakeAPI(`{"name":"a","count":1}`)
	always412 := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			w.WriteHeader(http.StatusPreconditionFailed)
			return
		}
		api.ServeHTTP(w, r)
	})
	c := memClient(t, always412, WithMaxAttempts(3))
	_, err := Modify(context.Background(), c, itemURL, incr)
	assert.ErrorIs(t, err, ErrAttemptsExhausted)
	assert.ErrorIs(t, err, ErrPreconditionFailed)
	var ce *ConflictError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, 3, ce.Attempts)
	assert.Equal(t, 3, api.count(http.MethodGet), "one read per attempt")
}

func TestConflictBudgetFailsFastAndRefills(t *testing.T) {
	api := newFakeAPI(`{"name":"a","count":1}`)
	b, err := NewBudget(1, 0.5)
	require.NoError(t, err)
	c := memClient(t, api, WithRetryBudgets(b, nil))
	conflictOnce := func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusPreconditionFailed) }

	// One retry is in the budget (and the call earned half a token).
	api.then(api.pass, conflictOnce)
	_, err = Modify(context.Background(), c, itemURL, incr)
	require.NoError(t, err)

	// Half a token left: the next conflict fails fast, wrapping the conflict.
	api.then(api.pass, conflictOnce)
	_, err = Modify(context.Background(), c, itemURL, incr)
	assert.ErrorIs(t, err, ErrBudgetExhausted)
	assert.ErrorIs(t, err, ErrPreconditionFailed)

	// That call's first attempt earned the other half: the budget refilled.
	api.then(api.pass, conflictOnce)
	_, err = Modify(context.Background(), c, itemURL, incr)
	require.NoError(t, err)
}

func TestRetryAfterOnBusyConflictIsHonouredAndWriteResentUnchanged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI(`{"name":"a","count":1}`)
		api.then(
			api.pass,
			reply(409, `{"message":"resource is locked by another operation"}`, "Retry-After", "7"),
		)
		c := memClient(t, api)
		start := time.Now()
		_, err := Modify(context.Background(), c, itemURL, incr)
		require.NoError(t, err)
		assert.GreaterOrEqual(t, time.Since(start), 7*time.Second)
		assert.Equal(t, 1, api.count(http.MethodGet), "busy: no refresh")
		_, bodies := api.requests(http.MethodPut)
		require.Len(t, bodies, 2)
		assert.Equal(t, bodies[0], bodies[1])
	})
}

func TestCancellationDuringBackoffReturnsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI(`{"name":"a","count":1}`)
		api.then(
			api.pass,
			reply(409, `{"message":"busy"}`, "Retry-After", "50"),
		)
		c := memClient(t, api)
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			time.Sleep(time.Second)
			cancel()
		}()
		start := time.Now()
		_, err := Modify(ctx, c, itemURL, incr)
		assert.ErrorIs(t, err, context.Canceled)
		assert.ErrorIs(t, err, ErrConflict)
		assert.Equal(t, time.Second, time.Since(start), "returns when cancelled, not after the 50s wait")
	})
}

func TestCancellationDuringTheReadSendsNoWrite(t *testing.T) {
	for _, doc := range []string{
		`{"name":"a","count":1}`,                // what item models: no rebase needed
		`{"name":"a","count":1,"extra":"kept"}`, // a member item does not model
	} {
		api := newFakeAPI(doc)
		ctx, cancel := context.WithCancel(context.Background())
		api.then(func(w http.ResponseWriter, r *http.Request) {
			cancel() // the caller leaves while its read is answered
			api.pass(w, r)
		})
		changed := false
		_, err := Modify(ctx, memClient(t, api), itemURL, func(v *item) error {
			changed = true
			return incr(v)
		})
		assert.ErrorIs(t, err, context.Canceled, doc)
		assert.False(t, changed, "no change on behalf of a caller that left")
		assert.Zero(t, api.count(http.MethodPut), "no write on behalf of a caller that left")
	}
}

func TestRetryAfterBeyondDeadlineIsNotStarted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI(`{"name":"a","count":1}`)
		api.then(reply(503, `down`, "Retry-After", "30"))
		c := memClient(t, api)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		start := time.Now()
		_, err := Get[item](ctx, c, itemURL)
		var se *StatusError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, 503, se.StatusCode)
		assert.Zero(t, time.Since(start))
		assert.Equal(t, 1, api.count(http.MethodGet))
	})
}

func TestTransientRetryHonoursRetryAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI(`{"name":"a","count":1}`)
		api.then(reply(503, `down`, "Retry-After", "2"), reply(429, `slow down`, "Retry-After", "3"))
		var st Stats
		c := memClient(t, api)
		start := time.Now()
		got, err := Get[item](context.Background(), c, itemURL, WithStats(&st))
		require.NoError(t, err)
		assert.Equal(t, "a", got.Value.Name)
		assert.Equal(t, 5*time.Second, time.Since(start))
		assert.Equal(t, 2, st.TransientRetries)
	})
}

func TestPostAfterResetIsReplayedWithTheSameKeyOnlyWhereKeysAreHonoured(t *testing.T) {
	t.Run("honoured", func(t *testing.T) {
		api := newFakeAPI(`{}`)
		api.then(reset, reply(201, `{"name":"n","count":0}`, "Location", "/items/9", "ETag", `"1"`))
		c := memClient(t, api, WithIdempotencyKeysHonoured(true))
		got, err := Create(context.Background(), c, "http://api.test/items", item{Name: "n"}, WithCreateMethod(http.MethodPost))
		require.NoError(t, err)
		assert.Equal(t, "http://api.test/items/9", got.URL)
		reqs, bodies := api.requests(http.MethodPost)
		require.Len(t, reqs, 2)
		key := reqs[0].Header.Get("Idempotency-Key")
		assert.NotEmpty(t, key)
		assert.Equal(t, key, reqs[1].Header.Get("Idempotency-Key"))
		assert.Equal(t, bodies[0], bodies[1])
	})
	t.Run("not declared", func(t *testing.T) {
		api := newFakeAPI(`{}`)
		api.then(reset)
		c := memClient(t, api)
		_, err := Create(context.Background(), c, "http://api.test/items", item{Name: "n"},
			WithCreateMethod(http.MethodPost), WithIdempotencyKey("k1"))
		var ae *AmbiguousError
		require.ErrorAs(t, err, &ae)
		assert.ErrorIs(t, err, ErrAmbiguous)
		assert.ErrorIs(t, err, errReset)
		assert.Equal(t, "k1", ae.Key)
		assert.Equal(t, 1, ae.Attempts)
		assert.Equal(t, 1, api.count(http.MethodPost), "a POST that may have landed is not resent")
	})
	t.Run("refused before it was written", func(t *testing.T) {
		api := newFakeAPI(`{}`)
		api.then(refuse, reply(201, `{"name":"n","count":0}`, "Location", "/items/9", "ETag", `"1"`))
		c := memClient(t, api)
		_, err := Create(context.Background(), c, "http://api.test/items", item{Name: "n"}, WithCreateMethod(http.MethodPost))
		require.NoError(t, err, "a send that never left is resent freely")
		assert.Equal(t, 2, api.count(http.MethodPost))
	})
}

func TestPostWithoutIdempotencyKeyIsNotReplayed(t *testing.T) {
	api := newFakeAPI(`{}`)
	api.then(reset)
	c := memClient(t, api)
	req, err := http.NewRequest(http.MethodPost, "http://api.test/items", nil)
	require.NoError(t, err)
	_, err = c.Do(req)
	assert.ErrorIs(t, err, errReset)
	assert.Equal(t, 1, api.count(http.MethodPost))
}

func TestGetIsReplayedAfterReset(t *testing.T) {
	api := newFakeAPI(`{"name":"a","count":1}`)
	api.then(reset, reset)
	c := memClient(t, api)
	_, err := Get[item](context.Background(), c, itemURL)
	require.NoError(t, err)
	assert.Equal(t, 3, api.count(http.MethodGet))
}

func TestDoReturnsConflictErrorWithBodyClosed(t *testing.T) {
	api := newFakeAPI(`{}`)
	api.then(reply(409, `{"message":"email already exists"}`, "Content-Type", "application/json"))
	c := memClient(t, api)
	req, err := http.NewRequest(http.MethodPut, itemURL, nil)
	require.NoError(t, err)
	resp, err := c.Do(req)
	assert.Nil(t, resp)
	var ce *ConflictError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, KindDuplicate, ce.Kind)
	assert.Contains(t, string(ce.Body), "email")
}

func TestWeakETagsAreNotSentUnlessAllowed(t *testing.T) {
	weak := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `W/"1"`)
		if r.Method == http.MethodPut && r.Header.Get("If-Match") != `W/"1"` {
			w.WriteHeader(http.StatusPreconditionFailed)
			return
		}
		_, _ = w.Write([]byte(`{"name":"a","count":1}`))
	})
	c := memClient(t, weak)
	_, err := Modify(context.Background(), c, itemURL, incr)
	assert.ErrorIs(t, err, ErrNoVersion)

	_, err = Modify(context.Background(), c, itemURL, incr, WithWeakETags(true))
	assert.NoError(t, err)
}

func TestDocumentSizeLimit(t *testing.T) {
	big := `{"name":"` + string(make([]byte, 2048)) + `"}`
	api := newFakeAPI(big)
	c := memClient(t, api, WithMaxBodySize(1024))
	_, err := Get[item](context.Background(), c, itemURL)
	assert.ErrorIs(t, err, ErrTooLarge)
}

func TestInvalidDocument(t *testing.T) {
	api := newFakeAPI(`{"name":`)
	c := memClient(t, api)
	_, err := Get[item](context.Background(), c, itemURL)
	assert.ErrorIs(t, err, ErrInvalidDocument)
	api.doc = `{"name":5}`
	_, err = Get[item](context.Background(), c, itemURL)
	assert.ErrorIs(t, err, ErrInvalidDocument)
}

func TestOptionsValidate(t *testing.T) {
	for name, o := range map[string]Option{
		"attempts":  WithMaxAttempts(0),
		"client":    WithHTTPClient(nil),
		"backoff":   WithBackoff(nil),
		"merger":    WithMerger(nil),
		"pointer":   WithVersionField("version"),
		"mode":      WithWriteMode(WriteMode(9)),
		"body":      WithMaxBodySize(0),
		"transient": WithTransientRetries(-1, Exponential(0, 0)),
	} {
		_, err := New(o)
		assert.Error(t, err, name)
	}
	c, err := New()
	require.NoError(t, err)
	_, err = Get[item](context.Background(), c, itemURL, WithCreateMethod(http.MethodDelete))
	assert.Error(t, err)
	_, err = json.Marshal(c.defaults.maxAttempts)
	assert.NoError(t, err)
}

func TestLostAnswerToAWriteThatLandedIsNeitherReappliedNorAcknowledged(t *testing.T) {
	api := newFakeAPI(`{"name":"a","count":1}`)
	writeThenReset := func(w http.ResponseWriter, r *http.Request) {
		api.pass(httptest.NewRecorder(), r)
		panic(http.ErrAbortHandler)
	}
	api.then(api.pass, writeThenReset)
	c := memClient(t, api)
	var st Stats
	_, err := Modify(context.Background(), c, itemURL, incr, WithStats(&st))
	var ae *AmbiguousError
	require.ErrorAs(t, err, &ae)
	var ce *ConflictError
	require.ErrorAs(t, err, &ce, "the 412 the resend met")
	assert.JSONEq(t, `{"name":"a","count":2}`, api.doc, "incremented once, not twice")
	assert.Equal(t, 2, api.count(http.MethodPut), "the PUT was resent once, met 412")
	reqs, _ := api.requests(http.MethodPut)
	assert.Equal(t, reqs[0].Header.Get("Idempotency-Key"), ae.Key)
	assert.Equal(t, `"2"`, ae.Version, "the fresh version")
	assert.JSONEq(t, api.doc, string(ae.Current))
	assert.Equal(t, 1, ae.Attempts)
	assert.Equal(t, 1, st.Conflicts)
}

func TestHooksAndLoggingNeverShowCredentials(t *testing.T) {
	api := newFakeAPI(`{"name":"a","count":1}`)
	api.then(api.pass, reply(412, ``))
	var logs bytes.Buffer
	var requests, conflicts, retries int
	c := memClient(t, api,
		WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		WithHooks(Hooks{
			OnRequest:  func(_ context.Context, r Request) { requests++; assert.Equal(t, "http://api.test/items/1", r.URL) },
			OnConflict: func(_ context.Context, ce *ConflictError) { conflicts++; assert.Equal(t, 412, ce.StatusCode) },
			OnRetry:    func(_ context.Context, r Retry) { retries++; assert.Equal(t, "conflict", r.Reason) },
		}))
	url := "http://user:pw-secret@api.test/items/1?token=secret-token"
	_, err := Modify(context.Background(), c, url, incr, WithHeader("Authorization", "Bearer secret-bearer"))
	require.NoError(t, err)
	assert.Equal(t, 4, requests, "GET, PUT, GET, PUT")
	assert.Equal(t, 1, conflicts)
	assert.Equal(t, 1, retries)
	assert.NotEmpty(t, logs.String())
	assert.NotContains(t, logs.String(), "secret")
	reqs, _ := api.requests(http.MethodPut)
	assert.Equal(t, "Bearer secret-bearer", reqs[0].Header.Get("Authorization"), "WithHeader reaches the server")
}

func TestSilentByDefault(t *testing.T) {
	c, err := New()
	require.NoError(t, err)
	assert.False(t, c.logger.Enabled(context.Background(), slog.LevelError))
}

func TestTransientBudgetBoundsRetries(t *testing.T) {
	api := newFakeAPI(`{"name":"a","count":1}`)
	b, err := NewBudget(1, 0)
	require.NoError(t, err)
	api.then(reply(503, "down"), reply(503, "down"), reply(503, "down"))
	c := memClient(t, api, WithRetryBudgets(nil, b))
	_, err = Get[item](context.Background(), c, itemURL)
	assert.ErrorIs(t, err, ErrBudgetExhausted)
	var se *StatusError
	require.ErrorAs(t, err, &se, "the answer that wanted the retry")
	assert.Equal(t, 503, se.StatusCode)
	assert.Equal(t, 2, api.count(http.MethodGet), "one retry in the budget, then fail fast")
}

func TestModifyPreservesTheBytesOfUntouchedMembers(t *testing.T) {
	api := newFakeAPI(`{"name":"a", "count":1, "big":12345678901234567890123, "f":1.50, "s":"\u00e9<"}`)
	c := memClient(t, api)
	_, err := Modify(context.Background(), c, itemURL, incr)
	require.NoError(t, err)
	assert.Equal(t, `{"name":"a","count":2,"big":12345678901234567890123,"f":1.50,"s":"\u00e9<"}`, api.doc)
}

func TestLyingContentLengthIsAnError(t *testing.T) {
	api := newFakeAPI(`{}`)
	lie := reply(200, `{"name":"a"}`, "Content-Length", "100", "ETag", `"1"`)
	api.then(lie, lie, lie, lie, lie)
	c := memClient(t, api)
	_, err := Get[item](context.Background(), c, itemURL)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "after the 4 transient retries")
	assert.Equal(t, 5, api.count(http.MethodGet))
}

func TestWithHTTPClientCopiesAndKeepsTheCallersClient(t *testing.T) {
	rt := inMemory{newFakeAPI(`{}`)}
	hc := &http.Client{Transport: rt, Timeout: 7 * time.Second}
	c, err := New(WithHTTPClient(hc))
	require.NoError(t, err)
	assert.NotSame(t, hc, c.hc, "copied, so occ never changes the caller's client")
	assert.Equal(t, rt, c.hc.Transport)
	assert.Equal(t, 7*time.Second, c.hc.Timeout)

	d, err := New()
	require.NoError(t, err)
	assert.NotSame(t, http.DefaultClient, d.hc)
	assert.NotEqual(t, http.DefaultTransport, d.hc.Transport)
}

func TestIdempotencyKeyStillInProgressIsWaitedOutAndResentUnchanged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI(`{}`)
		api.then(
			reply(409, `{"type":"https://example.com/idempotency","title":"Conflict","detail":"A request with this Idempotency-Key is still being processed"}`,
				"Content-Type", "application/problem+json", "Retry-After", "2"),
			reply(201, `{"name":"n","count":0}`, "ETag", `"1"`),
		)
		c := memClient(t, api)
		start := time.Now()
		_, err := Create(context.Background(), c, "http://api.test/items", item{Name: "n"},
			WithCreateMethod(http.MethodPost), WithIdempotencyKey("order-42"))
		require.NoError(t, err)
		assert.Equal(t, 2*time.Second, time.Since(start), "Retry-After honoured")
		reqs, bodies := api.requests(http.MethodPost)
		require.Len(t, reqs, 2)
		for _, r := range reqs {
			assert.Equal(t, "order-42", r.Header.Get("Idempotency-Key"))
		}
		assert.Equal(t, bodies[0], bodies[1])
	})
}

func TestConflictWaitBeyondDeadlineFailsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI(`{"name":"a","count":1}`)
		api.then(api.pass, reply(409, `{"message":"resource is locked"}`, "Retry-After", "30"))
		c := memClient(t, api)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		start := time.Now()
		_, err := Modify(ctx, c, itemURL, incr)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.ErrorIs(t, err, ErrBusy)
		assert.Zero(t, time.Since(start), "no point sleeping into the deadline")
		assert.Equal(t, 1, api.count(http.MethodPut))
	})
}

func TestConflictBodyThatIsNotTheResourceIsNotWrittenBack(t *testing.T) {
	api := newFakeAPI(`{"name":"ann","email":"a@x","count":1}`)
	api.then(api.pass, func(w http.ResponseWriter, r *http.Request) {
		api.mu.Lock()
		api.version = 2 // someone else wrote
		api.mu.Unlock()
		reply(412, `{"code":412,"description":"etag mismatch"}`, "ETag", `"2"`, "Content-Type", "application/json")(w, r)
	})
	c := memClient(t, api)
	_, err := Modify(context.Background(), c, itemURL, incr)
	require.NoError(t, err)
	assert.JSONEq(t, `{"name":"ann","email":"a@x","count":2}`, api.doc, "refreshed with a GET, nothing wiped")
	assert.Equal(t, 2, api.count(http.MethodGet))
}

func TestWriteWhoseAnswerWasLostThenBusyIsAppliedOnce(t *testing.T) {
	api := newFakeAPI(`{"name":"a","count":1}`)
	writeThenReset := func(w http.ResponseWriter, r *http.Request) {
		api.pass(httptest.NewRecorder(), r)
		panic(http.ErrAbortHandler)
	}
	api.then(api.pass, writeThenReset, reply(409, `{"message":"resource is locked"}`))
	c := memClient(t, api)
	_, err := Modify(context.Background(), c, itemURL, incr)
	assert.ErrorIs(t, err, ErrAmbiguous, "the busy answer proves nothing")
	assert.JSONEq(t, `{"name":"a","count":2}`, api.doc, "incremented once")
	reqs, _ := api.requests(http.MethodPut)
	require.Len(t, reqs, 3, "lost answer, busy, then 412")
	for _, r := range reqs {
		assert.Equal(t, reqs[0].Header.Get("Idempotency-Key"), r.Header.Get("Idempotency-Key"), "one write, one key")
	}
	assert.NotEmpty(t, reqs[0].Header.Get("Idempotency-Key"))
}

func TestAdoptingAPostCreateWithoutLocationSurfacesTheDuplicate(t *testing.T) {
	api := newFakeAPI(`{}`)
	api.then(reply(409, `{"message":"email already exists"}`, "Content-Type", "application/json"))
	c := memClient(t, api)
	var st Stats
	_, err := Create(context.Background(), c, "http://api.test/users", item{Name: "n"},
		WithCreateMethod(http.MethodPost), WithAdoptExisting(true), WithStats(&st))
	assert.ErrorIs(t, err, ErrDuplicate)
	assert.False(t, st.Adopted)
	assert.Zero(t, api.count(http.MethodGet), "the collection is not the document")
}

// closeTracker is a request body that records being closed.
type closeTracker struct {
	io.Reader
	closed bool
}

func (c *closeTracker) Close() error { c.closed = true; return nil }

func TestDoClosesTheRequestBody(t *testing.T) {
	api := newFakeAPI(`{"name":"a","count":1}`)
	c := memClient(t, api)
	body := &closeTracker{Reader: strings.NewReader(`{"name":"b"}`)}
	req, err := http.NewRequest(http.MethodPut, itemURL, body)
	require.NoError(t, err)
	req.Header.Set("If-Match", `"1"`)
	resp, err := c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.True(t, body.closed)
	assert.JSONEq(t, `{"name":"b"}`, api.doc)
}

// idleCounter is a transport that counts CloseIdleConnections calls.
type idleCounter struct {
	inMemory
	closes int
}

func (i *idleCounter) CloseIdleConnections() { i.closes++ }

func TestGivingUpLeavesTheCallersConnectionPoolAlone(t *testing.T) {
	api := newFakeAPI(`{}`)
	api.then(reset)
	rt := &idleCounter{inMemory: inMemory{api}}
	c, err := New(WithHTTPClient(&http.Client{Transport: rt}))
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, "http://api.test/items", nil)
	require.NoError(t, err)
	_, err = c.Do(req)
	require.Error(t, err)
	assert.Zero(t, rt.closes)
}

func TestBudgetRejectsNonsense(t *testing.T) {
	for _, per := range []float64{-1, math.NaN(), math.Inf(1)} {
		_, err := NewBudget(10, per)
		assert.Error(t, err, "%v", per)
	}
}

func TestWriteThatLandedWithAnUnreadableAnswerSucceeds(t *testing.T) {
	api := newFakeAPI(`{"name":"a","count":1}`)
	api.then(api.pass, func(w http.ResponseWriter, r *http.Request) {
		api.pass(httptest.NewRecorder(), r)
		reply(200, `{"na`, "Content-Length", "100", "ETag", `"2"`)(w, r)
	})
	c := memClient(t, api)
	got, err := Modify(context.Background(), c, itemURL, incr)
	require.NoError(t, err)
	assert.Equal(t, 2, got.Count)
	assert.Equal(t, 1, api.count(http.MethodPut))
}

func TestVersionIfMatchDoesNotReplaceAnETag(t *testing.T) {
	api := newFakeAPI(`{"name":"a","count":1,"version":7}`)
	c := memClient(t, api)
	_, err := Modify(context.Background(), c, itemURL, incr, WithVersionField("/version"), WithVersionIfMatch(true))
	require.NoError(t, err)
	reqs, _ := api.requests(http.MethodPut)
	require.Len(t, reqs, 1)
	assert.Equal(t, `"1"`, reqs[0].Header.Get("If-Match"))
}

func TestAnAnswerStandsWhenTheContextEndsAfterIt(t *testing.T) {
	api := newFakeAPI(`{"name":"a","count":1}`)
	ctx, cancel := context.WithCancel(context.Background())
	api.then(api.pass, func(w http.ResponseWriter, r *http.Request) {
		api.pass(w, r)
		cancel() // the write landed and was answered; then the caller gives up
	})
	c := memClient(t, api)
	got, err := Modify(ctx, c, itemURL, incr)
	require.NoError(t, err, "reporting failure would invite a second, duplicate write")
	assert.Equal(t, 2, got.Count)
}

func TestIdempotencyKeysAreDistinctAndPlain(t *testing.T) {
	seen := make(map[string]bool)
	for range 10000 {
		k := newIdempotencyKey()
		require.Regexp(t, `^[A-Z2-7]{26}$`, k, "128 bits in crypto/rand.Text's alphabet")
		require.False(t, seen[k], "key %s repeated", k)
		seen[k] = true
	}
}
