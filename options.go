package occ

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/occ-go/occ/internal/jsonptr"
)

// Option configures a [Client]; pass options to [New]. Options apply in
// order, so the last one wins ([WithHooks], [WithConflictParser] and
// [WithClassifier] add up instead). An invalid option makes New fail with
// an error matching [ErrInvalidArgument]. An Option that is also a [CallOption] sets the
// client's default for every call.
type Option interface {
	applyClient(*Client) error
}

// CallOption configures one call, overriding the client's default. An
// invalid one makes the call fail with an error matching
// [ErrInvalidArgument] before any request is sent.
type CallOption interface {
	applyCall(*settings) error
}

// SharedOption is an option accepted both by [New], as the client's default,
// and by each call.
type SharedOption interface {
	Option
	CallOption
}

// clientOption is an [Option] that only a client takes.
type clientOption func(*Client) error

func (f clientOption) applyClient(c *Client) error { return f(c) }

// callOption is a [CallOption] that only a call takes.
type callOption func(*settings) error

func (f callOption) applyCall(s *settings) error { return f(s) }

// sharedOption is a [SharedOption]: it changes the settings of a call, or a
// client's defaults.
type sharedOption func(*settings) error

func (f sharedOption) applyCall(s *settings) error { return f(s) }
func (f sharedOption) applyClient(c *Client) error { return f(&c.defaults) }

var (
	_ Option       = clientOption(nil)
	_ CallOption   = callOption(nil)
	_ SharedOption = sharedOption(nil)
)

// settings are what one call runs with: the client's defaults, changed by
// the call's options.
type settings struct {
	maxAttempts    int
	backoff        Backoff
	merger         Merger
	writeMode      WriteMode
	versionField   []string // parsed JSON Pointer; nil when unset
	versionIfMatch bool
	weakETags      bool
	strongLM       bool // see WithStrongLastModified
	unconditional  bool
	createMethod   string
	idempotencyKey string
	adoptExisting  bool
	keysHonoured   bool
	coalesce       bool // see WithCoalescing
	tailored       bool // a call option other than WithStats or WithCoalescing was given
	header         http.Header
	stats          *statsRef     // this call's, made by callSettings
	statsOut       *Stats        // the caller's, from WithStats
	dialect        *Dialect      // nil: plain JSON documents
	opaque         bool          // documents are bytes (ModifyBytes)
	createType     string        // Content-Type of a create; "" for JSON
	writeKey       func() string // a coalesced batch's Idempotency-Keys; see settings.newKey
	nameField      []string      // parsed JSON Pointer naming a document in its collection; see WithNameField
	collection     string        // where Probe POSTs; see WithCollection
	origin         string        // the caller's URL: every request of the call stays on its origin
}

// defaultSettings are the settings of a client made with no options.
func defaultSettings() settings {
	return settings{
		merger:       ThreeWay(),
		coalesce:     true,
		createMethod: http.MethodPut,
	}
}

// WithHTTPClient makes the client send through hc, keeping its transport,
// timeouts, cookie jar and redirect policy. The client is copied, never
// modified. The default is a new [http.Client] with its own pooled transport;
// [http.DefaultClient] and [http.DefaultTransport] are never used.
//
// occ decides itself when a request may be sent again (see
// [WithTransientRetries]): a write whose answer was lost is resent only when
// that cannot apply it twice. A transport that resends on its own would
// break that rule unseen, so a go-retryablehttp RoundTripper (what
// retryablehttp.Client.StandardClient installs) loses its retries here: occ
// sends through the transport of the [http.Client] it wraps (with that
// client's timeout and cookie jar where hc sets none), once per attempt,
// and the retryable client's own settings (RetryMax, CheckRetry, hooks) are
// not used. A retrying transport occ cannot recognise (a wrapper around one,
// another library's) must resend nothing but GET and HEAD (a resent PUT
// that had landed meets its own new version and reads as a conflict): give
// occ the transport underneath instead.
//
// Redirects: a write never follows one, and no request follows one from
// https to http. A read follows redirects on its URL's origin (scheme, host
// and port), at most 10; one to another origin comes back as a
// [*StatusError] unless hc's CheckRedirect lets it through, and then it
// carries none of the request's headers but Accept, content negotiation
// and occ's preconditions: no [WithHeader] value, no credential.
func WithHTTPClient(hc *http.Client) Option {
	return clientOption(func(c *Client) error {
		if hc == nil {
			return argError("WithHTTPClient", "nil client")
		}
		c.hc = withoutOwnRetries(hc)
		return nil
	})
}

