package occ

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// ProbeCheck is the outcome of one check of [Probe].
type ProbeCheck struct {
	Name   string // "version", "stale write refused" or "duplicate create refused"
	Passed bool
	Detail string // what the server did, in one sentence
	Err    error  // the server's refusal (a [*ConflictError]) or what failed; nil when it accepted
}

// ProbeReport is what [Probe] found at one URL.
type ProbeReport struct {
	URL      string
	Created  bool // the document was absent: Probe created a scratch document
	Deleted  bool // and deleted it afterwards
	Restored bool // the document is as Probe found it: put back, or the scratch document deleted
	Checks   []ProbeCheck
}

// Passed reports whether every check passed and the document was left as
// Probe found it ([ProbeReport.Restored]).
func (r ProbeReport) Passed() bool {
	for _, c := range r.Checks {
		if !c.Passed {
			return false
		}
	}
	return len(r.Checks) > 0 && r.Restored
}

// Probe checks, before anyone trusts a server with concurrent writers, that
// it keeps the preconditions occ sends: a version in a body or a query is a
// precondition only if the server checks it. With the call's options (a
// [Dialect], [WithVersionField], [WithCreateMethod], [WithHeader], ...),
// Probe reads the document at url, and checks that:
//
//   - "version": the read gives a version, and a real change of the
//     document changes it; a Last-Modified the answer's Date does not make
//     strong (RFC 9110 section 8.8.2.2: a server with a one-second clock)
//     fails, since a write in the same second cannot be told from a stale
//     one;
//   - "stale write refused": a write conditioned on the version before that
//     change is refused with a version conflict (a server that accepts it,
//     like nginx's WebDAV module, loses updates);
//   - "duplicate create refused": a create of the document that exists, the
//     way [Create] sends it, is refused as a duplicate: a PUT with
//     If-None-Match: *, or with [WithCreateMethod](http.MethodPost) a POST
//     to the collection, url's parent unless [WithCollection] names it (the
//     Kubernetes API answers the first by replacing the object, the second
//     with 409 AlreadyExists).
//
// The change is real, so that servers that keep a document parsed, or hash
// its content, see it: a JSON object gets a member "occProbe" (or, when it
// has a "metadata" object, as Kubernetes objects do, an annotation
// "occ-probe"), a vCard or iCalendar object a property X-OCC-PROBE, other
// bytes a line at their end. At the end Probe writes the document back as
// it read it (the bytes, for a document that is not JSON) and reads it
// again to check ([ProbeReport.Restored]); the stale write, if the server
// takes it, writes the document as read too, so that a server that keeps
// no precondition loses nothing either. A server that reads writes other
// than as occ sends them (etcd v2 without its [Dialect] reads form values)
// changes the document all the same, so probe a scratch URL when unsure.
//
// When url answers 404, Probe creates a scratch JSON document there first,
// by [Create]'s method (a POST to url's parent names the document after
// url's last segment at the WithNameField pointer, when the call has one,
// and is refused with a clear error when the answer does not say where the
// document is), and deletes it at the end, conditioned on its ETag when
// that is strong. A document that is not JSON is probed as bytes
// ([ModifyBytes]). Probe returns an error only when it cannot probe at all
// (the read fails, the scratch document cannot be created, the context
// ends); a server that fails a check gives a report whose
// [ProbeReport.Passed] is false.
func Probe(ctx context.Context, c *Client, url string, opts ...CallOption) (ProbeReport, error) {
	s, err := c.settingsFor("Probe", opts)
	if err != nil {
		return ProbeReport{}, err
	}
	if s.collection != "" && !sameOrigin(url, s.collection) {
		return ProbeReport{}, argError("Probe", "WithCollection names another origin than the URL's")
	}
	r := ProbeReport{URL: url}
	orig, err := c.probeRead(ctx, url, s, &r)
	if err != nil {
		return r, err
	}
	url, marker := orig.url, newProbeMarker()
	next, ok := c.probeVersion(ctx, orig, marker, s, &r)
	if ok {
		c.probeStale(ctx, orig, next, s, &r)
	}
	c.probeDuplicate(ctx, orig, s, &r)
	if r.Created {
		r.Deleted = c.probeDelete(ctx, url, s) == nil
		r.Restored = r.Deleted
	} else {
		r.Restored = c.probeRestore(ctx, orig, marker, s)
	}
	return r, ctx.Err()
}

