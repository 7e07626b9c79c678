package occ

import (
	"bytes"
	"context"
	"encoding/base32"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"reflect"
	"time"

	"github.com/hashicorp/go-cleanhttp"
	"github.com/hashicorp/go-retryablehttp"
)

// Client runs conflict-aware operations. Create one with [New]; a Client is
// safe for concurrent use by multiple goroutines, and should be reused.
type Client struct {
	hc               *http.Client
	rc               *retryablehttp.Client
	logger           *slog.Logger
	hooks            Hooks
	defaults         settings
	errs             errorSettings
	maxBody          int64
	transientMax     int
	transientBackoff Backoff
	maxRetryAfter    time.Duration
	conflictBudget   *Budget
	transientBudget  *Budget
	batches          coalescer
	pace             pacer        // the default conflict backoff
	limits           rateLimiting // per-host rate-limit pacing (ratelimit_send.go)
}

// Versioned is a document with the version the server holds it at, as
// returned by [Get], [Create], [Put] and friends, and passed back to [Put] as
// the base of an edit.
type Versioned[T any] struct {
	// Value is the document decoded into T.
	Value T
	// Version is the document's version as occ read it: the one a
	// [Dialect]'s Decode gave, else the body field named by
	// [WithVersionField] when set, else the ETag (a weak one only with
	// [WithWeakETags]), else a strong Last-Modified (see
	// [WithStrongLastModified]); "" when there is none.
	Version string
	// ETag and LastModified are the validators the server sent, if any.
	ETag, LastModified string
	// URL is where the document lives: the Location of a create answer when
	// the server gave one, else the URL the call used.
	URL string
	// Raw is the document exactly as the server sent it. Members T does not
	// model are kept here, and survive every write occ makes.
	Raw json.RawMessage
}

// Defaults of a client made by [New] with no options.
const (
	defaultTransientMax  = 4
	defaultMaxBody       = 32 << 20
	defaultMaxRetryAfter = time.Minute
)