// WithLogger makes the client log to l. The default is silent. Credentials,
// cookies and bodies are never logged.
func WithLogger(l *slog.Logger) Option {
	return clientOption(func(c *Client) error {
		c.logger = l
		return nil
	})
}

// WithMaxAttempts bounds how many writes one operation makes, the first
// included; it must be at least 1. The default is no bound: an operation
// goes on while the resource makes progress (each version conflict finds it
// at a newer version) and the context allows, and gives up with
// [ErrAttemptsExhausted] after 10 retries that made no progress (busy
// answers, or conflicts that found the version unchanged). Transient
// retries underneath (see [WithTransientRetries]) do not count.
func WithMaxAttempts(n int) SharedOption {
	return sharedOption(func(s *settings) error {
		if n < 1 {
			return argError("WithMaxAttempts", "n must be at least 1")
		}
		s.maxAttempts = n
		return nil
	})
}

// WithHooks makes the client call h's functions as operations run. Hooks
// add up: with several WithHooks options, each hook of each runs, in the
// order given, so that a caller's hooks and a library's (say, occ's
// OpenTelemetry module) compose. The default is no hooks.
func WithHooks(h Hooks) Option {
	return clientOption(func(c *Client) error {
		c.hooks = joinHooks(c.hooks, h)
		return nil
	})
}

// WithBackoff sets how long to wait before retrying after a conflict, when
// the server gave no Retry-After. The default paces retries by the server:
// a uniformly random wait below 8 times the client's moving average of how
// long one retry (the refresh and the write) takes, 10 ms until one was
// measured. It was chosen on the hot-resource benchmark, where it beat
// full jitter (Exponential) on goodput and tail at 1 ms and 5 ms of
// latency.
func WithBackoff(b Backoff) SharedOption {
	return sharedOption(func(s *settings) error {
		if b == nil {
			return argError("WithBackoff", "nil backoff")
		}
		s.backoff = b
		return nil
	})
}

// WithTransientRetries sets how many times one request is resent after a
// transient failure (a connection error, 429, 502, 503 or 504), and the
// backoff used when the server gave no Retry-After. n may be 0 to turn
// transient retries off. The default is 4 retries with
// Exponential(200ms, 10s).
func WithTransientRetries(n int, b Backoff) Option {
	return clientOption(func(c *Client) error {
		if n < 0 || b == nil {
			return argError("WithTransientRetries", "n must be at least 0 and b not nil")
		}
		c.transientMax, c.transientBackoff = n, b
		return nil
	})
}

// WithMaxRetryAfter caps how long occ waits when a server asks for it with
// Retry-After; an answer that asks for longer ends the operation with that
// answer's error instead. The default is one minute. A wait that would
// outlast the context's deadline is never started.
func WithMaxRetryAfter(d time.Duration) Option {
	return clientOption(func(c *Client) error {
		if d < 0 {
			return argError("WithMaxRetryAfter", "negative duration")
		}
		c.maxRetryAfter = d
		return nil
	})
}

// WithRetryBudgets sets the client's retry budgets: conflict bounds
// conflict-loop retries, transient the transient layer's. A nil budget
// allows every retry. The default for each is NewBudget(100, 0.2).
func WithRetryBudgets(conflict, transient *Budget) Option {
	return clientOption(func(c *Client) error {
		c.conflictBudget, c.transientBudget = conflict, transient
		return nil
	})
}

// WithMaxBodySize bounds the size of a document occ reads; a larger one
// fails with [ErrTooLarge]. The default is 32 MiB.
func WithMaxBodySize(n int64) Option {
	return clientOption(func(c *Client) error {
		if n < 1 {
			return argError("WithMaxBodySize", "n must be at least 1")
		}
		c.maxBody = n
		return nil
	})
}

// WithMerger sets the strategy [Put] uses to rebase the caller's document
// onto a newer version. The default is [ThreeWay] with no options. A
// ThreeWay merger built with an invalid option is refused with an error
// matching [ErrInvalidArgument] and [ErrInvalidMergeOption]. Given to a
// call, it applies to [Put] only; any other call given it fails with
// [ErrInvalidArgument] before any request.
func WithMerger(m Merger) SharedOption {
	return sharedOnlyFor(opPut, "WithMerger", func(s *settings) error {
		if m == nil {
			return argError("WithMerger", "nil merger")
		}
		if tw, ok := m.(*threeWay); ok && tw.err != nil {
			return argCause("WithMerger", tw.err)
		}
		s.merger = m
		return nil
	})
}

