package occ

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"

	"github.com/occ-go/occ/internal/jsonptr"
)

// Dialect says how a server that does not keep a plain JSON document behind
// an ETag holds its documents and versions: where the version is read from,
// and how a write carries it. Set it with [WithDialect]. Each function may
// be nil, and then occ does what it does without a Dialect. A Dialect is a
// value; its functions must be safe for concurrent use.
//
// A version is an opaque string: a number, a hash, an entity tag, or several
// values packed together (for instance as a query string). Its only use is
// to be handed back to Encode.
type Dialect struct {
	// Decode turns an answer that carries the document (a read, a write's
	// answer, the current representation a conflict answer carried) into
	// the document and its version, from the answer's headers and body.
	// An empty version means the answer tells none: a read without one
	// cannot be written ([ErrNoVersion]); after a write, occ reads the
	// document again to learn it. An error makes a read fail with
	// [ErrInvalidDocument]. For a 2xx answer to a write that is in fact a
	// refusal (Consul answers a failed check-and-set with 200 false), Decode
	// returns a new [*ConflictError] of the kind it is ([KindVersion] to
	// refresh and retry); occ fills in its status, method, URL and body and
	// handles it as a 409. When nil, the body is the document and the
	// version is the ETag, Last-Modified or version field, as without a
	// Dialect.
	Decode func(h http.Header, body []byte) (doc []byte, version string, err error)

	// Encode shapes a write. occ fills w with what it would send without
	// Encode (the method and body of the call's [WriteMode], the document's
	// URL, Content-Type) and w.Version, the version the write is
	// conditioned on, or "" for a create-if-absent ([Create]); Encode
	// changes w as the server wants it and must make the write conditional
	// on w.Version, since occ then adds no precondition header of its own.
	// A create PUT must come out create-only: with If-None-Match: * (set it
	// also for a server, such as CouchDB, whose PUT without a revision only
	// ever creates), or a create value in the URL or body (VersionQuery's
	// create argument). A create PUT that Encode left with the URL, body
	// and headers occ gave it carries no precondition, and [Create] refuses
	// it with [ErrInvalidArgument] before sending, unless the call has
	// [WithUnconditional]. A POST create needs none: it cannot replace.
	// occ then adds the Idempotency-Key and the call's headers ([WithHeader]),
	// and classifies the answer as always. An error aborts the call before
	// the write is sent. w.URL must stay on the origin (scheme, host and
	// port) of the call's URL: a write elsewhere is refused with an
	// [*OriginError]. When nil, occ conditions the write itself: If-Match
	// carries the version (quoted unless it is already an entity tag), and a
	// create carries If-None-Match: *.
	Encode func(w *WriteRequest) error
}

// WriteRequest is a write as a [Dialect]'s Encode shapes it.
type WriteRequest struct {
	Method  string      // PUT, or PATCH in a patch [WriteMode], or the create method
	URL     string      // the document's URL
	Header  http.Header // Content-Type; precondition headers are Encode's to add
	Body    []byte      // the document, or the patch, to send
	Version string      // the version to condition on; "" for a create-if-absent
}

// SetQuery sets the query parameter key of w.URL to value, replacing any
// value it had; the other parameters stay as they were, byte for byte and
// in order, and key=value comes last. It returns an error when w.URL does
// not parse.
func (w *WriteRequest) SetQuery(key, value string) error {
	u, err := url.Parse(w.URL)
	if err != nil {
		return fmt.Errorf("occ: write URL: %w", err)
	}
	var kept []string
	for _, pair := range strings.Split(u.RawQuery, "&") {
		name, _, _ := strings.Cut(pair, "=")
		if unescaped, err := url.QueryUnescape(name); pair == "" || (err == nil && unescaped == key) || name == key {
			continue
		}
		kept = append(kept, pair)
	}
	u.RawQuery = strings.Join(append(kept, url.QueryEscape(key)+"="+url.QueryEscape(value)), "&")
	w.URL = u.String()
	return nil
}

// WithDialect makes calls read and write documents as d says (see
// [Dialect]). The default is no Dialect: JSON documents, versions in the
// ETag, Last-Modified or the version field, preconditions in headers. A
// Dialect with neither function set is an error.
//
// With a Decode, [WithVersionField] is not used: Decode says the version.
// [Put], [Modify] and the merges work on the decoded document, which must be
// JSON for them ([ModifyBytes] takes any bytes). The [WriteMode] still
// shapes the body Encode receives; an Encode that wraps or re-encodes the
// document (an envelope, form values) needs [WritePut], the default.
func WithDialect(d Dialect) SharedOption {
	return sharedOption(func(s *settings) error {
		if d.Decode == nil && d.Encode == nil {
			return argError("WithDialect", "neither Decode nor Encode set")
		}
		if err := checkDecode(d.Decode); err != nil {
			return argCause("WithDialect", err)
		}
		s.dialect = &d
		return nil
	})
}

