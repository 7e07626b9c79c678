package occ

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/occ-go/occ/internal/jsonmerge"
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
	URL     string
	Created bool // the document was absent: Probe created a scratch document
	Deleted bool // and deleted it afterwards
	Checks  []ProbeCheck
}

// Passed reports whether every check passed.
func (r ProbeReport) Passed() bool {
	for _, c := range r.Checks {
		if !c.Passed {
			return false
		}
	}
	return len(r.Checks) > 0
}

// Probe checks, before anyone trusts a server with concurrent writers, that
// it keeps the preconditions occ sends: a version in a body or a query is a
// precondition only if the server checks it. With the call's options (a
// [Dialect], [WithVersionField], [WithHeader], ...), Probe reads the
// document at url, and checks that:
//
//   - "version": the read gives a version, and a write changes it;
//   - "stale write refused": a write conditioned on the version before that
//     write is refused with a version conflict (a server that accepts it,
//     like nginx's WebDAV module, loses updates);
//   - "duplicate create refused": a create-if-absent of the document that
//     exists is refused as a duplicate.
//
// Every write Probe makes writes the document as it was read, only the
// whitespace at its end toggled, so that even a server that keeps no
// precondition loses nothing, as long as it reads writes the way occ sends
// them: a server that does not (etcd v2 without its [Dialect] reads form
// values, and stores an empty value) changes the document all the same, so
// probe a scratch URL when unsure. When url answers 404, Probe creates a scratch
// JSON document there first, and deletes it at the end. A document that is
// not JSON is probed as bytes ([ModifyBytes]). It returns an error only when
// it cannot probe at all (the read fails, the scratch document cannot be
// created, the context ends); a server that fails a check gives a report
// whose [ProbeReport.Passed] is false.
func Probe(ctx context.Context, c *Client, url string, opts ...CallOption) (ProbeReport, error) {
	s, err := c.callSettings(opts)
	if err != nil {
		return ProbeReport{}, err
	}
	r := ProbeReport{URL: url}
	cur, err := c.probeRead(ctx, url, s, &r)
	if err != nil {
		return r, err
	}
	next, ok := c.probeVersion(ctx, cur, s, &r)
	if ok {
		c.probeStale(ctx, cur, next, s, &r)
	}
	c.probeDuplicate(ctx, url, s, &r)
	if r.Created {
		r.Deleted = c.probeDelete(ctx, url, s) == nil
	}
	return r, ctx.Err()
}

// probeRead reads the document to probe, creating a scratch one when it is
// absent, and taking it as bytes when it is not JSON.
func (c *Client) probeRead(ctx context.Context, url string, s *settings, r *ProbeReport) (*doc, error) {
	cur, err := c.read(ctx, url, s)
	var se *StatusError
	if errors.As(err, &se) && se.StatusCode == http.StatusNotFound {
		if _, err := c.create(ctx, url, []byte(`{"occProbe":"`+newIdempotencyKey()+`"}`), s); err != nil {
			return nil, fmt.Errorf("occ: probe: creating a scratch document: %w", err)
		}
		r.Created = true
		cur, err = c.read(ctx, url, s)
	}
	if errors.Is(err, ErrInvalidDocument) {
		s.opaque, s.versionField, s.versionIfMatch, s.writeMode = true, nil, false, WritePut
		cur, err = c.read(ctx, url, s)
	}
	return cur, err
}

// touched returns b with the whitespace at its end toggled: a different
// text of the same document.
func touched(b []byte) []byte {
	if t, ok := bytes.CutSuffix(b, []byte("\n")); ok {
		return t
	}
	return append(bytes.Clone(b), '\n')
}

