// Package occ is a client SDK for conflict-aware retry over HTTP: optimistic
// concurrency control done right on the client side.
//
// A call reads a resource and its version, applies the caller's change to a
// fresh copy, and writes it back conditionally (If-Match, If-Unmodified-Since
// or a version field in the body). When the server answers 412 Precondition
// Failed or a 409 Conflict of the version kind, occ refreshes, reapplies the
// same change to the new state and resubmits, after a random wait paced by
// how long one retry takes (the default; see [WithBackoff] for it and for
// [Exponential] backoff), until the write lands, the context ends, retrying
// stops making progress (the resource's version no longer moves), or the
// conflict is one
// no retry can fix (a duplicate, a forbidden state transition), which comes
// back as a typed [*ConflictError]. A write whose answer was lost is never
// reported as done nor applied twice: occ proves what happened or returns
// [ErrAmbiguous]. Concurrent changes of one client to one resource share
// writes (see [WithCoalescing]):
//
//	c, err := occ.New(occ.WithHTTPClient(authenticated)) // or occ.New()
//	if err != nil {
//		return err
//	}
//	// change may run several times, each time on the latest state.
//	order, err := occ.Modify(ctx, c, "https://api.example.com/orders/42",
//		func(o *Order) error {
//			if o.Status == "shipped" {
//				return errAlreadyShipped // aborts; reachable with errors.Is
//			}
//			o.Tags = append(o.Tags, "priority")
//			return nil
//		})
//	var ce *occ.ConflictError
//	if errors.As(err, &ce) && ce.Kind == occ.KindDuplicate {
//		// surface ce.Fields and ce.Message to a person
//	}
//
// Only what the change altered is written: members of the server's document
// that Order does not model survive, inside arrays the change touched too. Callers that hold a desired document
// rather than a change function (a form filled in against the version a
// person saw) use [Put], which rebases it onto newer versions with a
// [Merger]: [ThreeWay] by default, [LastWriteWins] when loss is acceptable.
//
// Transient failures (connection errors, 429, 502, 503, 504) are retried
// underneath the conflict loop, honouring Retry-After, and only when the
// request is safe to replay. Client-wide retry budgets keep a hot resource or
// an outage from turning into a retry storm.
//
// Every configuration error, a [ThreeWay] merger's included, is reported by
// [New] or by the call given the option, before any request is sent, as an
// error matching [ErrInvalidArgument]. [WithHooks] reports each operation's
// start and end, every request, conflict and retry, for metrics and
// tracing; the module github.com/occ-go/occ/otel builds OpenTelemetry spans
// and metrics on them.
//
// The package occtest serves an in-memory versioned resource store, like
// net/http/httptest, for tests of code that uses occ.
package occ