// New returns a client configured by opts; with none, it is the recommended
// client: writes go on while the resource makes progress and the context
// allows, at most 10 retries without progress, conflict retries paced by
// the measured retry round trip (see [WithBackoff]), concurrent changes of
// one URL coalesced (see [WithCoalescing]), transient backoff from 200 ms
// to 10 s (full jitter), 4 transient retries, Retry-After honoured up to a
// minute, retry budgets of 100 tokens earning 0.2 a call, documents up to
// 32 MiB, three-way merge for [Put], no logging, and a pooled transport of
// its own that gives up on a connection not made in 30 s, a TLS handshake
// not done in 10 s and response headers not begun in a minute (see
// [WithHTTPClient] to choose others); the context bounds the rest. It
// returns an error matching [ErrInvalidArgument] when an option is
// invalid, a [ThreeWay] merger built with an invalid option included.
func New(opts ...Option) (*Client, error) {
	conflictBudget, _ := NewBudget(100, 0.2)
	transientBudget, _ := NewBudget(100, 0.2)
	c := &Client{
		defaults:         defaultSettings(),
		errs:             errorSettings{maxBody: defaultMaxErrorBody},
		maxBody:          defaultMaxBody,
		transientMax:     defaultTransientMax,
		transientBackoff: defaultTransientBackoff,
		maxRetryAfter:    defaultMaxRetryAfter,
		conflictBudget:   conflictBudget,
		transientBudget:  transientBudget,
	}
	for _, o := range opts {
		if o == nil {
			return nil, argError("New", "nil Option")
		}
		if err := o.applyClient(c); err != nil {
			return nil, err
		}
	}
	if c.hc == nil {
		c.hc = defaultHTTPClient()
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	c.rc = c.newTransport()
	return c, nil
}

// RedactURL returns raw as occ shows a URL in its errors: without user
// info or fragment, the values of secret query parameters (the default
// list and the client's [WithRedactedParams]) replaced by REDACTED. Text
// that does not parse as a URL is redacted as well as it can be. Use it to
// log a URL the way occ does.
func (c *Client) RedactURL(raw string) string { return c.errs.redactURLText(raw) }

// Timeouts of the transport of a client made without [WithHTTPClient].
const (
	defaultDialTimeout           = 30 * time.Second
	defaultTLSHandshakeTimeout   = 10 * time.Second
	defaultResponseHeaderTimeout = time.Minute
)

// defaultHTTPClient returns the client of a Client made without
// [WithHTTPClient]: a pooled transport of its own (never
// http.DefaultTransport) that gives up on a connection not made in 30 s, a
// TLS handshake not done in 10 s, and response headers not begun in a
// minute, so that a server that accepts and never answers cannot hold a
// call forever when its context has no deadline.
func defaultHTTPClient() *http.Client {
	tr := cleanhttp.DefaultPooledTransport()
	tr.DialContext = (&net.Dialer{Timeout: defaultDialTimeout, KeepAlive: 30 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = defaultTLSHandshakeTimeout
	tr.ResponseHeaderTimeout = defaultResponseHeaderTimeout
	return &http.Client{Transport: tr}
}

// callSettings returns the client's defaults changed by opts, with a fresh
// record of stats.
func (c *Client) callSettings(opts []CallOption) (*settings, error) {
	s := c.defaults
	s.header = s.header.Clone()
	s.stats = &statsRef{}
	for _, o := range opts {
		if o == nil {
			return nil, argError("CallOption", "nil CallOption")
		}
		if err := o.applyCall(&s); err != nil {
			return nil, err
		}
		s.tailored = s.tailored || tailors(o)
	}
	return &s, nil
}

// Do sends req through the client's transient-retry layer and returns the
// answer. Connection errors and 429, 502, 503 and 504 answers are retried
// when req is safe to replay: its method is idempotent, or it carries an
// Idempotency-Key header. The body is buffered so that it can be replayed.
//
// A 409, 412 or 428 answer comes back as a nil response and a
// [*ConflictError], with the body read, drained and closed. Any other answer
// is returned as is, and the caller closes its body. Do is for callers that
// run their own loop; [Modify] and [Put] run it for you. Do is no
// operation: it calls [Hooks.OnRequest], [Hooks.OnResponse],
// [Hooks.OnConflict] and [Hooks.OnRetry], never OnStart or OnEnd.
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	if c == nil || req == nil {
		return nil, argError("Do", "nil *Client or *http.Request")
	}
	rreq, err := retryablehttp.FromRequest(req)
	if req.Body != nil {
		req.Body.Close() // buffered: closed as net/http would
	}
	if err != nil {
		return nil, fmt.Errorf("occ: buffering request body: %w", err)
	}
	x := &exchange{write: isWrite(req.Method), safe: safeToResend(req.Method, req.Header, c.defaults.keysHonoured), req: req}
	resp, err := c.roundTrip(rreq.WithContext(x.watch(req.Context())), x)
	if err != nil {
		return nil, err
	}
	if ce := parseConflict(resp, c.errs.answering(isCreateIfAbsent(req))); ce != nil {
		c.noteConflict(req.Context(), nil, ce)
		return nil, ce
	}
	return resp, nil
}

// watch returns ctx carrying x, for the transient layer to record on x
// what it learns of a send, and for a write the httptrace hooks that tell
// whether a failed send may have been applied (a read is safe to resend
// either way).
func (x *exchange) watch(ctx context.Context) context.Context {
	ctx = context.WithValue(ctx, exchangeKey{}, x)
	if !x.write {
		return ctx
	}
	return httptrace.WithClientTrace(ctx, x.send.clientTrace())
}

// roundTrip sends req, whose context x watches, through the transient
// layer.
func (c *Client) roundTrip(req *retryablehttp.Request, x *exchange) (*http.Response, error) {
	c.transientBudget.deposit()
	resp, err := c.rc.Do(req)
	if err != nil && resp != nil { // a policy refused to retry an answer
		return nil, wrap(c.redactError(err, x), newStatusError(resp, &c.errs))
	}
	if err != nil {
		return nil, fmt.Errorf("occ: %s %s: %w", req.Method, c.errs.redactURL(req.URL), c.redactError(err, x))
	}
	return resp, nil
}

// redactError redacts, by the client's list, the URL that net/http puts in
// its *url.Error, so that no secret query value leaves in an error's text,
// and scrubs from the error it wraps the secrets x's request carried (see
// sentSecrets): a transport error may quote what the server sent, such as
// a malformed header line echoing a credential.
func (c *Client) redactError(err error, x *exchange) error {
	if err == nil {
		return nil
	}
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	ue.URL = c.errs.redactURLText(ue.URL)
	if x == nil || x.req == nil || ue.Err == nil {
		return err
	}
	if _, done := ue.Err.(*scrubbedError); done {
		return err
	}
	msg := ue.Err.Error()
	if clean := scrub(msg, sentSecrets(x.req, c.errs.redact), false); clean != msg {
		ue.Err = &scrubbedError{msg: clean, err: ue.Err}
	}
	return err
}

// scrubbedError is a transport error whose text had secrets scrubbed. It
// unwraps to the original, and keeps its Timeout and Temporary.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// Timeout reports whether the original error is a timeout.
func (e *scrubbedError) Timeout() bool {
	var t interface{ Timeout() bool }
	return errors.As(e.err, &t) && t.Timeout()
}

// Temporary reports whether the original error is temporary.
func (e *scrubbedError) Temporary() bool {
	var t interface{ Temporary() bool }
	return errors.As(e.err, &t) && t.Temporary()
}

// isWrite reports whether a method changes the resource.
func isWrite(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// safeToResend reports whether a request may be sent again after a send
// that may have been applied: its method is idempotent, it is conditional
// (a landed first send makes the precondition fail), or it carries an
// Idempotency-Key that the server is declared to honour.
func safeToResend(method string, h http.Header, keysHonoured bool) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
		return true
	}
	for _, k := range []string{"If-Match", "If-None-Match", "If-Unmodified-Since"} {
		if h.Get(k) != "" {
			return true
		}
	}
	return keysHonoured && h.Get("Idempotency-Key") != ""
}

// send makes one logical request of an operation: method on url with body
// and headers, through the transient layer, counted in s's stats. h, nil
// or built for this one request, becomes the request's header. The
// exchange tells what the transient layer learnt, even on error.
func (c *Client) send(ctx context.Context, method, url string, body []byte, h http.Header, s *settings) (*http.Response, *exchange, error) {
	var raw any
	if body != nil {
		raw = body
	}
	x := &exchange{write: isWrite(method)}
	if s.origin != "" && url != s.origin && !sameOrigin(s.origin, url) {
		return nil, x, c.errs.otherOrigin(s.origin, url, false, nil)
	}
	req, err := retryablehttp.NewRequestWithContext(x.watch(ctx), method, url, raw)
	if err != nil {
		return nil, x, fmt.Errorf("occ: building request: %w", err)
	}
	if body != nil {
		// Without GetBody, net/http cannot silently resend a write that
		// failed on a reused connection (it would, for a request carrying an
		// Idempotency-Key): every resend goes through the transient layer,
		// which knows whether the first send may have been applied.
		req.GetBody = nil
	}
	if h != nil {
		req.Header = h
	}
	for k, v := range s.header {
		if _, ok := req.Header[k]; !ok {
			req.Header[k] = v
		}
	}
	if !s.opaque {
		req.Header["Accept"] = []string{"application/json"}
	}
	x.safe, x.req = safeToResend(method, req.Header, s.keysHonoured), req.Request
	resp, err := c.roundTrip(req, x)
	s.stats.add(func(st *Stats) { st.TransientRetries += x.retries })
	return resp, x, err
}

// keyEncoding spells an Idempotency-Key in crypto/rand.Text's alphabet.
var keyEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newIdempotencyKey returns a fresh random Idempotency-Key of 128 bits, 26
// characters. A key must be unique, not secret, so its bits come from
// math/rand/v2's generator (ChaCha8, seeded from the operating system):
// crypto/rand costs a system call per key.
func newIdempotencyKey() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], mrand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], mrand.Uint64())
	return keyEncoding.EncodeToString(b[:])
}