// WriteMode says how [Modify] and [Put] send a write.
type WriteMode int

const (
	// WritePut sends the whole document with PUT. The default.
	WritePut WriteMode = iota
	// WriteMergePatch sends PATCH with an RFC 7396 JSON Merge Patch of just
	// the changed members (application/merge-patch+json). Since a merge
	// patch reads null as "remove", a change that sets a member to null is
	// sent as a JSON Patch ([WriteJSONPatch]) instead.
	WriteMergePatch
	// WriteJSONPatch sends PATCH with an RFC 6902 JSON Patch
	// (application/json-patch+json) that tests the current value of every
	// member it replaces or removes before changing it, so that a server
	// applying it atomically refuses it if anyone changed those members.
	// With [WithVersionField] it tests the version first; a server that
	// answers a failed test with 422 (the Kubernetes API) rather than 409
	// gets a [KindVersion] conflict when a read shows the version moved.
	WriteJSONPatch
)

// WithWriteMode sets how writes are sent. The default is [WritePut]. Every
// write carries an Idempotency-Key, the same on every resend of it.
func WithWriteMode(m WriteMode) SharedOption {
	return sharedOption(func(s *settings) error {
		if m < WritePut || m > WriteJSONPatch {
			return argError("WithWriteMode", "unknown mode")
		}
		s.writeMode = m
		return nil
	})
}

// WithVersionField names, as an RFC 6901 JSON Pointer such as "/version",
// "/_rev" or "/metadata/resourceVersion", a member of the document that
// holds its version. The version read is sent back in that member of every
// write (a change function cannot alter it), in addition to If-Match when
// the server sent an ETag. The default is none.
func WithVersionField(pointer string) SharedOption {
	return sharedOption(func(s *settings) error {
		p, err := jsonptr.Parse(pointer)
		if err != nil || len(p) == 0 {
			return argError("WithVersionField", "want a JSON Pointer such as /version")
		}
		s.versionField = p
		return nil
	})
}

// WithNameField names, as an RFC 6901 JSON Pointer such as "/metadata/name"
// (Kubernetes) or "/id", the member of a document that names it under its
// collection's URL. With it, a POST [Create] whose answer gives no Location
// returns the URL collection + "/" + the name (path-escaped) from the
// created answer, else from the document sent; and [WithAdoptExisting]
// adopts collection + "/" + the name of the document sent, or the name a
// duplicate answer gives (Kubernetes details.name). The default is none.
func WithNameField(pointer string) SharedOption {
	return sharedOnlyFor(opCreate|opProbe, "WithNameField", func(s *settings) error {
		p, err := jsonptr.Parse(pointer)
		if err != nil || len(p) == 0 {
			return argError("WithNameField", "want a JSON Pointer such as /metadata/name")
		}
		s.nameField = p
		return nil
	})
}

// WithVersionIfMatch makes writes also carry the version field's value as
// If-Match: "<value>", for APIs that take a body version as an entity tag
// and send no ETag (an ETag, when sent, is what If-Match carries). The
// default is false.
func WithVersionIfMatch(on bool) SharedOption {
	return sharedOption(func(s *settings) error {
		s.versionIfMatch = on
		return nil
	})
}

// WithWeakETags makes occ condition writes on weak ETags (W/"...") too. RFC
// 9110 compares If-Match strongly, so a weak tag never matches on a
// compliant server; by default occ therefore does not send one, and falls
// back to Last-Modified or the version field, or fails with
// [ErrNoVersion]. Turn this on for servers that compare If-Match weakly.
func WithWeakETags(on bool) SharedOption {
	return sharedOption(func(s *settings) error {
		s.weakETags = on
		return nil
	})
}

// WithStrongLastModified declares that the server's Last-Modified changes
// with every write, however close (a clock finer than the second its text
// shows, or one that ticks per write), so that If-Unmodified-Since protects
// a write. By default a Last-Modified is used only when it is strong by RFC
// 9110 section 8.8.2.2, the answer's Date being at least a second later;
// otherwise two writes within one second look alike, and occ fails with
// [ErrNoVersion] rather than write on it.
func WithStrongLastModified(on bool) SharedOption {
	return sharedOption(func(s *settings) error {
		s.strongLM = on
		return nil
	})
}

