package occ

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	neturl "net/url"
	"strings"

	"github.com/occ-go/occ/internal/jsonptr"

	"github.com/occ-go/occ/internal/jsonmerge"
)

// Get reads the document at url and its version.
//
// It returns a [*StatusError] for an answer other than 200, a
// [*ConflictError] for 409, 412 or 428, [ErrTooLarge] or
// [ErrInvalidDocument] for a body it cannot take, and the transport's error
// once transient retries are spent.
func Get[T any](ctx context.Context, c *Client, url string, opts ...CallOption) (Versioned[T], error) {
	return operation(ctx, c, "Get", url, opts, func(ctx context.Context, s *settings) (Versioned[T], error) {
		d, err := c.read(ctx, url, s)
		if err != nil {
			return Versioned[T]{}, err
		}
		return result[T](d, s)
	})
}

// GetJSON is [Get] for callers without a struct: Value is the raw document.
func GetJSON(ctx context.Context, c *Client, url string, opts ...CallOption) (Versioned[json.RawMessage], error) {
	return Get[json.RawMessage](ctx, c, url, opts...)
}

// result decodes d into a Versioned[T] and records the final version in the
// call's stats.
func result[T any](d *doc, s *settings) (Versioned[T], error) {
	v := Versioned[T]{Version: d.version(), ETag: d.etag, LastModified: d.lastModified, URL: d.url, Raw: d.raw}
	if err := json.Unmarshal(d.raw, &v.Value); err != nil {
		return Versioned[T]{}, fmt.Errorf("%w: decoding into %T: %w", ErrInvalidDocument, v.Value, err)
	}
	s.stats.add(func(st *Stats) { st.Version = v.Version })
	return v, nil
}

// Modify changes the document at url without losing anyone else's update.
// It reads the document, decodes it into a fresh T, calls change on it and
// writes the difference back onto the document as the server sent it,
// conditioned on the version read (If-Match, If-Unmodified-Since or a
// version field). When the server answers with a version conflict, Modify
// refreshes, calls change again on the new state, and resubmits, with
// backoff, while the resource makes progress (see [WithMaxAttempts]); a
// busy answer is resent unchanged after a wait. Calls of one client that
// change the same URL at once share writes (see [WithCoalescing]).
//
// Members of the document that T does not model survive untouched: only
// what change altered is written. A change that alters nothing writes
// nothing. change may be called several times, on different states, so it
// must not have side effects beyond v; an error it returns aborts Modify and
// is returned wrapped, reachable with [errors.Is].
//
// Modify returns the document as finally written: the write's answer when
// it is the document (it carries every member sent, whatever values the
// server gave the members it manages), else what was sent, with the new
// version the answer gives; when it gives none that a version field or a [Dialect] needs,
// Modify reads the document once more. Errors: a
// [*ConflictError] for a conflict no retry can fix (duplicate, state,
// unknown); [ErrAttemptsExhausted] or [ErrBudgetExhausted] wrapping the last
// conflict; [ErrNoVersion] when the server gives nothing to condition on;
// the context's error, wrapping the last conflict when it ends the
// operation mid-retry (reachable with [errors.As]); an
// [*AmbiguousError] ([ErrAmbiguous]) when a write may have landed unseen
// and occ cannot prove either way; [ErrInvalidArgument] for a nil client,
// context or change; and those of [Get].
func Modify[T any](ctx context.Context, c *Client, url string, change func(v *T) error, opts ...CallOption) (T, error) {
	var plan planner
	if change != nil {
		plan = typedPlan(change)
	}
	v, err := modify[T](ctx, c, "Modify", url, plan, opts)
	return v.Value, err
}

// ModifyJSON is [Modify] for callers without a struct: change receives the
// whole document as JSON and returns the document it wants written. It
// returns the document as finally written.
func ModifyJSON(ctx context.Context, c *Client, url string, change func(doc []byte) ([]byte, error), opts ...CallOption) ([]byte, error) {
	var plan planner
	if change != nil {
		plan = rawPlan(change)
	}
	v, err := modify[json.RawMessage](ctx, c, "ModifyJSON", url, plan, opts)
	return v.Raw, err
}

