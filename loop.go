package occ

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/occ-go/occ/internal/jsonptr"
)

// doc is a document as the server holds it: its bytes, its decoded tree and
// its validators.
type doc struct {
	url          string
	raw          []byte
	parsed       any // raw decoded, once needed; see tree
	etag         string
	lastModified string
	useETag      bool // etag can condition a write: strong, or weak with WithWeakETags
	strongLM     bool // lastModified can condition a write (see strongLastModified)
	field        any  // the value of the version field, when configured
	hasField     bool // whether the version field is present
	ctype        string

	decoded        bool   // read through a Dialect's Decode, which gave dialectVersion
	dialectVersion string // the version Decode gave
	opaque         bool   // bytes, not necessarily JSON (ModifyBytes)
}

// newDoc builds a doc from a body and the headers that came with it. The
// body is validated now and decoded only when needed.
func newDoc(url string, h http.Header, body []byte, s *settings) (*doc, error) {
	if d, ok, err := specialDoc(url, h, body, s); ok {
		return d, err
	}
	if !json.Valid(body) {
		if _, err := decodeJSON(body); err != nil {
			return nil, err // says where
		}
		return nil, fmt.Errorf("%w: not a JSON text", ErrInvalidDocument)
	}
	d := headerDoc(url, h, body, s)
	if s.versionField != nil {
		d.field, d.hasField = jsonptr.Lookup(d.tree(), s.versionField)
	}
	return d, nil
}

// headerDoc builds a doc of raw with the validators of the answer headers
// h, judged by the call's settings s.
func headerDoc(url string, h http.Header, raw []byte, s *settings) *doc {
	d := &doc{url: url, raw: raw, etag: h.Get("ETag"), lastModified: h.Get("Last-Modified")}
	d.useETag = d.etag != "" && (!isWeak(d.etag) || s.weakETags)
	d.strongLM = d.lastModified != "" && (s.strongLM || strongLastModified(d.lastModified, h.Get("Date")))
	return d
}

// strongLastModified reports whether a Last-Modified date can serve as a
// strong validator by RFC 9110 section 8.8.2.2: the answer's Date is at
// least a second later, so the second it names was over when the
// representation was sent, and no later change within it is hidden.
func strongLastModified(lastModified, date string) bool {
	lm, err := http.ParseTime(lastModified)
	if err != nil {
		return false
	}
	at, err := http.ParseTime(date)
	return err == nil && !at.Before(lm.Add(time.Second))
}

// tree returns the decoded document. The body was validated by newDoc, so
// decoding cannot fail but for nesting deeper than encoding/json allows,
// which json.Valid rejects too.
func (d *doc) tree() any {
	if d.parsed == nil {
		d.parsed, _ = decodeJSON(d.raw)
	}
	return d.parsed
}

// isObject reports whether a valid JSON text is an object.
func isObject(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '{'
}

// version returns the version writes are conditioned on, or "" when there
// is none: a weak ETag (without [WithWeakETags]) and a weak Last-Modified
// are no version.
func (d *doc) version() string {
	switch {
	case d.decoded:
		return d.dialectVersion
	case d.hasField:
		return fieldString(d.field)
	case d.useETag:
		return d.etag
	case d.strongLM:
		return d.lastModified
	}
	return ""
}

// fieldString renders a version field: a string as is, anything else as
// JSON.
func fieldString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return string(mustRaw(v))
}

// isWeak reports whether an entity tag is weak (W/"...").
func isWeak(etag string) bool { return strings.HasPrefix(etag, "W/") }

// conditions returns the precondition headers of a write over d, or
// ErrNoVersion when d offers nothing to condition on.
func conditions(d *doc, s *settings) (http.Header, error) {
	if !conditionable(d, s) {
		return nil, noVersion(d)
	}
	if s.dialect != nil {
		return dialectConditions(d, s), nil
	}
	h := make(http.Header, 4) // room for what write adds
	switch {
	case d.useETag:
		h["If-Match"] = []string{d.etag}
	case d.strongLM:
		h["If-Unmodified-Since"] = []string{d.lastModified}
	}
	if d.hasField && s.versionIfMatch && h.Get("If-Match") == "" {
		h.Set("If-Match", entityTag(fieldString(d.field)))
	}
	return h, nil
}

