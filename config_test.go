package occ

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// badMerger is a ThreeWay merger built with an invalid pointer, as issue 10
// reported it.
func badMerger() Merger { return ThreeWay(MergeArraysByKey("lines", "sku")) }

func TestNewReportsAnInvalidMerger(t *testing.T) {
	t.Parallel()
	c, err := New(WithMerger(badMerger()))
	require.ErrorIs(t, err, ErrInvalidArgument)
	require.ErrorIs(t, err, ErrInvalidMergeOption)
	assert.Nil(t, c)
	for _, opt := range []ThreeWayOption{nil, PreferMineAt("a"), PreferTheirsAt("/a~2"), MergeArraysByKey("x", "")} {
		_, err := New(WithMerger(ThreeWay(PreferMine(), opt)))
		assert.ErrorIs(t, err, ErrInvalidMergeOption)
	}
}

func TestCallsReportInvalidOptionsBeforeAnyRequest(t *testing.T) {
	t.Parallel()
	type item struct{ Name string }
	api := newFakeAPI(`{"Name":"a"}`)
	c := memClient(t, api)
	ctx := context.Background()
	const u = "http://api.test/items/1"
	for _, opt := range []CallOption{WithMerger(badMerger()), WithMaxAttempts(0), nil, WithStats(nil),
		WithHeader("Bad Name", "x"), WithHeader("X-Ok", "a\r\nInjected: 1"), WithCreateMethod("PATCH")} {
		_, err := Get[item](ctx, c, u, opt)
		assert.ErrorIs(t, err, ErrInvalidArgument)
		_, err = Modify(ctx, c, u, func(v *item) error { v.Name = "b"; return nil }, opt)
		assert.ErrorIs(t, err, ErrInvalidArgument)
		_, err = Put(ctx, c, u, Versioned[item]{ETag: `"1"`}, item{Name: "b"}, opt)
		assert.ErrorIs(t, err, ErrInvalidArgument)
		_, err = Create(ctx, c, u, item{}, opt)
		assert.ErrorIs(t, err, ErrInvalidArgument)
	}
	assert.Empty(t, api.reqs, "no request went out")
}

func TestInvalidOptionsMatchErrInvalidArgument(t *testing.T) {
	t.Parallel()
	for _, opt := range []Option{nil, WithHTTPClient(nil), WithMaxAttempts(0), WithBackoff(nil),
		WithTransientRetries(-1, nil), WithMaxRetryAfter(-1), WithMaxBodySize(0), WithMerger(nil),
		WithMerger(badMerger()), WithWriteMode(WriteMode(9)), WithVersionField("version"),
		WithHeader("", "x"), WithHeader("X-A", "a\nb"), WithMaxErrorBody(0), WithConflictParser(nil),
		WithClassifier(nil), WithDialect(Dialect{}), WithRedactedParams("")} {
		c, err := New(opt)
		assert.ErrorIs(t, err, ErrInvalidArgument)
		assert.Nil(t, c)
	}
}

func TestNilClientAndChangeReturnErrors(t *testing.T) {
	t.Parallel()
	type item struct{ Name string }
	ctx := context.Background()
	const u = "http://api.test/items/1"
	var nilc *Client
	change := func(v *item) error { return nil }
	raw := func(b []byte) ([]byte, error) { return b, nil }
	calls := map[string]func(*Client) error{
		"Get":        func(c *Client) error { _, err := Get[item](ctx, c, u); return err },
		"GetJSON":    func(c *Client) error { _, err := GetJSON(ctx, c, u); return err },
		"Modify":     func(c *Client) error { _, err := Modify(ctx, c, u, change); return err },
		"ModifyJSON": func(c *Client) error { _, err := ModifyJSON(ctx, c, u, raw); return err },
		"Put":        func(c *Client) error { _, err := Put(ctx, c, u, Versioned[item]{}, item{}); return err },
		"PutJSON": func(c *Client) error {
			_, err := PutJSON(ctx, c, u, Versioned[json.RawMessage]{}, json.RawMessage(`{}`))
			return err
		},
		"Create": func(c *Client) error { _, err := Create(ctx, c, u, item{}); return err },
		"Do": func(c *Client) error {
			req, _ := http.NewRequest(http.MethodGet, u, nil)
			_, err := c.Do(req)
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			assert.ErrorIs(t, call(nilc), ErrInvalidArgument)
		})
	}
	api := newFakeAPI(`{"Name":"a"}`)
	c := memClient(t, api)
	_, err := Modify[item](ctx, c, u, nil)
	assert.ErrorIs(t, err, ErrInvalidArgument)
	_, err = ModifyJSON(ctx, c, u, nil)
	assert.ErrorIs(t, err, ErrInvalidArgument)
	//lint:ignore SA1012 a nil context is what is tested
	_, err = Get[item](nil, c, u) //nolint:staticcheck
	assert.ErrorIs(t, err, ErrInvalidArgument)
	assert.Empty(t, api.reqs, "no request went out")
}

// TestErrorTextsDoNotStutter collects the texts of the errors occ builds
// from its own sentinels and checks that none repeats the "occ: " prefix.
func TestErrorTextsDoNotStutter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var errs []error
	_, err := New(WithMerger(badMerger()))
	errs = append(errs, err)
	_, err = New(WithMaxAttempts(0))
	errs = append(errs, err)
	for _, m := range []Merger{badMerger(), ThreeWay(nil), ThreeWay()} {
		_, err := m.Merge(ctx, []byte(`{`), []byte(`{}`), []byte(`{}`))
		errs = append(errs, err)
	}
	api := newFakeAPI(`{"a":1}`)
	c := memClient(t, api)
	_, err = ModifyJSON(ctx, c, "http://api.test/x", func([]byte) ([]byte, error) { return []byte(`{`), nil })
	errs = append(errs, err)
	api.then(reply(200, `{"a":`, "ETag", `"1"`))
	_, err = GetJSON(ctx, c, "http://api.test/x")
	errs = append(errs, err)
	api.then(api.pass, reply(412, ``))
	_, err = ModifyJSON(ctx, c, "http://api.test/x", func([]byte) ([]byte, error) { return []byte(`{"a":2}`), nil }, WithMaxAttempts(1))
	require.ErrorIs(t, err, ErrAttemptsExhausted)
	errs = append(errs, err)
	_, err = ModifyJSON(ctx, c, "http://api.test/x", func([]byte) ([]byte, error) { return nil, ErrTooLarge })
	require.ErrorIs(t, err, ErrChangeAborted)
	require.ErrorIs(t, err, ErrTooLarge)
	errs = append(errs, err)
	empty, err := NewBudget(1, 0)
	require.NoError(t, err)
	require.True(t, empty.withdraw())
	broke := memClient(t, api, WithRetryBudgets(empty, nil))
	api.then(api.pass, reply(412, ``))
	_, err = ModifyJSON(ctx, broke, "http://api.test/x", func([]byte) ([]byte, error) { return []byte(`{"a":3}`), nil })
	require.ErrorIs(t, err, ErrBudgetExhausted)
	require.ErrorIs(t, err, ErrPreconditionFailed)
	errs = append(errs, err)
	for _, err := range errs {
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "occ: occ:")
		assert.Equal(t, 1, strings.Count(err.Error(), "occ: "), err.Error())
	}
}