// WithUnconditional lets writes go out without any precondition when the
// server gives no version, risking lost updates. The default is false:
// such a write fails with [ErrNoVersion].
func WithUnconditional(on bool) SharedOption {
	return sharedOption(func(s *settings) error {
		s.unconditional = on
		return nil
	})
}

// WithCreateMethod sets the method [Create] uses: http.MethodPut (the
// default, with If-None-Match: *) or http.MethodPost (to a collection, with
// an Idempotency-Key). As a client option it is the default of every
// Create (a Kubernetes client sets POST once). Given to a call, it applies
// to [Create] and [Probe]; any other call given it fails with
// [ErrInvalidArgument] before any request.
func WithCreateMethod(method string) SharedOption {
	return sharedOnlyFor(opCreate|opProbe, "WithCreateMethod", func(s *settings) error {
		if method != http.MethodPut && method != http.MethodPost {
			return argError("WithCreateMethod", "want PUT or POST")
		}
		s.createMethod = method
		return nil
	})
}

// WithCollection names the collection that [Probe] POSTs its duplicate
// create and any scratch document to, with [WithCreateMethod](POST): the
// default is the parent of the URL probed (/api/v1/namespaces/ns/configmaps
// for .../configmaps/name). It must be on the probed URL's origin (scheme,
// host and port); any other is an [ErrInvalidArgument], as is giving it to
// another operation.
func WithCollection(url string) CallOption {
	return onlyFor(opProbe, "WithCollection", func(s *settings) error {
		if url == "" {
			return argError("WithCollection", "empty URL")
		}
		s.collection = url
		return nil
	})
}

// WithIdempotencyKey sets the Idempotency-Key of a POST [Create], for
// callers that must keep one key across their own retries too. The default
// is a random key, kept across every retry of the call. A create whose
// answer was lost and that then meets "already exists" is known to be its
// own only when the document it finds carries the key as a string member:
// put the key in the document to let occ prove it; otherwise occ returns an
// [*AmbiguousError].
// It applies to
// [Create] only; any other call given it fails with [ErrInvalidArgument]
// before any request.
func WithIdempotencyKey(key string) CallOption {
	return onlyFor(opCreate, "WithIdempotencyKey", func(s *settings) error {
		if key == "" {
			return argError("WithIdempotencyKey", "empty key")
		}
		s.idempotencyKey = key
		return nil
	})
}

// WithAdoptExisting makes [Create] read and return the existing document
// when the server says it already exists, instead of failing with a
// [KindDuplicate] [*ConflictError]. [Stats.Adopted] tells which happened.
// The existing document is found at the duplicate's Location, the create's
// own URL for a PUT, and for a POST a link in the answer's body or the
// name [WithNameField] gives; when occ cannot find it (or nothing is
// there: a duplicate about another resource's unique member), the error
// wraps the duplicate ([ErrDuplicate]) and says why.
// It applies to [Create] only; any other call given it fails with
// [ErrInvalidArgument] before any request.
func WithAdoptExisting(on bool) CallOption {
	return onlyFor(opCreate, "WithAdoptExisting", func(s *settings) error {
		s.adoptExisting = on
		return nil
	})
}

// WithHeader adds a header to every request a call sends, such as a tenant
// id or a credential. Content and idempotency headers are occ's and win. A
// precondition (If-Match, If-None-Match, If-Unmodified-Since,
// If-Modified-Since, If-Range) is occ's to set from the version it read:
// WithHeader refuses one with [ErrInvalidArgument]. The value is treated as
// secret: it never follows a read's redirect to another origin (see
// [WithHTTPClient]), and it is scrubbed from every text of the server's that
// occ repeats (see [ConflictError]).
func WithHeader(key, value string) SharedOption {
	return sharedOption(func(s *settings) error {
		if err := checkHeader(key, value); err != nil {
			return err
		}
		if err := checkPrecondition(key); err != nil {
			return err
		}
		if s.header == nil {
			s.header = http.Header{}
		}
		s.header.Add(key, value)
		return nil
	})
}

