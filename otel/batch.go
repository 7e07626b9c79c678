package occotel

import (
	"context"

	"github.com/occ-go/occ"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// BatchSizeKey is the number of operations whose changes a coalesced batch
// writes at once (see occ.WithCoalescing).
const BatchSizeKey = attribute.Key("occ.batch.size")

// batch begins the span of a coalesced batch: a root span of its own,
// named "occ.batch", linked to the span of every operation whose change it
// writes, so that no operation's trace claims the others' requests. The
// batch's request spans are its children.
func (t *telemetry) batch(ctx context.Context, b occ.Batch) context.Context {
	links := make([]trace.Link, 0, len(b.Operations))
	for _, op := range b.Operations {
		if sc := trace.SpanContextFromContext(op); sc.IsValid() {
			links = append(links, trace.Link{SpanContext: sc})
		}
	}
	attrs := append([]attribute.KeyValue{BatchSizeKey.Int(len(b.Operations))}, urlAttrs(b.URL)...)
	ctx, _ = t.tracer.Start(ctx, "occ.batch", trace.WithNewRoot(), trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithLinks(links...), trace.WithAttributes(attrs...))
	return context.WithValue(ctx, stateKey{}, &opState{name: "batch"})
}

// batchEnd ends a batch's span, with its error if it failed.
func (t *telemetry) batchEnd(ctx context.Context, r occ.BatchResult) {
	span := trace.SpanFromContext(ctx)
	if r.Err != nil {
		span.RecordError(r.Err)
		span.SetStatus(codes.Error, r.Err.Error())
	}
	span.End()
}