// VersionHeader returns a [Dialect] Decode that takes the body as the
// document and the version from the response header name, such as
// "X-Goog-Generation". An answer without the header has no version.
func VersionHeader(name string) func(h http.Header, body []byte) ([]byte, string, error) {
	return func(h http.Header, body []byte) ([]byte, string, error) {
		return body, h.Get(name), nil
	}
}

// VersionQuery returns a [Dialect] Encode that carries the version in the
// query parameter param of the write's URL, as etcd's prevIndex, Google
// Cloud Storage's ifGenerationMatch, CouchDB's rev or Consul's cas. A
// create-if-absent sets param to create ("0" for ifGenerationMatch and
// cas), or leaves the URL alone when create is "".
func VersionQuery(param, create string) func(w *WriteRequest) error {
	return func(w *WriteRequest) error {
		switch {
		case w.Version != "":
			return w.SetQuery(param, w.Version)
		case create != "":
			return w.SetQuery(param, create)
		}
		return nil
	}
}

// Envelope returns a [Dialect] Decode for a document wrapped in a JSON
// envelope: the document is the member at the JSON Pointer doc (the text of
// a string, such as etcd's "/node/value", else the member's JSON, such as
// Elasticsearch's "/_source"), the version the member at version (a string
// as is, anything else as JSON, such as etcd's "/node/modifiedIndex"). A
// missing document member decodes as an empty document; a missing version
// member as no version. A body that is not JSON is an error; an invalid
// pointer (such as one without its leading "/") is an [ErrInvalidArgument]
// from [WithDialect], before any request.
func Envelope(doc, version string) func(h http.Header, body []byte) ([]byte, string, error) {
	dp, derr := jsonptr.Parse(doc)
	vp, verr := jsonptr.Parse(version)
	if err := errors.Join(derr, verr); err != nil {
		return badEnvelope(err)
	}
	return func(_ http.Header, body []byte) ([]byte, string, error) {
		tree, err := decodeJSON(body)
		if err != nil {
			return nil, "", err
		}
		var out []byte
		if v, ok := jsonptr.Lookup(tree, dp); ok {
			if s, isStr := v.(string); isStr {
				out = []byte(s)
			} else {
				out = mustRaw(v)
			}
		}
		ver := ""
		if v, ok := jsonptr.Lookup(tree, vp); ok && v != nil {
			ver = fieldString(v)
		}
		return out, ver, nil
	}
}

// badEnvelope is the Decode of an [Envelope] given an invalid pointer: it
// fails every answer with err. Every such Decode is one function literal's
// closure, which [WithDialect] recognises by its code, so that the error is
// reported when the Dialect is set, before any request, without calling a
// Decode of the caller's. It is never inlined, so that its closure has one
// code wherever it is called.
//
//go:noinline
func badEnvelope(err error) func(http.Header, []byte) ([]byte, string, error) {
	return func(http.Header, []byte) ([]byte, string, error) {
		return nil, "", fmt.Errorf("occ: Envelope: %w", err)
	}
}

// badEnvelopeCode is the code of badEnvelope's closures.
var badEnvelopeCode = reflect.ValueOf(badEnvelope(nil)).Pointer()

// checkDecode returns the error of an [Envelope] Decode given an invalid
// pointer, else nil.
func checkDecode(decode func(http.Header, []byte) ([]byte, string, error)) error {
	if decode == nil || reflect.ValueOf(decode).Pointer() != badEnvelopeCode {
		return nil
	}
	_, _, err := decode(nil, nil)
	return err
}

// decodedDoc builds a doc from an answer through the call's Dialect Decode.
func decodedDoc(url string, h http.Header, body []byte, s *settings) (*doc, error) {
	raw, version, err := s.dialect.Decode(h, body)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidDocument, err)
	}
	if raw == nil {
		raw = []byte{}
	}
	if !s.opaque && !json.Valid(raw) {
		_, err := decodeJSON(raw)
		return nil, fmt.Errorf("%w: decoded document: %w", ErrInvalidDocument, err)
	}
	d := headerDoc(url, h, raw, s)
	d.ctype, d.decoded, d.dialectVersion, d.opaque = h.Get("Content-Type"), true, version, s.opaque
	return d, nil
}