// preallocMax bounds what readDocument allocates on the word of a
// Content-Length header: a larger claim is read as it arrives.
const preallocMax = 64 << 10

// readDocument reads a document body through the client's size limit, in
// one allocation when the answer announced a small length.
func (c *Client) readDocument(resp *http.Response) ([]byte, error) {
	body := resp.Body
	defer body.Close()
	if n := resp.ContentLength; n >= 0 && n <= min(c.maxBody, preallocMax) {
		b := make([]byte, n)
		if _, err := io.ReadFull(body, b); err != nil {
			return nil, fmt.Errorf("occ: reading document: %w", err)
		}
		return b, nil
	}
	var buf bytes.Buffer
	if n := resp.ContentLength; n > 0 {
		buf.Grow(preallocMax)
	}
	if _, err := buf.ReadFrom(io.LimitReader(body, c.maxBody+1)); err != nil {
		return nil, fmt.Errorf("occ: reading document: %w", err)
	}
	switch n := int64(buf.Len()); {
	case n > c.maxBody:
		_, _ = io.Copy(io.Discard, io.LimitReader(body, maxDrain))
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, c.maxBody)
	case resp.ContentLength >= 0 && n < resp.ContentLength:
		return nil, fmt.Errorf("occ: reading document: %w", io.ErrUnexpectedEOF)
	}
	return buf.Bytes(), nil
}

// Errors about the documents and versions a server sends.
var (
	// ErrTooLarge is returned when a document exceeds the client's limit
	// (see [WithMaxBodySize]).
	ErrTooLarge = errors.New("occ: document too large")
	// ErrNoVersion is returned when the server sent no version a write could
	// be conditioned on: no strong ETag (nor a weak one with
	// [WithWeakETags]), no strong Last-Modified (see
	// [WithStrongLastModified]) and no version field. occ never
	// writes unconditionally unless told to with [WithUnconditional].
	// A server that sends only a weak ETag gets this error by default, as
	// its text says, pointing to WithWeakETags.
	ErrNoVersion = errors.New("occ: the server gave no version to condition a write on " +
		"(no strong ETag, Last-Modified or version field; for a server that sends only weak ETags, see WithWeakETags)")
	// ErrInvalidDocument is returned when a document is not valid JSON or
	// does not decode into the caller's type.
	ErrInvalidDocument = errors.New("occ: invalid document")
)

// answerError turns an unexpected answer into an error: a [*ConflictError]
// for 409, 412 and 428, else a [*StatusError].
func (c *Client) answerError(ctx context.Context, s *settings, resp *http.Response) error {
	if ce := parseConflict(resp, &c.errs); ce != nil {
		c.noteConflict(ctx, s, ce)
		return ce
	}
	return newStatusError(resp, &c.errs)
}

// deepEqual reports whether two decoded documents are equal.
func deepEqual(a, b any) bool { return reflect.DeepEqual(a, b) }