// conditionable reports whether a write over d can be conditioned on its
// version, or may go unconditioned: whether conditions has headers to give.
func conditionable(d *doc, s *settings) bool {
	if s.dialect != nil {
		return d.version() != ""
	}
	return d.useETag || d.strongLM || d.hasField || s.unconditional
}

// noVersion is the [ErrNoVersion] of a write over d, saying which
// validator the server sent falls short, and what declares it usable.
func noVersion(d *doc) error {
	switch {
	case d.decoded:
	case d.lastModified != "":
		return fmt.Errorf("%w: Last-Modified %q is weak (the answer's Date is not a second later, RFC 9110 section 8.8.2.2): two writes in one second would look alike; see WithStrongLastModified", ErrNoVersion, d.lastModified)
	case d.etag != "":
		return fmt.Errorf("%w: the ETag %s is weak; see WithWeakETags", ErrNoVersion, d.etag)
	}
	return ErrNoVersion
}

// read fetches the document at url. A body cut short is read again, like
// any transient failure of a read.
func (c *Client) read(ctx context.Context, url string, s *settings) (*doc, error) {
	s.stats.add(func(st *Stats) { st.Reads++ })
	for retry := 1; ; retry++ {
		resp, _, err := c.send(ctx, http.MethodGet, url, nil, nil, s)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			return nil, c.answerError(ctx, s, resp)
		}
		body, err := c.readDocument(resp)
		if err == nil {
			return newDoc(url, resp.Header, body, s)
		}
		if errors.Is(err, ErrTooLarge) || !c.rereadAfter(ctx, retry, err, s) {
			return nil, err
		}
	}
}

// rereadAfter waits before the retry-th read again of a body cut short by
// err, within the transient retries and budget; it reports false when the
// read must not be retried.
func (c *Client) rereadAfter(ctx context.Context, retry int, err error, s *settings) bool {
	if retry > c.transientMax || ctx.Err() != nil || !c.transientBudget.withdraw() {
		return false
	}
	s.stats.add(func(st *Stats) { st.TransientRetries++ })
	d := c.transientBackoff.Backoff(retry)
	c.noteRetry(ctx, Retry{Reason: "transient", Resend: retry, Wait: d, Err: err})
	return sleep(ctx, d) == nil
}

// outcome is what one write came to, with what is known of its fate.
type outcome struct {
	doc      *doc           // the new state, on success
	conflict *ConflictError // the conflict, if the server refused
	applied  bool           // a send of the write may have been applied unseen
	took     time.Duration  // from sending the write to its answer
	answered bool           // a success, or a conflict that proves the fate of every send (see provesFate)
}

// write sends w over cur, conditioned on cur's version.
func (c *Client) write(ctx context.Context, cur *doc, w pending, s *settings) (outcome, error) {
	next := w.body
	h, err := conditions(cur, s)
	if err != nil {
		return outcome{}, err
	}
	method, body, ctype, err := encodeWrite(cur, next, s)
	if err != nil {
		return outcome{}, err
	}
	h["Content-Type"] = []string{ctype}
	req, err := shape(WriteRequest{Method: method, URL: cur.url, Header: h, Body: body, Version: cur.version()}, s)
	if err != nil {
		return outcome{}, err
	}
	req.Header["Idempotency-Key"] = []string{w.key}
	resp, out, err := c.sendWrite(ctx, req.Method, req.URL, req.Body, req.Header, s, false)
	if err != nil {
		out, err = c.failedVersionTest(ctx, cur, req, out, err, s) // a 422 to a stale test (Kubernetes)
	}
	if resp != nil {
		out.doc, err = c.written(ctx, cur.url, resp, next, s)
		if ce := (*ConflictError)(nil); errors.As(err, &ce) { // a Dialect read the answer as a refusal
			c.noteConflict(ctx, s, ce)
			out.doc, out.conflict, out.answered, err = nil, ce, provesFate(ce), nil
		}
	}
	return out, err
}

// sendWrite sends a write, a create when creating, and sorts its answer: a
// success (the response, its body unread), a conflict, or an error. A write
// never follows a redirect, so a success is the write's own 2xx.
func (c *Client) sendWrite(ctx context.Context, method, url string, body []byte, h http.Header, s *settings, creating bool) (*http.Response, outcome, error) {
	s.stats.add(func(st *Stats) { st.Attempts++ })
	start := time.Now()
	resp, x, err := c.send(ctx, method, url, body, h, s)
	out := outcome{applied: x.ambiguous, took: time.Since(start)}
	if err != nil {
		return nil, out, err
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		out.answered = true
		return resp, out, nil
	}
	if ce := parseConflict(resp, c.errs.answering(creating)); ce != nil {
		c.noteConflict(ctx, s, ce)
		out.conflict, out.answered = ce, provesFate(ce)
		return nil, out, nil
	}
	out.applied = out.applied || serverFailedAfter(resp.StatusCode)
	return nil, out, newStatusError(resp, &c.errs)
}

