package occ

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ErrAmbiguous is returned, inside an [*AmbiguousError], when a write may
// have been applied without occ seeing the answer (the connection broke
// after the request was sent, or a gateway answered 502 or 504) and occ
// cannot prove what happened. occ never reports such a write as done, and
// never applies the change again on its own: either would risk a lost or a
// doubled update.
//
// occ proves the outcome, and returns no error, when it can: a resend with
// the same Idempotency-Key gets an answer from a server declared to honour
// keys ([WithIdempotencyKeysHonoured]), or a fresh read shows the change
// has nothing left to write (the state the caller asked for holds).
var ErrAmbiguous = errors.New("occ: outcome unknown: a write may have been applied unseen")

// AmbiguousError reports a write whose outcome is unknown. It matches
// [ErrAmbiguous] with [errors.Is], and unwraps to what ended the operation
// too (a [*ConflictError], a [*StatusError], a transport error, the
// context's error), so [errors.As] reaches it.
//
// What a caller can do: read the resource again and decide from the
// application's own evidence (a request id or marker the change wrote);
// declare the server's Idempotency-Key support with
// [WithIdempotencyKeysHonoured] where it has it, so that occ can prove the
// outcome itself; or, for a change that is safe to apply twice, call again.
type AmbiguousError struct {
	// Key is the Idempotency-Key the write carried on every send.
	Key string
	// Attempts is how many writes the operation made.
	Attempts int
	// Version and Current are the resource's version and document as read
	// after the write, when occ read them; else empty.
	Version string
	Current json.RawMessage
	// Err is what ended the operation.
	Err error
}

// Error returns a one-line description; its text is not a contract.
func (e *AmbiguousError) Error() string {
	msg := fmt.Sprintf("%v (Idempotency-Key %s, %d attempts)", ErrAmbiguous, e.Key, e.Attempts)
	if e.Err != nil {
		msg += ": " + strings.TrimPrefix(e.Err.Error(), "occ: ")
	}
	return msg
}

// Unwrap returns ErrAmbiguous and the error that ended the operation.
func (e *AmbiguousError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrAmbiguous}
	}
	return []error{ErrAmbiguous, e.Err}
}

// WithIdempotencyKeysHonoured declares that the server honours the
// Idempotency-Key header: a request carrying a key it has processed before
// is answered with the first answer, and never applied again. occ then
// resends a write whose first send may have been applied (a POST create
// too), and takes the answer to the resend as the truth about the key. The
// default is false: occ resends a possibly-applied write only when that is
// safe without the key (an idempotent method, or a conditional request),
// and otherwise returns an [*AmbiguousError].
//
// Declare it only for servers that really honour keys (Stripe's API, many
// payment and order APIs, occtest); on a server that ignores them it turns
// an [ErrAmbiguous] into a duplicated write.
func WithIdempotencyKeysHonoured(on bool) SharedOption {
	return sharedOption(func(s *settings) error {
		s.keysHonoured = on
		return nil
	})
}

// provesFate reports whether a conflict answering a resend of a write
// proves, on a server that honours Idempotency-Key, that no earlier send of
// it was applied: a landed send would have been answered with its own
// answer, never a version conflict. Other refusals (a busy key, an
// unparseable or a state conflict) prove nothing: the server may be a
// gateway, or lying.
func provesFate(ce *ConflictError) bool {
	return ce.Kind == KindVersion
}