// WithStats makes the call record what it did in st, overwriting it when
// the call ends, however it ends. st must not be nil.
func WithStats(st *Stats) CallOption {
	return statsOption(func(s *settings) error {
		if st == nil {
			return argError("WithStats", "nil *Stats")
		}
		s.statsOut = st
		return nil
	})
}

// statsOption is the type of [WithStats]: an option that does not make a
// call's settings its own (see settings.tailored).
type statsOption func(*settings) error

func (f statsOption) applyCall(s *settings) error { return f(s) }

// tailors reports whether a call option makes the call's settings differ
// from the client's, so that the call is never batched with others.
func tailors(o CallOption) bool {
	switch o.(type) {
	case statsOption, coalescingOption:
		return false
	}
	return true
}

// WithMaxErrorBody bounds how many bytes of an error answer's body are read
// into a [ConflictError] or [StatusError]; n must be at least 1. Up to 256
// KiB more are drained so the connection can be reused, then the body is
// closed. The default is 64 KiB.
func WithMaxErrorBody(n int64) Option {
	return clientOption(func(c *Client) error {
		if n < 1 {
			return argError("WithMaxErrorBody", "n must be at least 1")
		}
		c.errs.maxBody = n
		return nil
	})
}

// WithConflictParser adds p to the parsers of error bodies, tried in the
// order added and before the built-in ones (see [ConflictParser]). p must
// not be nil. By default only the built-in parsers run.
func WithConflictParser(p ConflictParser) Option {
	return clientOption(func(c *Client) error {
		if p == nil {
			return argError("WithConflictParser", "nil parser")
		}
		c.errs.parsers = append(slices.Clip(c.errs.parsers), p)
		return nil
	})
}

// WithClassifier adds cl to the classifiers of conflicts, tried in the
// order added and before the built-in one (see [Classifier] and
// [DefaultClassifier]). cl must not be nil. By default only the built-in
// classifier runs.
func WithClassifier(cl Classifier) Option {
	return clientOption(func(c *Client) error {
		if cl == nil {
			return argError("WithClassifier", "nil classifier")
		}
		c.errs.classifiers = append(slices.Clip(c.errs.classifiers), cl)
		return nil
	})
}

// ErrInvalidArgument is matched, with [errors.Is], by every error occ
// returns for an invalid option or argument: a nil *Client, context or
// change function, or an option whose value cannot work, a [ThreeWay]
// merger's included. [New] reports the options it is given, and each call
// those it receives, before any request is sent.
var ErrInvalidArgument = errors.New("occ: invalid argument")

// argumentError is an invalid option or argument: where names the option
// or function that received it.
type argumentError struct {
	where string
	msg   string
	cause error // nil, or what made it invalid
}

// argError returns the error of an invalid option or argument.
func argError(where, msg string) error { return &argumentError{where: where, msg: msg} }

// argCause returns the error of an option made invalid by cause, whose text
// it repeats without its own "occ: " prefix.
func argCause(where string, cause error) error {
	return &argumentError{where: where, msg: strings.TrimPrefix(cause.Error(), "occ: "), cause: cause}
}

// Error returns "occ: invalid argument: <where>: <what>".
func (e *argumentError) Error() string { return "occ: invalid argument: " + e.where + ": " + e.msg }

// Is reports whether target is [ErrInvalidArgument].
func (e *argumentError) Is(target error) bool { return target == ErrInvalidArgument }

// Unwrap returns the cause, if any.
func (e *argumentError) Unwrap() error { return e.cause }

// wrapped is an error that adds to another without repeating occ's prefix.
type wrapped struct {
	text string
	errs []error
}

func (w *wrapped) Error() string   { return w.text }
func (w *wrapped) Unwrap() []error { return w.errs }

// wrap returns an error matching outer and inner that reads "<outer>:
// <inner>", inner without its "occ: " prefix when outer says "occ: "
// already.
func wrap(outer, inner error) error {
	text := inner.Error()
	if strings.Contains(outer.Error(), "occ: ") {
		text = strings.TrimPrefix(text, "occ: ")
	}
	return &wrapped{text: outer.Error() + ": " + text, errs: []error{outer, inner}}
}

// checkHeader rejects a header that net/http would refuse to send: a name
// that is not an RFC 9110 token, or a value holding CR, LF or NUL.
func checkHeader(key, value string) error {
	if key == "" || strings.IndexFunc(key, notTokenRune) >= 0 {
		return argError("WithHeader", fmt.Sprintf("invalid header name %q", key))
	}
	if strings.ContainsAny(value, "\r\n\x00") {
		return argError("WithHeader", fmt.Sprintf("invalid value for header %q", key))
	}
	return nil
}