// serverFailedAfter reports whether an error answer to a write leaves open
// that the write was applied: a server error other than those that say the
// request was not processed (501 Not Implemented, 503 Service Unavailable,
// 505 HTTP Version Not Supported). A 502 or 504 is a gateway's, already
// counted by the transient layer.
func serverFailedAfter(code int) bool {
	switch code {
	case http.StatusNotImplemented, http.StatusServiceUnavailable, http.StatusHTTPVersionNotSupported:
		return false
	}
	return code >= 500
}

// withVersionField returns next (a document, or a merge patch) with the
// version field set back to cur's, so that a change function cannot forge
// the version and a patch stays conditional.
func withVersionField(next []byte, cur *doc, s *settings) ([]byte, error) {
	if !cur.hasField {
		return next, nil
	}
	tree, err := decodeJSON(next)
	if err != nil {
		return nil, err
	}
	return json.Marshal(setField(tree, s.versionField, cur.field))
}

// pinned returns the document next planned over cur with the version field
// set back to cur's, or nil when that leaves nothing to write: a change
// that only touched the version field changes nothing.
func pinned(next []byte, cur *doc, s *settings) ([]byte, error) {
	if !cur.hasField {
		return next, nil
	}
	tree, err := decodeJSON(next)
	if err != nil {
		return nil, err
	}
	tree = setField(tree, s.versionField, cur.field)
	if deepEqual(tree, cur.tree()) {
		return nil, nil
	}
	return json.Marshal(tree)
}

// encodeWrite renders the write of next over cur as the call's write mode
// asks: the method, the body and its content type. A merge patch that
// cannot express a null falls back to a guarded JSON Patch. A patch carries
// the version field, when there is one, so that it stays conditional.
func encodeWrite(cur *doc, next []byte, s *settings) (string, []byte, string, error) {
	switch s.writeMode {
	case WriteMergePatch:
		body, err := mergeMergePatch(cur.raw, next)
		if err == nil {
			body, err = withVersionField(body, cur, s) // a merge patch carries the version member too
		}
		if !errors.Is(err, errMergePatchNull) {
			return http.MethodPatch, body, "application/merge-patch+json", err
		}
		fallthrough
	case WriteJSONPatch:
		body, err := mergeJSONPatch(cur.raw, next)
		if err == nil && cur.hasField {
			body, err = withVersionTest(body, cur, s)
		}
		return http.MethodPatch, body, "application/json-patch+json", err
	}
	return http.MethodPut, next, contentType(cur), nil
}

// withVersionTest puts a test of the version field first in a JSON Patch.
func withVersionTest(patch []byte, cur *doc, s *settings) ([]byte, error) {
	var ops []patchOp
	if err := json.Unmarshal(patch, &ops); err != nil {
		return nil, err
	}
	test := patchOp{Op: "test", Path: jsonptr.Format(s.versionField), Value: mustRaw(cur.field)}
	return json.Marshal(append([]patchOp{test}, ops...))
}

// planner returns the document to write over cur, or nil when nothing needs
// writing. attempt is 1 for the first write.
type planner func(ctx context.Context, cur *doc, attempt int) ([]byte, error)

// run is the conflict loop: plan, write, classify, wait, refresh, until the
// write lands, nothing is left to write, or retrying cannot help.
func (c *Client) run(ctx context.Context, cur *doc, plan planner, s *settings) (*doc, error) {
	c.conflictBudget.deposit()
	var w pending
	var began time.Time // when the retry under way began, after its wait
	var last *ConflictError
	stalls := 0
	for attempt := 1; ; attempt++ {
		if w.body == nil {
			next, err := c.plan(ctx, plan, cur, attempt, s)
			if err != nil || next == nil {
				return cur, withLast(ctx, err, last)
			}
			w = pending{body: next, key: s.newKey()}
		}
		out, err := c.write(ctx, cur, w, s)
		if !began.IsZero() && err == nil {
			c.pace.observe(time.Since(began))
		}
		w.note(out, s)
		switch {
		case err != nil:
			return nil, w.fail(withLast(ctx, err, last), attempt, nil)
		case out.conflict == nil:
			return out.doc, nil
		case w.ambiguous && out.conflict.Kind == KindVersion:
			return c.settle(ctx, plan, cur, w, attempt, out.conflict, s)
		}
		last = out.conflict
		fresh, err := c.retry(ctx, cur, out, s, attempt, &stalls, &began)
		if err != nil {
			return nil, w.fail(withLast(ctx, err, last), attempt, nil)
		}
		if fresh != nil { // else busy: resend the same write, unchanged, with the same key
			cur, w = fresh, pending{}
		}
	}
}

