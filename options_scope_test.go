package occ

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCreateOnlyOptionsAreRefusedByEveryOtherOperationBeforeAnyRequest(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(`{"name":"a","count":1}`)
	c := memClient(t, api)
	ctx := context.Background()
	calls := map[string]func(CallOption) error{
		"Get":     func(o CallOption) error { _, err := Get[item](ctx, c, itemURL, o); return err },
		"GetJSON": func(o CallOption) error { _, err := GetJSON(ctx, c, itemURL, o); return err },
		"Modify":  func(o CallOption) error { _, err := Modify(ctx, c, itemURL, incr, o); return err },
		"ModifyJSON": func(o CallOption) error {
			_, err := ModifyJSON(ctx, c, itemURL, func(b []byte) ([]byte, error) { return b, nil }, o)
			return err
		},
		"ModifyBytes": func(o CallOption) error {
			_, err := ModifyBytes(ctx, c, itemURL, func(b []byte) ([]byte, error) { return b, nil }, o)
			return err
		},
		"Put": func(o CallOption) error {
			_, err := Put(ctx, c, itemURL, Versioned[item]{ETag: `"1"`}, item{Name: "b"}, o)
			return err
		},
	}
	for name, call := range calls {
		for _, o := range []CallOption{WithIdempotencyKey("k"), WithCreateMethod(http.MethodPost), WithAdoptExisting(true)} {
			err := call(o)
			require.ErrorIs(t, err, ErrInvalidArgument, name)
			assert.Contains(t, err.Error(), "only to Create", name)
		}
	}
	assert.Empty(t, api.reqs, "no request went out")

	for name, call := range calls {
		if name != "Put" {
			require.ErrorIs(t, call(WithMerger(LastWriteWins())), ErrInvalidArgument, "WithMerger to %s", name)
		}
	}
	_, err := New(WithMerger(LastWriteWins()))
	require.NoError(t, err, "as a client's default it applies wherever it can")
	_, err = Create(ctx, c, "http://api.test/items/new", item{Name: "n"},
		WithIdempotencyKey("k"), WithCreateMethod(http.MethodPut), WithAdoptExisting(true))
	assert.NoError(t, err, "Create takes them")
}

func TestPreconditionHeadersAreRefused(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(`{"name":"a","count":1}`)
	c := memClient(t, api)
	for _, h := range []string{"If-Match", "if-none-match", "If-Unmodified-Since", "IF-MODIFIED-SINCE", "If-Range"} {
		_, err := Get[item](context.Background(), c, itemURL, WithHeader(h, `"1"`))
		assert.ErrorIs(t, err, ErrInvalidArgument, h)
		_, err = New(WithHeader(h, `"1"`))
		assert.ErrorIs(t, err, ErrInvalidArgument, h)
	}
	assert.Empty(t, api.reqs, "no request went out")
	_, err := Get[item](context.Background(), c, itemURL, WithHeader("X-Tenant", "t1"))
	require.NoError(t, err)
	assert.Equal(t, "t1", api.reqs[0].Header.Get("X-Tenant"))
}

func TestEveryOperationHasAScope(t *testing.T) {
	t.Parallel()
	for _, op := range []string{"Get", "Modify", "ModifyJSON", "ModifyBytes", "Put", "Create", "Probe"} {
		assert.NotZero(t, opOf[op], op)
	}
}

// Probe checks its options like every operation: one that cannot apply to
// it is refused before any request.
func TestProbeRefusesOptionsThatCannotApplyToIt(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(`{"name":"a","count":1}`)
	c := memClient(t, api)
	for _, o := range []CallOption{WithIdempotencyKey("k"), WithAdoptExisting(true), WithMerger(LastWriteWins())} {
		_, err := Probe(context.Background(), c, itemURL, o)
		require.ErrorIs(t, err, ErrInvalidArgument)
	}
	assert.Empty(t, api.reqs, "no request went out")
}