// modify runs [Modify] and [ModifyJSON]; a nil plan is a nil change
// function.
func modify[T any](ctx context.Context, c *Client, name, url string, plan planner, opts []CallOption) (Versioned[T], error) {
	return operation(ctx, c, name, url, opts, func(ctx context.Context, s *settings) (Versioned[T], error) {
		if plan == nil {
			return Versioned[T]{}, argError(name, "nil change function")
		}
		d, err := c.change(ctx, url, plan, s)
		if err != nil {
			return Versioned[T]{}, err
		}
		return result[T](d, s)
	})
}

// change reads the document at url and runs the conflict loop with plan,
// as part of a batch when the call may be coalesced (see [WithCoalescing]).
func (c *Client) change(ctx context.Context, url string, plan planner, s *settings) (*doc, error) {
	if s.coalesce && !s.tailored {
		if d, err, solo := c.coalesced(ctx, url, plan, s); !solo {
			return d, err
		}
	}
	cur, err := c.read(ctx, url, s)
	if err != nil {
		return nil, err
	}
	return c.run(ctx, cur, plan, s)
}

// ErrChangeAborted wraps the error a change function returned.
var ErrChangeAborted = errors.New("occ: change aborted")

// rebase applies the caller's change (base to mine, in T's view of the
// document) onto the document as the server sent it (theirs): members the
// change did not touch keep theirs' bytes, so members T does not model,
// nulls and number precision survive, inside the arrays the change touched
// too (elements aligned as [jsonmerge.Rebase] says); where the two differ,
// the change wins.
var rebase Merger = MergeFunc(func(ctx context.Context, base, mine, theirs []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out, err := jsonmerge.Rebase(base, mine, theirs)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidMergeInput, err)
	}
	return out, nil
})

// typedPlan plans a write by decoding the document into a fresh T, calling
// change, and rebasing the difference between the two encodings onto the
// document.
func typedPlan[T any](change func(*T) error) planner {
	return func(ctx context.Context, cur *doc, _ int) ([]byte, error) {
		var v T
		if err := json.Unmarshal(cur.raw, &v); err != nil {
			return nil, fmt.Errorf("%w: decoding into %T: %w", ErrInvalidDocument, v, err)
		}
		before, err := encode(&v)
		if err != nil {
			return nil, err
		}
		if err := change(&v); err != nil {
			return nil, wrap(ErrChangeAborted, err)
		}
		after, err := encode(&v)
		if err != nil || bytes.Equal(before, after) {
			return nil, err
		}
		// T's view changed, so the document does: no need to compare.
		if bytes.Equal(before, cur.raw) {
			// T models the document exactly: the rebase would give after.
			return after, nil
		}
		return rebase.Merge(ctx, before, after, cur.raw)
	}
}

// encode encodes v.
func encode[T any](v *T) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("occ: encoding %T: %w", *v, err)
	}
	return b, nil
}

// changedOrNil returns next, or nil when it says the same as cur.
func changedOrNil(next, cur []byte) []byte {
	if sameDocument(next, cur) {
		return nil
	}
	return next
}

// rawPlan plans a write from a change function over raw JSON.
func rawPlan(change func([]byte) ([]byte, error)) planner {
	return func(_ context.Context, cur *doc, _ int) ([]byte, error) {
		out, err := change(bytes.Clone(cur.raw))
		if err != nil {
			return nil, wrap(ErrChangeAborted, err)
		}
		if !json.Valid(out) {
			_, err := decodeJSON(out)
			return nil, err
		}
		return changedOrNil(out, cur.raw), nil
	}
}