// notTokenRune reports whether r may not appear in an RFC 9110 token.
func notTokenRune(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return false
	}
	return !strings.ContainsRune("!#$%&'*+-.^_`|~", r)
}

// WithRedactedParams adds names to the query parameters whose values are
// replaced by REDACTED wherever occ shows a URL with its query: in a
// [ConflictError] or [StatusError] (their URL, Error text and log values)
// and in the transport errors occ returns and passes to hooks (hooks' and
// logs' own URLs carry no query at all). Names match
// case-insensitively, ignoring '-', '_' and '.', so "X-Tenant-Key" also
// covers x_tenant_key; each must have a letter or digit. Options add up.
//
// The default list, always applied, covers API keys (key, api_key, apikey,
// x-api-key and any name ending in api_key), tokens (token, access_token,
// refresh_token, id_token, auth_token, api_token, session_token,
// oauth_token, X-Amz-Security-Token, jwt, assertion, client_assertion),
// OAuth codes (code, oauth_verifier), passwords (password, passwd, pwd,
// pass and any name ending in password), secrets (secret, client_secret and
// any name ending in secret, private_key, secret_key), signatures and
// credentials of presigned URLs (sig, Signature, X-Amz-Signature,
// X-Amz-Credential, X-Goog-Signature, X-Goog-Credential, AWSAccessKeyId,
// credential(s)), and sessions (auth, authorization, session, session_id,
// sessionid, PHPSESSID, SAMLResponse), and the names of common APIs:
// GitLab's private_token, Azure API Management's subscription-key, OAuth 1's
// oauth_consumer_key, oauth_token and oauth_signature, AWS's
// X-Amz-Security-Token, X-Amz-Signature and X-Amz-Credential, Google's key,
// Slack's and Twilio's token and AuthToken, Stripe's client_secret, and any
// name ending in consumer_key, account_key, master_key, sas_token or
// signing_key. The full list is in SECURITY.md. Azure SAS's sv, se, sp, sr and st are
// not secret and stay; its sig is redacted. Names that merely contain such a
// word (author, assignee, zipcode, sort_key, keyword, pageToken) stay
// readable.
func WithRedactedParams(names ...string) Option {
	return clientOption(func(c *Client) error {
		extra := slices.Clip(c.errs.redact)
		for _, name := range names {
			n := normalizeParam(strings.TrimSpace(name))
			if n == "" {
				return argError("WithRedactedParams", fmt.Sprintf("%q names no parameter", name))
			}
			extra = append(extra, n)
		}
		c.errs.redact = extra
		return nil
	})
}

// WithRateLimitPacing turns per-host rate-limit pacing on (the default) or
// off. On, the client keeps one view per host of the rate limit the host
// announces (see [ParseRateLimit]), shared by every goroutine: once a
// window's requests are spent, requests to that host wait for its reset
// instead of collecting a 429; a host that announces nothing but answers
// 429 is paced by an adaptive token bucket that starts at the rate the
// host served over the last second and grows 2% a second while no 429
// comes. A wait that would outlast the context's deadline or
// [WithMaxRetryAfter] fails fast with an error matching [ErrRateLimited].
// Off, only the resend of a rate-limited request waits (its Retry-After).
func WithRateLimitPacing(on bool) Option {
	return clientOption(func(c *Client) error {
		c.limits.noPacing = !on
		return nil
	})
}

// WithAttemptTimeout bounds each send of a request, until its answer's
// headers arrive, by d, apart from the call's context: a send that times
// out fails with an error matching [ErrAttemptTimeout] and, like a
// connection error, is resent when it cannot have been applied or is safe
// to resend (a read, a conditional write, a write with an honoured
// Idempotency-Key); otherwise the write's answer is lost and the
// lost-answer rules apply (see [ErrAmbiguous]). 0, the default, means no
// attempt timeout; d must not be negative.
func WithAttemptTimeout(d time.Duration) Option {
	return clientOption(func(c *Client) error {
		if d < 0 {
			return argError("WithAttemptTimeout", "negative duration")
		}
		c.limits.attemptTimeout = d
		return nil
	})
}
