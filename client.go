package occ

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
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
}

// Versioned is a document with the version the server holds it at, as
// returned by [Get], [Create], [Put] and friends, and passed back to [Put] as
// the base of an edit.
type Versioned[T any] struct {
	// Value is the document decoded into T.
	Value T
	// Version is the version writes are conditioned on: the one a
	// [Dialect]'s Decode gave, else the body field named by
	// [WithVersionField] when set, else the ETag, else Last-Modified.
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
	defaultMaxAttempts   = 10
	defaultTransientMax  = 4
	defaultMaxBody       = 32 << 20
	defaultMaxRetryAfter = time.Minute
)

// New returns a client configured by opts; with none, it is the recommended
// client: at most 10 writes an operation, conflict backoff from 20 ms to 2 s
// and transient backoff from 200 ms to 10 s (both full jitter), 4 transient
// retries, Retry-After honoured up to a minute, retry budgets of 100 tokens
// earning 0.2 a call, documents up to 32 MiB, three-way merge for [Put], and
// no logging. It returns an error when an option is invalid.
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
		if err := o.applyClient(c); err != nil {
			return nil, err
		}
	}
	if c.hc == nil {
		c.hc = cleanhttp.DefaultPooledClient()
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	c.rc = c.newTransport()
	return c, nil
}

// callSettings returns the client's defaults changed by opts.
func (c *Client) callSettings(opts []CallOption) (*settings, error) {
	s := c.defaults
	s.header = s.header.Clone()
	for _, o := range opts {
		if err := o.applyCall(&s); err != nil {
			return nil, err
		}
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
// run their own loop; [Modify] and [Put] run it for you.
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	rreq, err := retryablehttp.FromRequest(req)
	if req.Body != nil {
		req.Body.Close() // buffered: closed as net/http would
	}
	if err != nil {
		return nil, fmt.Errorf("occ: buffering request body: %w", err)
	}
	resp, _, err := c.roundTrip(rreq)
	if err != nil {
		return nil, err
	}
	if ce := parseConflict(resp, &c.errs); ce != nil {
		c.noteConflict(req.Context(), nil, ce)
		return nil, ce
	}
	return resp, nil
}

// roundTrip sends req through the transient layer, with the bookkeeping its
// retry policy needs.
func (c *Client) roundTrip(req *retryablehttp.Request) (*http.Response, *exchange, error) {
	x := &exchange{replayable: replayable(req.Method, req.Header)}
	req = req.WithContext(context.WithValue(req.Context(), exchangeKey{}, x))
	c.transientBudget.deposit()
	resp, err := c.rc.Do(req)
	if err != nil && resp != nil { // a policy refused to retry an answer
		return nil, x, fmt.Errorf("%w: %w", err, newStatusError(resp, &c.errs))
	}
	if err != nil {
		return nil, x, fmt.Errorf("occ: %s %s: %w", req.Method, redactURL(req.URL), err)
	}
	return resp, x, nil
}

// replayable reports whether a request may be sent again after a failure
// that leaves its fate unknown.
func replayable(method string, h http.Header) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
		return true
	}
	return h.Get("Idempotency-Key") != ""
}

// send makes one logical request of an operation: method on url with body
// and headers, through the transient layer, counted in s's stats.
func (c *Client) send(ctx context.Context, method, url string, body []byte, h http.Header, s *settings) (*http.Response, *exchange, error) {
	var raw any
	if body != nil {
		raw = body
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, method, url, raw)
	if err != nil {
		return nil, nil, fmt.Errorf("occ: building request: %w", err)
	}
	if body != nil {
		// Without GetBody, net/http cannot silently resend a write that
		// failed on a reused connection (it would, for a request carrying an
		// Idempotency-Key): every resend goes through the transient layer,
		// which knows the first try may have landed.
		req.GetBody = nil
	}
	for k, v := range s.header {
		req.Header[k] = v
	}
	for k, v := range h {
		req.Header[k] = v
	}
	if !s.opaque {
		req.Header.Set("Accept", "application/json")
	}
	resp, x, err := c.roundTrip(req)
	s.stats.add(func(st *Stats) { st.TransientRetries += x.retries })
	return resp, x, err
}

// newIdempotencyKey returns a fresh random Idempotency-Key.
func newIdempotencyKey() string { return rand.Text() }

// readDocument reads a document body through the client's size limit, in
// one allocation when the answer announced its length.
func (c *Client) readDocument(resp *http.Response) ([]byte, error) {
	body := resp.Body
	defer body.Close()
	if n := resp.ContentLength; n >= 0 && n <= c.maxBody {
		b := make([]byte, n)
		if _, err := io.ReadFull(body, b); err != nil {
			return nil, fmt.Errorf("occ: reading document: %w", err)
		}
		return b, nil
	}
	b, err := io.ReadAll(io.LimitReader(body, c.maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("occ: reading document: %w", err)
	}
	if int64(len(b)) > c.maxBody {
		_, _ = io.Copy(io.Discard, io.LimitReader(body, maxDrain))
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, c.maxBody)
	}
	return b, nil
}

// Errors about the documents and versions a server sends.
var (
	// ErrTooLarge is returned when a document exceeds the client's limit
	// (see [WithMaxBodySize]).
	ErrTooLarge = errors.New("occ: document too large")
	// ErrNoVersion is returned when the server sent no version a write could
	// be conditioned on: no strong ETag (nor a weak one with
	// [WithWeakETags]), no Last-Modified and no version field. occ never
	// writes unconditionally unless told to with [WithUnconditional].
	ErrNoVersion = errors.New("occ: the server gave no version to condition a write on")
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