// withLast returns err, the end of an operation, wrapping last, the last
// conflict it met, when the context ended it (in a read or a write between
// waits) and err does not carry a conflict already: the reason the
// operation was still retrying stays reachable with [errors.As].
func withLast(ctx context.Context, err error, last *ConflictError) error {
	var ce *ConflictError
	if err == nil || last == nil || ctx.Err() == nil || errors.As(err, &ce) {
		return err
	}
	return wrap(err, last)
}

// retry waits before the retry of a write that met a conflict, notes in
// began when the retry proper begins, and returns the state to plan the
// next write on: nil for a busy answer, whose write is resent unchanged. A
// conflict after which the version did not move is charged as a stall.
func (c *Client) retry(ctx context.Context, cur *doc, out outcome, s *settings, attempt int, stalls *int, began *time.Time) (*doc, error) {
	waited, err := c.mayRetry(ctx, s, attempt, stalls, out.conflict)
	*began = time.Now()
	if err != nil || out.conflict.Kind == KindBusy {
		return nil, err
	}
	fresh, err := c.refresh(ctx, cur, out.conflict, s, waited <= out.took)
	if err != nil {
		return nil, err
	}
	if !moved(cur, fresh) {
		if err := c.charge(stalls, out.conflict); err != nil {
			return nil, err
		}
	}
	return fresh, nil
}

// pending is a planned write: the document, the Idempotency-Key it carries
// on every send, and whether a send may have been applied unseen, with no
// answer since that proves otherwise.
type pending struct {
	body      []byte
	key       string
	ambiguous bool
}

// note records what a send of w came to. A send that may have been applied
// makes w ambiguous, until a server declared to honour Idempotency-Key
// answers the same key: its answer is the truth about every send of it.
func (w *pending) note(out outcome, s *settings) {
	w.ambiguous = (w.ambiguous || out.applied) && !(s.keysHonoured && out.answered)
}

// fail returns err, the end of an operation after attempts writes, wrapped
// in an [*AmbiguousError] when w may have been applied; fresh is the state
// read since, if any.
func (w *pending) fail(err error, attempts int, fresh *doc) error {
	if !w.ambiguous {
		return err
	}
	ae := &AmbiguousError{Key: w.key, Attempts: attempts, Err: err}
	if fresh != nil {
		ae.Version, ae.Current = fresh.version(), fresh.raw
	}
	return ae
}

// settle ends an operation whose write may have been applied unseen and
// then met a version conflict: value equality cannot tell this write's
// effect from another writer's, so occ re-plans on the fresh state. When the
// change has nothing left to write, the state the caller asked for holds
// and success is the truthful answer; otherwise occ cannot know whether its
// write landed, and returns an [*AmbiguousError] rather than risk applying
// the change twice.
func (c *Client) settle(ctx context.Context, plan planner, cur *doc, w pending, attempt int, ce *ConflictError, s *settings) (*doc, error) {
	ce.Attempts = attempt
	fresh, err := c.refresh(ctx, cur, ce, s, true)
	if err != nil {
		return nil, w.fail(err, attempt, nil)
	}
	fail := func(err error) error { return w.fail(err, attempt, fresh) }
	next, err := c.plan(withSettling(ctx, fail, ce), plan, fresh, attempt+1, s)
	switch {
	case err != nil:
		return nil, fail(err)
	case next == nil:
		return fresh, nil
	}
	return nil, w.fail(ce, attempt, fresh)
}

// plan runs the planner, unless ctx has ended, and pins the version field.
func (c *Client) plan(ctx context.Context, plan planner, cur *doc, attempt int, s *settings) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err // the caller left: no change, no write
	}
	next, err := plan(ctx, cur, attempt)
	if err != nil || next == nil {
		return nil, err
	}
	return pinned(next, cur, s)
}

