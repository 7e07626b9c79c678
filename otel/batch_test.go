package occotel_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/occ-go/occ"
	"github.com/occ-go/occ/occtest"
	occotel "github.com/occ-go/occ/otel"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// A coalesced batch's write is one span linked to every caller's
// operation, never a child of one caller's.
func TestABatchIsOneSpanLinkedToEveryOperation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tel := newTelemetry(t)
		store := occtest.NewStore()
		require.NoError(t, store.Set("/c", []byte(`{"count":0}`)))
		release := make(chan struct{})
		store.BeforeNextWrite(func(*http.Request) { <-release })
		c, err := occ.New(occ.WithHTTPClient(&http.Client{Transport: occtest.Transport(store)}),
			occotel.WithTelemetry(tel.tp, tel.mp))
		require.NoError(t, err)
		incr := func(v *counter) error { v.Count++; return nil }
		var wg sync.WaitGroup
		wg.Go(func() { _, _ = occ.Modify(context.Background(), c, "http://api.test/c", incr) })
		synctest.Wait() // the first call's write waits
		for range 3 {
			wg.Go(func() { _, _ = occ.Modify(context.Background(), c, "http://api.test/c", incr) })
		}
		synctest.Wait()
		close(release)
		wg.Wait()

		spans := tel.spans.Ended()
		byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
		var batch sdktrace.ReadOnlySpan
		for _, s := range spans {
			byID[s.SpanContext().SpanID()] = s
			if s.Name() == "occ.batch" {
				require.Nil(t, batch, "one batch")
				batch = s
			}
		}
		require.NotNil(t, batch)
		assert.False(t, batch.Parent().IsValid(), "the batch is no caller's child")
		assert.Equal(t, int64(3), attrs(batch)[occotel.BatchSizeKey].AsInt64())
		require.Len(t, batch.Links(), 3)
		for _, l := range batch.Links() {
			op, ok := byID[l.SpanContext.SpanID()]
			require.True(t, ok)
			assert.Equal(t, "occ.Modify", op.Name())
		}
		puts := 0
		for _, s := range spans {
			if s.Name() != http.MethodPut {
				continue
			}
			parent := byID[s.Parent().SpanID()]
			require.NotNil(t, parent)
			if parent.Name() == "occ.batch" {
				puts++
				continue
			}
			for _, l := range batch.Links() {
				assert.NotEqual(t, l.SpanContext.SpanID(), parent.SpanContext().SpanID(), "a batched caller's span holds no request of the batch")
			}
		}
		assert.Equal(t, 1, puts, "the batch's write is a child of the batch's span")
	})
}