// Put writes desired over the document at url, conditioned on base, the
// version desired was derived from: a form a person filled in against the
// version they saw. Members of base.Raw that T does not model survive.
//
// When the server holds a newer version, Put fetches it (theirs) and asks
// the call's [Merger] for the document to resubmit given base, mine and
// theirs, then loops like [Modify]. The default merger is [ThreeWay], which
// keeps every non-overlapping edit and returns a [*MergeConflictError] for
// true conflicts; [LastWriteWins] overwrites theirs. The first write is
// conditioned on the version base carries, as [Get] set it: with a
// [Dialect]'s Decode, base.Version; else base.ETag (a weak one only with
// [WithWeakETags]), base.LastModified when it is strong (base.Version equal
// to it, or [WithStrongLastModified]), or the version field in base.Raw. A
// base with nothing to condition on (say, built by hand) is merged with a
// fresh read before the first write. Put returns what the server holds
// (see [Modify]). Errors are those of [Modify], and the merger's.
func Put[T any](ctx context.Context, c *Client, url string, base Versioned[T], desired T, opts ...CallOption) (Versioned[T], error) {
	return operation(ctx, c, "Put", url, opts, func(ctx context.Context, s *settings) (Versioned[T], error) {
		return put(ctx, c, url, base, desired, s)
	})
}

// put runs [Put] with the call's settings.
func put[T any](ctx context.Context, c *Client, url string, base Versioned[T], desired T, s *settings) (Versioned[T], error) {
	b, mine, err := putDocs(ctx, url, base, desired, s)
	if err != nil {
		return Versioned[T]{}, err
	}
	cur := b
	if _, err := conditions(b, s); err != nil { // nothing to condition on: merge onto a fresh read
		if cur, err = c.read(ctx, url, s); err != nil {
			return Versioned[T]{}, err
		}
	}
	d, err := c.run(ctx, cur, mergePlan(b, mine, s.merger), s)
	if err != nil {
		return Versioned[T]{}, err
	}
	return result[T](d, s)
}

// PutJSON is [Put] for callers without a struct.
func PutJSON(ctx context.Context, c *Client, url string, base Versioned[json.RawMessage], desired json.RawMessage, opts ...CallOption) (Versioned[json.RawMessage], error) {
	return Put(ctx, c, url, base, desired, opts...)
}

// putDocs returns the base document and mine: desired's difference from
// base.Value rebased onto base.Raw, so that members T does not model
// survive.
func putDocs[T any](ctx context.Context, url string, base Versioned[T], desired T, s *settings) (*doc, []byte, error) {
	raw := []byte(base.Raw)
	if raw == nil {
		var err error
		if raw, err = encode(&base.Value); err != nil {
			return nil, nil, err
		}
	}
	h := http.Header{}
	h.Set("ETag", base.ETag)
	h.Set("Last-Modified", base.LastModified)
	b, err := baseDoc(url, h, base.Version, raw, s)
	if err != nil {
		return nil, nil, err
	}
	// A Version equal to LastModified is a strong one, as its read judged it.
	b.strongLM = b.strongLM || (b.lastModified != "" && base.Version == b.lastModified)
	before, err := encode(&base.Value)
	if err != nil {
		return nil, nil, err
	}
	after, err := encode(&desired)
	if err != nil || bytes.Equal(before, after) {
		return b, b.raw, err
	}
	mine, err := rebase.Merge(ctx, before, after, b.raw)
	return b, mine, err
}

// mergePlan plans Put's writes: mine over base first, then the merger's
// answer over each fresher state.
func mergePlan(base *doc, mine []byte, m Merger) planner {
	return func(ctx context.Context, cur *doc, _ int) ([]byte, error) {
		if cur == base {
			return changedOrNil(mine, cur.raw), nil
		}
		merged, err := m.Merge(ctx, base.raw, mine, cur.raw)
		if err != nil {
			return nil, err
		}
		if !json.Valid(merged) {
			return nil, fmt.Errorf("%w: the merger returned invalid JSON", ErrInvalidDocument)
		}
		return changedOrNil(merged, cur.raw), nil
	}
}