// specialDoc builds the doc of an answer when the call has a Dialect Decode
// or takes documents as bytes; ok is false when neither applies.
func specialDoc(url string, h http.Header, body []byte, s *settings) (d *doc, ok bool, err error) {
	switch {
	case s.dialect != nil && s.dialect.Decode != nil:
		d, err = decodedDoc(url, h, body, s)
		return d, true, err
	case s.opaque:
		d = headerDoc(url, h, body, s)
		d.ctype, d.opaque = h.Get("Content-Type"), true
		return d, true, nil
	}
	return nil, false, nil
}

// dialectConditions returns the precondition headers of a write over d,
// which has a version, when the call has a Dialect: none when its Encode
// conditions the write, else If-Match with the version.
func dialectConditions(d *doc, s *settings) http.Header {
	h := http.Header{}
	if s.dialect.Encode == nil {
		h.Set("If-Match", entityTag(d.version()))
	}
	return h
}

// entityTag returns v as an entity tag: as is when it already is one
// (strong "..." or weak W/"..."), else quoted.
func entityTag(v string) string {
	t := strings.TrimPrefix(v, "W/")
	if len(t) >= 2 && t[0] == '"' && t[len(t)-1] == '"' && !strings.Contains(t[1:len(t)-1], `"`) {
		return v
	}
	return `"` + v + `"`
}

// shape runs the call's Dialect Encode, if any, over the write w.
func shape(w WriteRequest, s *settings) (WriteRequest, error) {
	if s.dialect == nil || s.dialect.Encode == nil {
		return w, nil
	}
	if err := s.dialect.Encode(&w); err != nil {
		return WriteRequest{}, fmt.Errorf("occ: Dialect.Encode: %w", err)
	}
	// A copy: occ adds to the header, which Encode may share.
	w.Header = w.Header.Clone()
	if w.Header == nil {
		w.Header = http.Header{}
	}
	return w, nil
}

// createRequest returns the request of a create of body at url: PUT with
// If-None-Match: *, or POST (see [Create]), or what the call's Dialect
// Encode makes of it; always with an Idempotency-Key.
func createRequest(url string, body []byte, s *settings) (WriteRequest, error) {
	h := createHeaders(s)
	if s.createType != "" {
		h.Set("Content-Type", s.createType)
	}
	if s.dialect == nil || s.dialect.Encode == nil {
		return WriteRequest{Method: s.createMethod, URL: url, Header: h, Body: body}, nil
	}
	h.Del("If-None-Match") // Encode carries the precondition
	key := h.Get("Idempotency-Key")
	in := WriteRequest{Method: s.createMethod, URL: url, Header: h, Body: body}
	w, err := shape(WriteRequest{Method: in.Method, URL: url, Header: h.Clone(), Body: bytes.Clone(body)}, s)
	if err != nil {
		return w, err
	}
	if w.Method == http.MethodPut && !s.unconditional && !encodedPrecondition(in, w) {
		return WriteRequest{}, argError("Dialect.Encode", "a create PUT left with no precondition would replace an existing document: "+
			"Encode must make it create-only (If-None-Match: *, or a create value such as VersionQuery's), or the call needs WithUnconditional")
	}
	if w.Header.Get("Idempotency-Key") == "" {
		w.Header.Set("Idempotency-Key", key)
	}
	return w, nil
}

// encodedPrecondition reports whether a Dialect's Encode made something of
// the create in that out can carry a precondition: a header other than
// Content-Type, the URL or the body. A create Encode left as it was is
// unconditional.
func encodedPrecondition(in, out WriteRequest) bool {
	if out.URL != in.URL || !bytes.Equal(out.Body, in.Body) {
		return true
	}
	for k, v := range out.Header {
		if k != "Content-Type" && !slices.Equal(v, in.Header[k]) {
			return true
		}
	}
	return false
}

// createConflict corrects the kind of a refusal a Dialect's Decode read in
// a 2xx answer to a create (Consul's 200 false to cas=0): a create refused
// for its precondition means the document exists.
func createConflict(ce *ConflictError, s *settings) {
	if s.dialect != nil && s.dialect.Encode != nil && ce.Kind == KindVersion {
		ce.Kind = KindDuplicate
	}
}