// probeVersion checks that cur has a version and that a write changes it;
// it returns the state after that write.
func (c *Client) probeVersion(ctx context.Context, cur *doc, s *settings, r *ProbeReport) (*doc, bool) {
	check := ProbeCheck{Name: "version"}
	defer func() { r.Checks = append(r.Checks, check) }()
	v0 := cur.version()
	if v0 == "" {
		check.Err = ErrNoVersion
		check.Detail = "the read gave no version: no ETag, Last-Modified or version field (see WithVersionField, WithDialect)"
		return nil, false
	}
	out, err := c.write(ctx, cur, pending{body: touched(cur.raw), key: newIdempotencyKey()}, s)
	var next *doc
	if err == nil && out.conflict == nil {
		next, err = c.read(ctx, cur.url, s) // the version as the server now reads it
	}
	switch {
	case err != nil:
		check.Err, check.Detail = err, "a write conditioned on the version just read failed"
	case out.conflict != nil:
		check.Err, check.Detail = out.conflict, "a write conditioned on the version just read was refused (another writer?)"
	case next.version() == v0:
		check.Detail = fmt.Sprintf("the version stayed %q after a write that changed the text: a stale write cannot be told from a fresh one", v0)
	default:
		check.Passed = true
		check.Detail = fmt.Sprintf("version %q, then %q after a write", v0, next.version())
		return next, true
	}
	return nil, false
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
		check.Detail = fmt.Sprintf("the server accepted a write conditioned on version %q after it had moved to %q: it ignores the precondition, and concurrent writers lose updates", stale.version(), next.version())
	case out.conflict.Kind != KindVersion:
		check.Err = out.conflict
		check.Detail = fmt.Sprintf("refused with %d, but read as kind %s, not version: occ will not retry it (see WithClassifier)", out.conflict.StatusCode, out.conflict.Kind)
	default:
		check.Passed, check.Err = true, out.conflict
		check.Detail = fmt.Sprintf("refused with %d, kind version", out.conflict.StatusCode)
	}
	r.Checks = append(r.Checks, check)
}

// probeDuplicate sends a create-if-absent of the document that exists: the
// server must refuse it as a duplicate.
func (c *Client) probeDuplicate(ctx context.Context, url string, s *settings, r *ProbeReport) {
	check := ProbeCheck{Name: "duplicate create refused"}
	defer func() { r.Checks = append(r.Checks, check) }()
	cur, err := c.read(ctx, url, s)
	if err != nil {
		check.Err, check.Detail = err, "reading the document failed"
		return
	}
	cs := *s
	cs.createMethod, cs.adoptExisting, cs.createType = http.MethodPut, false, contentType(cur)
	_, err = c.create(ctx, url, withoutVersionField(cur, s), &cs)
	var ce *ConflictError
	switch {
	case err == nil:
		check.Detail = "the server accepted a create-if-absent of a document that exists: it would replace it"
	case !errors.As(err, &ce):
		check.Err, check.Detail = err, "the create failed, but not as a conflict"
	case ce.Kind != KindDuplicate:
		check.Err = ce
		check.Detail = fmt.Sprintf("refused with %d, but read as kind %s, not duplicate", ce.StatusCode, ce.Kind)
	default:
		check.Passed, check.Err = true, ce
		check.Detail = fmt.Sprintf("refused with %d, kind duplicate", ce.StatusCode)
	}
}

// probeDelete deletes the scratch document, conditioned on its ETag when
// it has one.
func (c *Client) probeDelete(ctx context.Context, url string, s *settings) error {
	h := http.Header{}
	if cur, err := c.read(ctx, url, s); err == nil && cur.etag != "" {
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

// withoutVersionField returns the document of cur without its version
// field, as a new document would come: a body version makes a write an
// update on servers such as CouchDB.
func withoutVersionField(cur *doc, s *settings) []byte {
	if !cur.hasField {
		return cur.raw
	}
	tree, err := decodeJSON(cur.raw) // a copy: applyChange changes it
	if err != nil {
		return cur.raw
	}
	b, err := json.Marshal(jsonmerge.Apply(tree, s.versionField, jsonmerge.Change{Remove: true}))
	if err != nil {
		return cur.raw
	}
	return b
}