// Create makes a new document at url from v, once. By default it sends a
// PUT with If-None-Match: *, so that it never replaces an existing document
// (create-if-absent). With [WithCreateMethod](http.MethodPost) it POSTs to a
// collection instead, with an Idempotency-Key ([WithIdempotencyKey], or a
// random one) that stays the same on every retry of the call, so that a
// retried create never creates twice.
//
// A document that already exists comes back as a [*ConflictError] of
// [KindDuplicate], or, with [WithAdoptExisting], is read and returned
// instead. A busy answer (for example the same Idempotency-Key still being
// processed) is resent unchanged after a wait. The result's URL is the
// answer's Location when it gave one, else for a POST with [WithNameField]
// the collection's URL and the document's name. occ follows a Location only
// on url's origin (scheme, host and port): one elsewhere is never read, and
// ends the call in an [*OriginError] ([ErrOtherOrigin]), Landed for a 2xx
// answer.
// A create PUT that a [Dialect]'s Encode leaves with no precondition is an
// [ErrInvalidArgument] (see [Dialect]).
func Create[T any](ctx context.Context, c *Client, url string, v T, opts ...CallOption) (Versioned[T], error) {
	return operation(ctx, c, "Create", url, opts, func(ctx context.Context, s *settings) (Versioned[T], error) {
		body, err := json.Marshal(v)
		if err != nil {
			return Versioned[T]{}, fmt.Errorf("occ: encoding %T: %w", v, err)
		}
		d, err := c.create(ctx, url, body, s)
		if err != nil {
			return Versioned[T]{}, err
		}
		return result[T](d, s)
	})
}

// createHeaders returns the headers of a create: If-None-Match for a PUT,
// and an Idempotency-Key for every create, kept across every resend.
func createHeaders(s *settings) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	if s.createMethod == http.MethodPut {
		h.Set("If-None-Match", "*")
	}
	key := s.idempotencyKey
	if key == "" {
		key = newIdempotencyKey()
	}
	h.Set("Idempotency-Key", key)
	return h
}

// create sends a create until it lands, waiting out busy answers. A create
// whose send may have been applied unseen is resent only when that is safe
// (a PUT with If-None-Match, or a key the server honours), and ends in an
// [*AmbiguousError] when occ cannot prove what happened.
func (c *Client) create(ctx context.Context, url string, body []byte, s *settings) (*doc, error) {
	req, err := createRequest(url, body, s)
	if err != nil {
		return nil, err
	}
	w := pending{body: body, key: req.Header.Get("Idempotency-Key")}
	c.conflictBudget.deposit()
	stalls := 0
	for attempt := 1; ; attempt++ {
		resp, out, err := c.sendWrite(ctx, req.Method, req.URL, req.Body, req.Header.Clone(), s, true)
		w.note(out, s)
		switch {
		case err != nil:
			return nil, w.fail(err, attempt, nil)
		case resp != nil:
			return c.created(ctx, url, resp, body, s)
		}
		ce := out.conflict
		ce.Attempts = attempt
		if ce.Kind == KindDuplicate && (s.adoptExisting || w.ambiguous) {
			return c.adopt(ctx, url, w, ce, s)
		}
		if ce.Kind != KindBusy {
			return nil, w.fail(ce, attempt, nil)
		}
		if _, err := c.mayRetry(ctx, s, attempt, &stalls, ce); err != nil {
			return nil, w.fail(err, attempt, nil)
		}
	}
}

// created builds the state after a create: the answer's document, or the
// one sent, at the answer's Location when it names a resource of the
// collection's origin, else, for a POST with [WithNameField], at the
// collection's URL and the created document's name.
func (c *Client) created(ctx context.Context, url string, resp *http.Response, sent []byte, s *settings) (*doc, error) {
	found := s.createMethod == http.MethodPut
	if loc, err := resp.Location(); err == nil {
		if !sameOrigin(url, loc.String()) {
			return nil, c.refuseLocation(resp, url, loc.String())
		}
		url, found = loc.String(), true
	}
	body := c.answerBody(resp)
	if !found && s.nameField != nil {
		if name := nameOf(body, s.nameField, nameOf(sent, s.nameField, "")); name != "" {
			url, found = memberURL(url, name), true
		}
	}
	d, err := c.writtenAt(ctx, url, found, resp, body, sent, s)
	if ce := (*ConflictError)(nil); errors.As(err, &ce) {
		createConflict(ce, s)
	}
	return d, err
}

