package occtest

import (
	"fmt"

	"github.com/occ-go/occ/internal/jsonptr"
)

// Option configures a [Store]; pass options to [NewStore] or [NewServer].
// Options apply in order, so for a setting given twice the last one wins;
// [WithUnique] and [WithTransitions] add a rule each time they are given.
// An invalid option makes [NewStore] panic, as a test-setup mistake should.
type Option interface {
	apply(c *config) error
}

// optionFunc adapts a function to [Option].
type optionFunc func(c *config) error

func (f optionFunc) apply(c *config) error { return f(c) }

var _ Option = optionFunc(nil)

// etagMode says how the store serves entity tags.
type etagMode int

const (
	etagStrong etagMode = iota
	etagWeak
	etagNone
)

// config is the immutable configuration of a Store, built from options.
type config struct {
	etags              etagMode
	weakIfMatch        bool
	lastModified       bool
	versionField       string
	versionString      bool
	requireConditional bool
	preconditionStatus int
	currentInConflict  bool
	unique             []string
	transitions        []transitionRule

	ignoreIdempotencyKeys bool
	requestLog            int              // requests kept for Store.Requests
	rateLimit             *rateLimitConfig // WithRateLimit; nil for none
	secondClock           bool             // WithSecondClock
}

// transitionRule restricts how the value at pointer may change.
type transitionRule struct {
	pointer string
	allowed map[string][]string
}

func newConfig(opts []Option) (config, error) {
	c := config{preconditionStatus: 412, requestLog: DefaultRequestLog}
	for _, o := range opts {
		if o == nil {
			return c, fmt.Errorf("occtest: nil Option")
		}
		if err := o.apply(&c); err != nil {
			return c, err
		}
	}
	return c, nil
}

// WithWeakETags makes the store serve weak entity tags (W/"3") when on is
// true, and strong ones ("3", the default) when false. Weak tags never match
// If-Match under the strong comparison RFC 9110 requires; see
// [WithWeakIfMatch].
func WithWeakETags(on bool) Option {
	return optionFunc(func(c *config) error {
		c.etags = etagStrong
		if on {
			c.etags = etagWeak
		}
		return nil
	})
}

// WithoutETags makes the store serve no ETag header at all. Any If-Match
// other than "*" then fails, since there is no current entity tag to match.
func WithoutETags() Option {
	return optionFunc(func(c *config) error {
		c.etags = etagNone
		return nil
	})
}

// WithWeakIfMatch makes If-Match use the weak comparison (W/"3" matches "3"
// and W/"3"), as many servers do in practice, when on is true. The default is
// the strong comparison of RFC 9110.
func WithWeakIfMatch(on bool) Option {
	return optionFunc(func(c *config) error {
		c.weakIfMatch = on
		return nil
	})
}

// WithLastModified makes the store serve Last-Modified and honour
// If-Unmodified-Since when on is true; it is off by default. Times come from
// a logical clock that starts at 2026-01-01T00:00:00Z and advances by one
// second on every write, so back-to-back writes always differ at the
// one-second resolution of HTTP dates.
func WithLastModified(on bool) Option {
	return optionFunc(func(c *config) error {
		c.lastModified = on
		return nil
	})
}

// WithSecondClock makes the store's Last-Modified behave as real servers'
// do when on is true: a write is stamped with the real clock (time.Now, so
// testing/synctest's fake clock in a bubble) instead of the logical clock
// that moves a second per write, Last-Modified and If-Unmodified-Since
// compare at the one-second resolution of HTTP dates (as net/http's
// ServeContent does), so that writes within one second share a
// Last-Modified, and every answer carrying Last-Modified carries the Date
// it was sent at, by which RFC 9110 section 8.8.2.2 tells a weak
// Last-Modified (one less than a second before Date) from a strong one. It
// is off by default and has no effect without [WithLastModified].
func WithSecondClock(on bool) Option {
	return optionFunc(func(c *config) error {
		c.secondClock = on
		return nil
	})
}

// WithVersionField makes the store keep an integer version in every document
// at pointer, a JSON Pointer such as "/version", "/_rev" or
// "/metadata/resourceVersion"; by default there is none. The version starts
// at 1 and the store sets it on every write. A PUT or merge patch of an
// existing resource whose body carries a different value there is answered
// 409 with code version_conflict; a body without the field is not checked,
// and a JSON Patch guards it with a test operation.
func WithVersionField(pointer string) Option {
	return optionFunc(func(c *config) error {
		if err := checkPointer(pointer); err != nil {
			return fmt.Errorf("occtest: WithVersionField: %w", err)
		}
		c.versionField = pointer
		return nil
	})
}