// probeVersion checks that orig has a version and that a real change
// changes it; it returns the state after that change.
func (c *Client) probeVersion(ctx context.Context, orig *doc, marker string, s *settings, r *ProbeReport) (*doc, bool) {
	check := ProbeCheck{Name: "version"}
	defer func() { r.Checks = append(r.Checks, check) }()
	v0 := orig.version()
	if v0 == "" {
		check.Err = ErrNoVersion
		check.Detail = "the read gave no version: no ETag, Last-Modified or version field (see WithVersionField, WithDialect)"
		return nil, false
	}
	marked, err := probeChange(orig, marker)
	var out outcome
	if err == nil {
		out, err = c.write(ctx, orig, pending{body: marked, key: newIdempotencyKey()}, s)
	}
	var next *doc
	if err == nil && out.conflict == nil {
		next, err = c.read(ctx, orig.url, s) // the version as the server now reads it
	}
	switch {
	case err != nil:
		check.Err, check.Detail = err, "a write conditioned on the version just read failed"
	case out.conflict != nil:
		check.Err, check.Detail = out.conflict, "a write conditioned on the version just read was refused (another writer?)"
	case !probeHolds(next, marker):
		check.Detail = "the server did not keep the change Probe made (a member occProbe, or the annotation occ-probe): probe another document"
	case next.version() == v0:
		check.Detail = fmt.Sprintf("the version stayed %s after a write that changed the document: a stale write cannot be told from a fresh one", v0)
	default:
		if weak := c.probeWeakDate(ctx, next, s); weak != "" {
			check.Err, check.Detail = ErrNoVersion, weak
			return next, false
		}
		check.Passed = true
		check.Detail = fmt.Sprintf("version %s, then %s after a write", v0, next.version())
		return next, true
	}
	return next, false
}

// probeStale writes the document as read, conditioned on the version it
// had before the write that made next: the server must refuse it.
func (c *Client) probeStale(ctx context.Context, stale, next *doc, s *settings, r *ProbeReport) {
	check := ProbeCheck{Name: "stale write refused"}
	out, err := c.write(ctx, stale, pending{body: stale.raw, key: newIdempotencyKey()}, s)
	switch {
	case err != nil:
		check.Err, check.Detail = err, "the stale write failed, but not as a conflict"
	case out.conflict == nil:
		check.Detail = fmt.Sprintf("the server accepted a write conditioned on version %s after it had moved to %s: it ignores the precondition, and concurrent writers lose updates", stale.version(), next.version())
	case out.conflict.Kind != KindVersion:
		check.Err = out.conflict
		check.Detail = fmt.Sprintf("refused with %d, but read as kind %s, not version: occ will not retry it (see WithClassifier)", out.conflict.StatusCode, out.conflict.Kind)
	default:
		check.Passed, check.Err = true, out.conflict
		check.Detail = fmt.Sprintf("refused with %d, kind version", out.conflict.StatusCode)
	}
	r.Checks = append(r.Checks, check)
}

// probeDuplicate sends a create of the document that exists, as [Create]
// would: the server must refuse it as a duplicate.
func (c *Client) probeDuplicate(ctx context.Context, orig *doc, s *settings, r *ProbeReport) {
	check := ProbeCheck{Name: "duplicate create refused"}
	defer func() { r.Checks = append(r.Checks, check) }()
	target, err := createTarget(orig.url, s)
	if err != nil {
		check.Err, check.Detail = err, "no collection to POST to"
		return
	}
	cs := *s
	cs.adoptExisting, cs.createType = false, contentType(orig)
	d, err := c.create(ctx, target, withoutVersionField(orig, s), &cs)
	var ce *ConflictError
	switch {
	case err == nil:
		check.Detail = c.probeAccepted(ctx, orig.url, target, d, s)
	case !errors.As(err, &ce):
		check.Err, check.Detail = err, "the create failed, but not as a conflict"
	case ce.Kind != KindDuplicate:
		check.Err = ce
		check.Detail = fmt.Sprintf("refused with %d, but read as kind %s, not duplicate", ce.StatusCode, ce.Kind)
	default:
		check.Passed, check.Err = true, ce
		check.Detail = fmt.Sprintf("%s refused with %d, kind duplicate", cs.createMethod, ce.StatusCode)
	}
}

// probeAccepted says what a create of a document that exists did, and
// deletes the second document a POST made, when it can tell where it is.
func (c *Client) probeAccepted(ctx context.Context, url, collection string, d *doc, s *settings) string {
	if s.createMethod == http.MethodPut {
		return "the server accepted a PUT with If-None-Match: * of a document that exists: a Create would replace it"
	}
	if d == nil || d.url == collection || d.url == url || !sameOrigin(d.url, collection) {
		return "the server accepted a POST of a document that exists: a Create would make a second one"
	}
	if err := c.probeDelete(ctx, d.url, s); err != nil {
		return fmt.Sprintf("the server accepted a POST of a document that exists, making a second one at %s; deleting it failed: %v", d.url, err)
	}
	return fmt.Sprintf("the server accepted a POST of a document that exists, making a second one at %s (deleted)", d.url)
}

// probeDelete deletes a document Probe made, conditioned on its ETag when
// that is strong: a weak one never matches an If-Match compared strongly,
// as RFC 9110 asks of a DELETE, even on a server that compares weakly for
// a PUT.
func (c *Client) probeDelete(ctx context.Context, url string, s *settings) error {
	h := http.Header{}
	if cur, err := c.read(ctx, url, s); err == nil && cur.etag != "" && !isWeak(cur.etag) {
		h.Set("If-Match", cur.etag)
	}
	resp, _, err := c.send(ctx, http.MethodDelete, url, nil, h, s)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("occ: probe: DELETE answered %d", resp.StatusCode)
	}
	return nil
}