// maxStalls bounds the retries of one operation that make no progress:
// busy answers, and version conflicts after which the resource's version
// had not moved (a server that refuses every write). Retries after which
// the version moved on are progress: a hot resource is not a failure.
const maxStalls = 10

// mayRetry decides whether a conflict may be retried and waits for it: it
// returns the wait it made when the loop should go round again, else the
// error that ends it, wrapping the conflict. A busy answer is a stall (see charge); a
// version conflict is charged later, only if the refresh shows no progress.
func (c *Client) mayRetry(ctx context.Context, s *settings, attempt int, stalls *int, ce *ConflictError) (time.Duration, error) {
	ce.Attempts = attempt
	switch {
	case !ce.Retryable():
		return 0, ce
	case s.maxAttempts > 0 && attempt >= s.maxAttempts:
		return 0, wrap(ErrAttemptsExhausted, ce)
	}
	if ce.Kind == KindBusy {
		if err := c.charge(stalls, ce); err != nil {
			return 0, err
		}
	}
	d, ok := c.conflictWait(s, attempt, ce)
	if !ok {
		return 0, wrap(fmt.Errorf("occ: server asked to wait %v, more than the %v allowed", d, c.maxRetryAfter), ce)
	}
	if deadline, has := ctx.Deadline(); has && time.Until(deadline) < d {
		return 0, fmt.Errorf("%w: waiting %v would outlast it: %w", context.DeadlineExceeded, d, ce)
	}
	c.noteRetry(ctx, Retry{Reason: reasonOf(ce), Attempt: attempt, Wait: d, Err: ce, Status: ce.StatusCode})
	if err := sleep(ctx, d); err != nil {
		return 0, wrap(err, ce)
	}
	return d, nil
}

// charge counts a retry that made no progress against the operation's
// stalls and the client's conflict budget.
func (c *Client) charge(stalls *int, ce *ConflictError) error {
	*stalls++
	switch {
	case *stalls > maxStalls:
		return wrap(fmt.Errorf("%w: %d retries without progress", ErrAttemptsExhausted, maxStalls), ce)
	case !c.conflictBudget.withdraw():
		return wrap(ErrBudgetExhausted, ce)
	}
	return nil
}

// moved reports whether another writer committed between cur and fresh, so
// that the conflict was progress: the version moved on and the document
// changed. A new version over the same bytes is no commit (tags that move
// on every read, per-backend tags behind a balancer, the same document
// under a new tag), and a server that refuses every write gives up as fast
// whatever its tags do. Comparing bytes costs no parse.
func moved(cur, fresh *doc) bool {
	v := fresh.version()
	return v != "" && v != cur.version() && !bytes.Equal(cur.raw, fresh.raw)
}

// refresh returns the server's current state after a version conflict: the
// representation the conflict carried, when it is unmistakably the document
// (see carriedDoc), it has a usable version and it is still fresh (carried:
// the wait since was no longer than the write's round trip, so that it is
// no staler than a read would be); else a fresh read. On a hot resource a
// carried document that waited out a backoff is stale, and writing on it
// only conflicts again.
func (c *Client) refresh(ctx context.Context, cur *doc, ce *ConflictError, s *settings, carried bool) (*doc, error) {
	if carried && carriedDoc(ce, cur.url) {
		d, err := newDoc(cur.url, ce.Header, ce.Current, s)
		if err == nil && d.version() != "" {
			return d, nil
		}
	}
	return c.read(ctx, cur.url, s)
}

// carriedDoc reports whether a conflict answer carried the document at url
// unmistakably: its Content-Location names the resource (RFC 9110 section
// 8.7), and Current is either the whole body, which no parser took for an
// error, or what a caller's [ConflictParser] said is the document. A member
// the built-in parser found by its name (current, current_state, ...) is a
// guess, never planned on: a document may have such members of its own.
func carriedDoc(ce *ConflictError, url string) bool {
	if len(ce.Current) == 0 || ce.BodyTruncated || !sameResource(ce.Header.Get("Content-Location"), url) {
		return false
	}
	return ce.currentKnown || bodyIsCurrent(ce)
}

// sameResource reports whether a Content-Location names the resource at
// target.
func sameResource(loc, target string) bool {
	if loc == "" {
		return false
	}
	t, err := url.Parse(target)
	if err != nil {
		return false
	}
	return resolveURL(target, loc) == t.String()
}
