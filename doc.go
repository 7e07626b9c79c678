// Package occ is a client SDK for conflict-aware retry over HTTP: optimistic
// concurrency control done right on the client side.
//
// A call reads a resource and its version, applies the caller's change to a
// fresh copy, and writes it back conditionally (If-Match, If-Unmodified-Since
// or a version field in the body). When the server answers 412 Precondition
// Failed or a 409 Conflict of the version kind, occ refreshes, reapplies the
// same change to the new state and resubmits, with jittered exponential
// backoff, until the write lands, the attempts or the context run out, or the
// conflict is one no retry can fix (a duplicate, a forbidden state
// transition), which comes back as a typed [*ConflictError].
//
// Transient failures (connection errors, 429, 502, 503, 504) are retried
// underneath the conflict loop, honouring Retry-After, and only when the
// request is safe to replay.
package occ
