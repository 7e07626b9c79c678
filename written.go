package occ

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/occ-go/occ/internal/jsonmerge"
	"github.com/occ-go/occ/internal/jsonptr"
)

// written builds the state after a successful write. The answer's body is
// that state when it is the document (see answerIsDocument); otherwise the
// state is what was sent, with the answer's validators, the new value of
// the version field when the answer gives it, or the version a Dialect's
// Decode finds in the answer. When that leaves the new version unknown (a
// version field, or a Dialect's Decode, and an answer that does not tell
// it), written reads the document once more, so that the result never
// carries a version the server has moved past. A failure to read the
// answer or the document again is not an error: the write landed. The
// error is a [*ConflictError] when a Dialect's Decode says the answer is a
// refusal.
func (c *Client) written(ctx context.Context, url string, resp *http.Response, next []byte, s *settings) (*doc, error) {
	return c.writtenAt(ctx, url, true, resp, c.answerBody(resp), next, s)
}

// answerBody reads the body of a write's answer; nil when it cannot.
func (c *Client) answerBody(resp *http.Response) []byte {
	body, err := c.readDocument(resp)
	if err != nil {
		return nil
	}
	return body
}

// writtenAt is written with the answer's body already read; it reads the
// document again only when reread is true (not after a POST to a collection
// that named no new document).
func (c *Client) writtenAt(ctx context.Context, url string, reread bool, resp *http.Response, body, next []byte, s *settings) (*doc, error) {
	d, known, err := afterWrite(url, resp.Header, body, next, s)
	if err != nil {
		return nil, refusal(err, resp, body)
	}
	if known || !reread {
		return d, nil
	}
	if fresh, err := c.read(ctx, url, s); err == nil {
		return fresh, nil
	}
	return d, nil
}

// refusal completes the [*ConflictError] a Dialect's Decode made of a 2xx
// answer with what the answer says.
func refusal(err error, resp *http.Response, body []byte) error {
	var ce *ConflictError
	errors.As(err, &ce)
	if ce.StatusCode == 0 {
		ce.StatusCode = resp.StatusCode
	}
	if ce.Method == "" && resp.Request != nil {
		ce.Method, ce.URL = resp.Request.Method, redactURL(resp.Request.URL)
	}
	if ce.Body == nil {
		ce.Body = body
	}
	sanitize(ce)
	scrubSecrets(ce, resp.Request, nil)
	return ce
}

// afterWrite returns the state after a write of next answered with h and
// body, and whether its version is known. Its error is a [*ConflictError]
// when a Dialect's Decode returned one: the answer is a refusal.
func afterWrite(url string, h http.Header, body, next []byte, s *settings) (*doc, bool, error) {
	if s.dialect != nil && s.dialect.Decode != nil {
		raw, version, err := s.dialect.Decode(h, body)
		var ce *ConflictError
		if errors.As(err, &ce) {
			return nil, false, err
		}
		if err != nil {
			raw, version = nil, ""
		}
		if s.opaque || len(raw) == 0 || !answerIsDocument(url, h, raw, next, s) {
			raw = next
		}
		d := headerDoc(url, h, raw, s)
		d.decoded, d.dialectVersion, d.opaque = true, version, s.opaque
		return d, version != "", nil
	}
	if s.opaque {
		d := headerDoc(url, h, next, s)
		d.opaque = true
		return d, true, nil
	}
	if answerIsDocument(url, h, body, next, s) {
		if d, err := newDoc(url, h, body, s); err == nil {
			return d, true, nil
		}
	}
	d, err := newDoc(url, h, next, s)
	if err != nil { // next was planned as valid JSON; keep it as sent
		return &doc{url: url, raw: next}, true, nil
	}
	if s.versionField == nil {
		return d, true, nil
	}
	d, known := withAnswerVersion(d, body, s)
	return d, known, nil
}

// answerIsDocument reports whether the body of a 2xx answer to the write of
// sent is the document as the server now holds it: a JSON text that its
// Content-Location says is the resource (RFC 9110 section 8.7), or an
// object that carries every member sent, whatever their values (the server
// may manage some: a version, updated_at, an address it normalises), and
// perhaps members the server added. A receipt such as CouchDB's
// {"ok":true,"id":"x","rev":"2-b"} lacks the members written, and is not
// the document. A document with no members is recognised only by an equal
// answer.
func answerIsDocument(url string, h http.Header, body, sent []byte, s *settings) bool {
	if bytes.Equal(body, sent) {
		return true
	}
	if len(body) == 0 || !json.Valid(body) {
		return false
	}
	if sameResource(h.Get("Content-Location"), url) {
		return true
	}
	if names := decodeObject(bytes.TrimSpace(sent)); len(names) > 0 {
		return carriesMembers(decodeObject(bytes.TrimSpace(body)), names)
	}
	return jsonmerge.Holds(body, sent, s.versionField)
}

// carriesMembers reports whether answer has every member of sent.
func carriesMembers(answer, sent object) bool {
	if answer == nil {
		return false
	}
	for k := range sent {
		if _, ok := answer[k]; !ok {
			return false
		}
	}
	return true
}

// withAnswerVersion sets d's version field to the value the write's answer
// gives at the same pointer, and reports whether it could.
func withAnswerVersion(d *doc, body []byte, s *settings) (*doc, bool) {
	if len(body) == 0 || !isObject(body) {
		return d, false
	}
	a, err := decodeJSON(body)
	if err != nil {
		return d, false
	}
	v, ok := jsonptr.Lookup(a, s.versionField)
	if !ok {
		return d, false
	}
	raw, err := json.Marshal(setField(d.tree(), s.versionField, v))
	if err != nil {
		return d, false
	}
	d.raw, d.parsed, d.field, d.hasField = raw, nil, v, true
	return d, true
}

// contentType is the Content-Type of a whole-document write over cur: the
// read's for a document taken as bytes, else JSON's.
func contentType(cur *doc) string {
	switch {
	case !cur.opaque:
		return "application/json"
	case cur.ctype != "":
		return cur.ctype
	}
	return "application/octet-stream"
}

// baseDoc builds the doc a [Put] starts from: base's document and
// validators, or, with a Dialect's Decode, its version.
func baseDoc(url string, h http.Header, version string, raw []byte, s *settings) (*doc, error) {
	if s.dialect == nil || s.dialect.Decode == nil {
		return newDoc(url, h, raw, s)
	}
	if !json.Valid(raw) {
		_, err := decodeJSON(raw)
		return nil, fmt.Errorf("%w: %w", ErrInvalidDocument, err)
	}
	return &doc{url: url, raw: raw, etag: h.Get("ETag"), lastModified: h.Get("Last-Modified"),
		decoded: true, dialectVersion: version}, nil
}