// WithVersionFieldString makes the version field a JSON string ("3") instead
// of a number (3, the default) when on is true. Either form is accepted in
// request bodies. It has no effect without [WithVersionField].
func WithVersionFieldString(on bool) Option {
	return optionFunc(func(c *config) error {
		c.versionString = on
		return nil
	})
}

// WithRequireConditional makes the store answer 428 Precondition Required to
// a PUT, PATCH or DELETE of an existing resource that carries no If-Match, no
// If-Unmodified-Since (with [WithLastModified]) and no version in its body
// (with [WithVersionField]), when on is true. It is off by default.
func WithRequireConditional(on bool) Option {
	return optionFunc(func(c *config) error {
		c.requireConditional = on
		return nil
	})
}

// WithPreconditionStatus sets the status of the answer to a failed If-Match
// or If-Unmodified-Since; the default is 412, and some APIs send 409. The
// code must be a 4xx status.
func WithPreconditionStatus(code int) Option {
	return optionFunc(func(c *config) error {
		if code < 400 || code > 499 {
			return fmt.Errorf("occtest: WithPreconditionStatus: %d is not a 4xx status", code)
		}
		c.preconditionStatus = code
		return nil
	})
}

// WithCurrentInConflict makes a failed precondition answer carry the current
// representation (application/json) with its ETag and Last-Modified headers
// and a Content-Location naming the resource (RFC 9110 section 8.7) instead
// of a problem body, when on is true. A version-field conflict keeps
// its problem body but gains those headers. It is off by default.
func WithCurrentInConflict(on bool) Option {
	return optionFunc(func(c *config) error {
		c.currentInConflict = on
		return nil
	})
}

// WithUnique requires the value at pointer to be unique among the resources
// of one collection (the resources sharing a parent path, such as /users/1
// and /users/2). A write that would duplicate it is answered 409 with code
// duplicate, detail "a resource with this email already exists" (for
// "/email"), the pointer in its errors member and the path of the other
// resource in its existing member. Each call adds a rule; documents without
// the value are not checked.
func WithUnique(pointer string) Option {
	return optionFunc(func(c *config) error {
		if err := checkPointer(pointer); err != nil {
			return fmt.Errorf("occtest: WithUnique: %w", err)
		}
		c.unique = append(c.unique, pointer)
		return nil
	})
}

// WithTransitions restricts changes of the value at pointer, a state field
// such as "/status": a write that changes it from a to b, where b is not in
// allowed[a], is answered 409 with code invalid_state. A state missing from
// allowed is final. Creating a resource and writes that leave the value alone
// are not checked. Each call adds a rule; the map is copied.
func WithTransitions(pointer string, allowed map[string][]string) Option {
	return optionFunc(func(c *config) error {
		if err := checkPointer(pointer); err != nil {
			return fmt.Errorf("occtest: WithTransitions: %w", err)
		}
		if allowed == nil {
			return fmt.Errorf("occtest: WithTransitions: nil map")
		}
		cp := make(map[string][]string, len(allowed))
		for from, to := range allowed {
			cp[from] = append([]string(nil), to...)
		}
		c.transitions = append(c.transitions, transitionRule{pointer: pointer, allowed: cp})
		return nil
	})
}

// checkPointer reports whether p is a non-empty JSON Pointer (RFC 6901).
func checkPointer(p string) error {
	if p == "" {
		return fmt.Errorf("%q is not a JSON Pointer to a member (want a leading /)", p)
	}
	_, err := jsonptr.Parse(p)
	return err
}

// WithIdempotencyKeys makes the store honour the Idempotency-Key header of
// writes when on is true (the default; see [Store.ServeHTTP]), and ignore it
// entirely when false, as many servers do: every request is then processed
// afresh, and a resent write applies again. Like a real server, which
// expires keys after a day or so, the store remembers a bounded number of
// keys: the [IdempotencyKeys] most recent.
func WithIdempotencyKeys(on bool) Option {
	return optionFunc(func(c *config) error {
		c.ignoreIdempotencyKeys = !on
		return nil
	})
}

// WithRequestLog sets how many requests the store keeps for
// [Store.Requests]: the n most recent, or none when n is 0. The default is
// [DefaultRequestLog], so that a long-running store (occ serve, a soak)
// holds bounded memory. A negative n is an error.
func WithRequestLog(n int) Option {
	return optionFunc(func(c *config) error {
		if n < 0 {
			return fmt.Errorf("occtest: WithRequestLog(%d): negative", n)
		}
		c.requestLog = n
		return nil
	})
}