// adopt reads the document a duplicate create ran into (see existingURL).
// With [WithAdoptExisting] it returns that document. Otherwise it is called
// only when a send of the create may have been applied unseen: when the
// document is provably the create's own (see ownCreate), the create's
// outcome stands; else occ cannot tell its own create from another's, and
// says so.
func (c *Client) adopt(ctx context.Context, url string, w pending, ce *ConflictError, s *settings) (*doc, error) {
	if loc := ce.Header.Get("Location"); loc != "" && !sameOrigin(url, loc) {
		return nil, w.fail(c.errs.otherOrigin(url, loc, false, ce), ce.Attempts, nil)
	}
	url, why := existingURL(url, w.body, ce, s)
	if why != "" {
		return nil, w.fail(cannotAdopt(why, ce, s), ce.Attempts, nil)
	}
	d, err := c.read(ctx, url, s)
	var se *StatusError
	if errors.As(err, &se) && se.StatusCode == http.StatusNotFound {
		// Nothing there: the duplicate is of another resource (a unique member).
		return nil, w.fail(cannotAdopt("nothing at "+redactURLText(url)+": the answer is about another resource", ce, s), ce.Attempts, nil)
	}
	if err != nil {
		return nil, w.fail(err, ce.Attempts, nil)
	}
	if s.adoptExisting {
		s.stats.add(func(st *Stats) { st.Adopted = true })
		return d, nil
	}
	if ownCreate(w, d) {
		return d, nil
	}
	return nil, w.fail(ce, ce.Attempts, d)
}

// cannotAdopt is the error of a duplicate create that [WithAdoptExisting]
// could not adopt: the duplicate, with why; without the option, the bare
// duplicate.
func cannotAdopt(why string, ce *ConflictError, s *settings) error {
	if !s.adoptExisting {
		return ce
	}
	return fmt.Errorf("occ: WithAdoptExisting: %s: %w", why, ce)
}

// existingURL returns the URL of the document a duplicate create of sent at
// url ran into, or why it cannot tell: the conflict's Location; for a PUT
// create, url itself; for a POST to a collection, a link in the answer's
// body (an "existing" or "location" member, as occtest's), else, with
// [WithNameField], the collection's URL and the name of the document sent
// or the one the answer gives (Kubernetes details.name). A URL of another
// origin is never read.
func existingURL(url string, sent []byte, ce *ConflictError, s *settings) (string, string) {
	found := ""
	if loc := ce.Header.Get("Location"); loc != "" {
		found = resolveURL(url, loc)
	} else if s.createMethod == http.MethodPut {
		return url, ""
	}
	body := decodeObject(bytes.TrimSpace(ce.Body))
	if link := body.str("existing", "location"); found == "" && link != "" {
		found = resolveURL(url, link)
	}
	if name := nameOf(sent, s.nameField, body.obj("details").str("name")); found == "" && s.nameField != nil && name != "" {
		found = memberURL(url, name)
	}
	switch {
	case found == "":
		return "", "the answer names no existing resource (no Location, no link in its body; WithNameField names it from the document)"
	case !sameOrigin(url, found):
		return "", "the existing resource is on another origin"
	}
	return found, ""
}

// nameOf returns the string at pointer in the JSON document doc, else def.
func nameOf(doc []byte, pointer []string, def string) string {
	if pointer == nil || len(doc) == 0 || !isObject(doc) {
		return def
	}
	tree, err := decodeJSON(doc)
	if err != nil {
		return def
	}
	if v, ok := jsonptr.Lookup(tree, pointer); ok {
		if name, isStr := v.(string); isStr && name != "" {
			return name
		}
	}
	return def
}

// memberURL returns the URL of the member name of the collection at
// collection.
func memberURL(collection, name string) string {
	u, err := neturl.Parse(collection)
	if err != nil {
		return strings.TrimSuffix(collection, "/") + "/" + neturl.PathEscape(name)
	}
	u.RawQuery, u.Fragment = "", ""
	return strings.TrimSuffix(u.String(), "/") + "/" + neturl.PathEscape(name)
}

// ownCreate reports whether the document d, found where a create w may
// have landed unseen, is provably w's own: it carries w's Idempotency-Key,
// which the caller put in the document it sent (see [WithIdempotencyKey]),
// as a string member. Holding what was sent proves nothing: another
// client's create may hold it too ({} is held by every document).
func ownCreate(w pending, d *doc) bool {
	marker, err := json.Marshal(w.key)
	return err == nil && bytes.Contains(w.body, marker) && bytes.Contains(d.raw, marker)
}
